import { readFileSync } from 'node:fs';
import { Router } from '@koa/router';
import type { Context } from 'koa';
import { documentedMachines } from '../../docs/statecharts/machines.ts';
import { type MachineOutline, outlineOf } from '../../docs/statecharts/outline.ts';
import type { NodeId } from '../../domain/identity.ts';
import type { ConsensusSource } from './consensus-source.ts';

// The offline live view, served by the node at GET / of its API port: the page and its assets (plain
// browser JS and CSS in page/, no build step, nothing from the internet), the machines' outlines, the
// list of the network's nodes and this node's current machine states. The page then talks to every
// node's API directly (status, blocks, consensus, events), so the JSON routes here answer any origin.

/** One node of the network as the page reaches it. */
export interface NetworkNode {
  nodeId: NodeId;
  /** Base URL of its REST API as a browser reaches it, e.g. http://127.0.0.1:4001 */
  apiUrl: string;
}

export interface LiveViewOptions {
  /** This node's machine states (GET /consensus; /events feeds on it with forwardConsensusEvents). */
  consensus: ConsensusSource;
  /** Every node of the network, this one included, in the order the page shows them. */
  networkNodes: () => readonly NetworkNode[] | Promise<readonly NetworkNode[]>;
}

/** A machine as GET /statecharts.json describes it; `key` names its part of the consensus snapshot. */
export interface StatechartEntry {
  key: string;
  name: string;
  title: string;
  source: string;
  outline: MachineOutline;
}

/** The outlines of the documented machines, read from their definitions (never drawn by hand). */
export function statechartEntries(): StatechartEntry[] {
  return documentedMachines.map((doc) => {
    const outline = outlineOf(doc.machine);
    return { key: outline.id, name: doc.name, title: doc.title, source: doc.source, outline };
  });
}

const ASSETS: Readonly<Record<string, string>> = {
  'app.js': 'text/javascript; charset=utf-8',
  'node-panel.js': 'text/javascript; charset=utf-8',
  'statechart.js': 'text/javascript; charset=utf-8',
  'style.css': 'text/css; charset=utf-8',
};

function pageFile(name: string): string {
  return readFileSync(new URL(`./page/${name}`, import.meta.url), 'utf8');
}

/** Only the nodes' APIs may be reached from the page: scripts, styles and images come from here. */
function contentSecurityPolicy(nodes: readonly NetworkNode[]): string {
  const origins = new Set<string>();
  for (const node of nodes) {
    try {
      origins.add(new URL(node.apiUrl).origin);
    } catch {
      // A malformed URL is shown as unreachable by the page; it earns no exception here.
    }
  }
  return [
    "default-src 'none'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data:",
    `connect-src 'self' ${[...origins].join(' ')}`.trim(),
    "base-uri 'none'",
    "form-action 'none'",
  ].join('; ');
}

function json(ctx: Context, body: unknown): void {
  ctx.set('Access-Control-Allow-Origin', '*');
  ctx.set('Cache-Control', 'no-store');
  ctx.body = body;
}

export function liveViewRoutes(options: LiveViewOptions): Router {
  const index = pageFile('index.html');
  const assets = new Map(
    Object.entries(ASSETS).map(([name, type]) => [name, { type, body: pageFile(name) }]),
  );
  const statecharts = { machines: statechartEntries() };
  const router = new Router();

  router.get('/', async (ctx) => {
    ctx.set('Content-Security-Policy', contentSecurityPolicy(await options.networkNodes()));
    ctx.set('Cache-Control', 'no-cache');
    ctx.type = 'text/html; charset=utf-8';
    ctx.body = index;
  });

  router.get('/live-view/:file', (ctx) => {
    const asset = assets.get(ctx.params.file ?? '');
    if (asset === undefined) return;
    ctx.set('Cache-Control', 'no-cache');
    ctx.set('X-Content-Type-Options', 'nosniff');
    ctx.type = asset.type;
    ctx.body = asset.body;
  });

  router.get('/statecharts.json', (ctx) => json(ctx, statecharts));
  router.get('/network/nodes', async (ctx) => json(ctx, await options.networkNodes()));
  router.get('/consensus', (ctx) => json(ctx, options.consensus.snapshot()));
  return router;
}
