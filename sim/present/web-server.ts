import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { statechartEntries } from '../../adapters/live-view/live-view-routes.ts';
import type { NodeView } from './node-views.ts';
import { nodeViewsByStep, type PresentedRun } from './run.ts';
import type { SimStep } from './steps.ts';
import {
  isNotable,
  layoutOf,
  stepLines,
  summaryLines,
  type TextLayout,
  TextPainter,
  watchesMachines,
} from './text.ts';

// `itchain sim --web`: the run, served on 127.0.0.1 as a small page with play / step / pause. The
// run is already computed; the page asks for it step by step. Every asset is served from here — the
// page (sim/present/page/) and, for the statecharts, the live view's own drawing code and stylesheet
// (adapters/live-view/page/statechart.js and style.css, served as they are) — so nothing comes from
// the internet.
//
//   GET /                      the page
//   GET /sim/<file>            sim-view.js, sim-view.css
//   GET /live-view/<file>      statechart.js, style.css (from adapters/live-view/page/)
//   GET /statecharts.json      the four machines' outlines, as the live view serves them
//   GET /run                   scenario, seed, node names, step count, summary lines, replay command
//   GET /steps/<i>             the i-th step (0-based): events, text lines, every node after it
//   GET /steps?from=i&limit=n  steps i … i+n-1 (n ≤ 500)

export interface RunServer {
  url: string;
  close(): Promise<void>;
}

export interface ServeOptions {
  port: number;
  replay: string;
}

/** A step as the page gets it. */
export interface WebStep extends SimStep {
  index: number;
  /** Whether it changes something (brief mode shows it). */
  notable: boolean;
  /** The step as the terminal prints it (no colour). */
  lines: string[];
  nodes: NodeView[];
}

const MAX_PAGE = 500;

const PAGE_FILES: Readonly<Record<string, string>> = {
  'sim-view.js': 'text/javascript; charset=utf-8',
  'sim-view.css': 'text/css; charset=utf-8',
};
const LIVE_VIEW_FILES: Readonly<Record<string, string>> = {
  'statechart.js': 'text/javascript; charset=utf-8',
  'style.css': 'text/css; charset=utf-8',
};

const CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
].join('; ');

function readAssets(
  folder: URL,
  files: Readonly<Record<string, string>>,
): Map<string, { type: string; body: string }> {
  return new Map(
    Object.entries(files).map(([name, type]) => [
      name,
      { type, body: readFileSync(new URL(name, folder), 'utf8') },
    ]),
  );
}

class RunSite {
  private readonly views: NodeView[][];
  private readonly layout: TextLayout;
  private readonly painter = new TextPainter(false);
  private readonly roles: boolean;
  private readonly index = readFileSync(new URL('./page/index.html', import.meta.url), 'utf8');
  private readonly pageAssets = readAssets(new URL('./page/', import.meta.url), PAGE_FILES);
  private readonly liveViewAssets = readAssets(
    new URL('../../adapters/live-view/page/', import.meta.url),
    LIVE_VIEW_FILES,
  );
  private readonly statecharts = JSON.stringify({ machines: statechartEntries() });
  private readonly overview: string;

  constructor(
    private readonly run: PresentedRun,
    replay: string,
  ) {
    this.views = nodeViewsByStep(run);
    this.layout = layoutOf(run);
    this.roles = !watchesMachines(run);
    const s = run.scenario;
    this.overview = JSON.stringify({
      scenario: s.name,
      description: s.description,
      seed: run.seed,
      wiring: run.result.wiring,
      nodes: run.nodeNames.map((name, i) => ({
        name,
        honest: !s.byzantine.some((b) => b.node === i),
      })),
      steps: run.steps.length,
      virtualTimeMs: run.result.virtualTimeMs,
      violations: run.result.violations.map((v) => `${v.invariant} at step ${v.step}: ${v.message}`),
      summary: summaryLines(run, this.painter, replay).filter((line) => line !== ''),
      replay,
    });
  }

  webStep(i: number): WebStep {
    const step = this.run.steps[i]!;
    return {
      index: i,
      ...step,
      notable: step.events.some(isNotable),
      lines: stepLines(step, this.layout, this.painter, { brief: false, roles: this.roles }),
      nodes: this.views[i]!,
    };
  }

  handle(req: IncomingMessage, res: ServerResponse): void {
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { Allow: 'GET, HEAD' }).end();
      return;
    }
    const { status, type, body } = this.answer(new URL(req.url ?? '/', 'http://127.0.0.1'));
    res.writeHead(status, {
      'Content-Type': type,
      'Cache-Control': 'no-store',
      'X-Content-Type-Options': 'nosniff',
      'Content-Security-Policy': CSP,
    });
    res.end(req.method === 'HEAD' ? undefined : body);
  }

  private answer(url: URL): Answer {
    const path = url.pathname;
    if (path === '/') return { status: 200, type: 'text/html; charset=utf-8', body: this.index };
    const asset =
      (path.startsWith('/sim/') && this.pageAssets.get(path.slice('/sim/'.length))) ||
      (path.startsWith('/live-view/') && this.liveViewAssets.get(path.slice('/live-view/'.length)));
    if (asset) return { status: 200, ...asset };
    if (path === '/statecharts.json') return json(this.statecharts);
    if (path === '/run') return json(this.overview);
    const one = /^\/steps\/(\d+)$/.exec(path);
    if (one) {
      const i = Number(one[1]);
      if (i >= this.run.steps.length) {
        return failure(404, 'not_found', `no step ${i}: the run has ${this.run.steps.length}`);
      }
      return json(this.webStep(i));
    }
    if (path === '/steps') {
      const from = Number(url.searchParams.get('from') ?? '0');
      const limit = Number(url.searchParams.get('limit') ?? '100');
      if (!Number.isSafeInteger(from) || from < 0 || !Number.isSafeInteger(limit) || limit < 1) {
        return failure(400, 'bad_request', 'from ≥ 0 and limit ≥ 1 are whole numbers');
      }
      const to = Math.min(this.run.steps.length, from + Math.min(limit, MAX_PAGE));
      const steps: WebStep[] = [];
      for (let i = from; i < to; i++) steps.push(this.webStep(i));
      return json({ from, total: this.run.steps.length, steps });
    }
    return failure(404, 'not_found', `nothing at ${path}`);
  }
}

interface Answer {
  status: number;
  type: string;
  body: string;
}

function json(body: unknown): Answer {
  return {
    status: 200,
    type: 'application/json; charset=utf-8',
    body: typeof body === 'string' ? body : JSON.stringify(body),
  };
}

function failure(status: number, code: string, message: string): Answer {
  return { ...json({ error: { code, message } }), status };
}

/** Serves the run on 127.0.0.1 (`port` 0: any free port) until `close()`. */
export async function serveRun(run: PresentedRun, options: ServeOptions): Promise<RunServer> {
  const site = new RunSite(run, options.replay);
  const server = createServer((req, res) => {
    try {
      site.handle(req, res);
    } catch (err) {
      res.writeHead(500, { 'Content-Type': 'text/plain; charset=utf-8' });
      res.end(err instanceof Error ? err.message : String(err));
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
