// A stand-in for a node's API port in the live view's tests: a real Koa server on 127.0.0.1 with the
// real live-view routes, plus minimal /status, /blocks and /events answering from a ScriptedNode in the
// shapes of SPEC §6 and adapters/api (blocks as stored; /events sends `status` on connect, then
// `block` (header and txCount), `leader` and `consensus`). Like the real API it answers any origin,
// because the page reads every node's API directly.
import type { AddressInfo } from 'node:net';
import { PassThrough } from 'node:stream';
import { Router } from '@koa/router';
import Koa, { type Context } from 'koa';
import { forwardConsensusEvents } from '../../adapters/live-view/consensus-source.ts';
import { liveViewRoutes, type NetworkNode } from '../../adapters/live-view/live-view-routes.ts';
import type { Block } from '../../domain/block.ts';
import { NETWORK_ID, type ScriptedNode } from './scripted-network.ts';

export interface StandInNode {
  readonly apiUrl: string;
  close(): Promise<void>;
}

function statusOf(node: ScriptedNode) {
  const snapshot = node.consensus.snapshot();
  const tip = node.chain[node.chain.length - 1]!;
  const { election, pbft, batching } = snapshot;
  const role = election.state === 'leader' ? 'leader' : election.leader !== null ? 'follower' : 'electing';
  return {
    nodeId: node.nodeId,
    networkId: NETWORK_ID,
    role,
    leader: election.leader,
    term: election.term,
    height: tip.height,
    lastSeal: tip.seal,
    peers: [],
    round: { height: pbft.height, round: pbft.round },
    poolSize: batching.pool,
    sync: null,
  };
}

function frame(event: string, data: unknown): string {
  return `event: ${event}\ndata: ${JSON.stringify(data)}\n\n`;
}

function openEvents(ctx: Context, node: ScriptedNode, streams: Set<PassThrough>): void {
  const kinds = new Set(String(ctx.query.kinds ?? 'block,leader,consensus').split(','));
  ctx.req.socket.setTimeout(0);
  ctx.status = 200;
  ctx.type = 'text/event-stream';
  ctx.set('Cache-Control', 'no-cache');
  const stream = new PassThrough();
  streams.add(stream);
  stream.write(`retry: 500\n${frame('status', statusOf(node))}`);
  const onBlock = (block: Block) => {
    const { txs, ...header } = block;
    if (kinds.has('block')) stream.write(frame('block', { ...header, txCount: txs.length }));
  };
  const onLeader = (leader: { leader: string; term: number }) => {
    if (kinds.has('leader')) stream.write(frame('leader', leader));
  };
  node.onBlock.add(onBlock);
  node.onLeader.add(onLeader);
  const stop = kinds.has('consensus')
    ? forwardConsensusEvents(node.consensus, (f) => stream.write(f))
    : () => {};
  const forget = () => {
    node.onBlock.delete(onBlock);
    node.onLeader.delete(onLeader);
    stop();
    streams.delete(stream);
    stream.end();
  };
  ctx.req.on('close', forget);
  stream.on('close', forget);
  ctx.body = stream;
}

/** Starts one stand-in node; `networkNodes` is asked when the page wants the network's nodes. */
export async function startStandInNode(
  node: ScriptedNode,
  networkNodes: () => readonly NetworkNode[],
): Promise<StandInNode> {
  const app = new Koa();
  app.silent = true;
  const streams = new Set<PassThrough>();
  const api = new Router();
  api.use(async (ctx, next) => {
    ctx.set('Access-Control-Allow-Origin', '*');
    await next();
  });
  api.get('/status', (ctx) => {
    ctx.body = statusOf(node);
  });
  api.get('/blocks/latest', (ctx) => {
    ctx.body = node.chain[node.chain.length - 1];
  });
  api.get('/blocks', (ctx) => {
    const limit = Number(ctx.query.limit ?? 20);
    ctx.body = node.chain.slice(-limit);
  });
  api.get('/events', (ctx) => openEvents(ctx, node, streams));

  app.use(liveViewRoutes({ consensus: node.consensus, networkNodes }).routes());
  app.use(api.routes());
  const server = app.listen(0, '127.0.0.1');
  await new Promise<void>((resolve, reject) => {
    server.once('listening', resolve);
    server.once('error', reject);
  });
  const { port } = server.address() as AddressInfo;
  return {
    apiUrl: `http://127.0.0.1:${port}`,
    close: async () => {
      for (const stream of streams) stream.end();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
