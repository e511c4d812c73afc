// The live view's routes over a real socket: what the page is served, what the JSON routes answer,
// and the consensus snapshot built from real machine actors.
import type { AddressInfo } from 'node:net';
import Koa from 'koa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createActor } from 'xstate';
import { CONSENSUS_MACHINES, type ConsensusSnapshot } from '../../adapters/live-view/consensus-snapshot.ts';
import { consensusSourceOf, forwardConsensusEvents } from '../../adapters/live-view/consensus-source.ts';
import { liveViewRoutes, type NetworkNode } from '../../adapters/live-view/live-view-routes.ts';
import { documentedMachines } from '../../docs/statecharts/machines.ts';
import { outlineOf } from '../../docs/statecharts/outline.ts';
import { NETWORK_ID, ScriptedNetwork } from './scripted-network.ts';

const network = new ScriptedNetwork(4);
const self = network.nodes[0]!;
const NODES: NetworkNode[] = [
  { nodeId: self.nodeId, apiUrl: 'http://127.0.0.1:4000' },
  { nodeId: network.nodes[1]!.nodeId, apiUrl: 'http://10.0.0.7:4001' },
];
let base = '';
let close: () => Promise<void> = async () => {};

beforeAll(async () => {
  const app = new Koa();
  app.use(liveViewRoutes({ consensus: self.consensus, networkNodes: async () => NODES }).routes());
  const server = app.listen(0, '127.0.0.1');
  await new Promise<void>((resolve) => server.once('listening', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  close = () => new Promise<void>((resolve) => server.close(() => resolve()));
});
afterAll(() => close());

/** Drains the scripted network until nothing is in flight. */
function settle(): void {
  while (network.step()) {
    // every delivery may queue more
  }
}

describe('live view routes', () => {
  it('GET /statecharts.json is the outline of each documented machine, generated from its definition', async () => {
    const response = await fetch(`${base}/statecharts.json`);
    expect(response.status).toBe(200);
    const body = (await response.json()) as { machines: { key: string; name: string; outline: unknown }[] };
    expect(body.machines.map((m) => m.name)).toEqual(documentedMachines.map((d) => d.name));
    for (const [i, doc] of documentedMachines.entries()) {
      expect(body.machines[i]!.outline).toEqual(JSON.parse(JSON.stringify(outlineOf(doc.machine))));
    }
    // Each chart finds its machine's part of a consensus snapshot under its key.
    expect(body.machines.map((m) => m.key).sort()).toEqual([...CONSENSUS_MACHINES].sort());
  });

  it('the JSON routes answer any origin, because panels read other nodes directly', async () => {
    for (const path of ['/statecharts.json', '/network/nodes', '/consensus']) {
      const response = await fetch(`${base}${path}`, { headers: { Origin: 'http://127.0.0.1:4003' } });
      expect(response.status, path).toBe(200);
      expect(response.headers.get('access-control-allow-origin'), path).toBe('*');
    }
    expect(await (await fetch(`${base}/network/nodes`)).json()).toEqual(NODES);
  });

  it('GET / serves the page with a policy that lets it reach only this node and the network APIs', async () => {
    const response = await fetch(`${base}/`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('text/html; charset=utf-8');
    const policy = response.headers.get('content-security-policy') ?? '';
    expect(policy).toContain("default-src 'none'");
    expect(policy).toContain("script-src 'self'");
    expect(policy).toContain("connect-src 'self' http://127.0.0.1:4000 http://10.0.0.7:4001");
  });

  it('serves every asset the page names, from this node, and nothing that points elsewhere', async () => {
    const page = await (await fetch(`${base}/`)).text();
    const named = [...page.matchAll(/(?:src|href)="([^"]+)"/g)].map((m) => m[1]!);
    expect(named).toEqual(['data:,', '/live-view/style.css', '/live-view/app.js']);
    const scripts = ['app.js', 'node-panel.js', 'statechart.js'];
    for (const file of [...scripts, 'style.css']) {
      const asset = await fetch(`${base}/live-view/${file}`);
      expect(asset.status, file).toBe(200);
      // The SVG namespace is a name, not an address: the browser never fetches it.
      const text = (await asset.text()).replaceAll("'http://www.w3.org/2000/svg'", 'SVG_NS');
      // No CDN, no web font, no absolute URL of any kind: the view works with no network at all.
      expect(text, file).not.toMatch(/https?:\/\/|@import|url\(\s*["']?(?!#)/);
      for (const imported of text.matchAll(/from '\.\/([\w-]+\.js)'/g))
        expect(scripts).toContain(imported[1]);
    }
    expect((await fetch(`${base}/live-view/app.js`)).headers.get('content-type')).toBe(
      'text/javascript; charset=utf-8',
    );
  });

  it('an asset that is not on the list is not served', async () => {
    for (const path of ['/live-view/index.html', '/live-view/..%2Flive-view-routes.ts', '/live-view/']) {
      expect((await fetch(`${base}${path}`)).status, path).toBe(404);
    }
  });

  it('GET /consensus gives each machine its XState state value, nested states as objects', async () => {
    const initial = (await (await fetch(`${base}/consensus`)).json()) as ConsensusSnapshot;
    expect(initial).toMatchObject({
      nodeId: self.nodeId,
      election: { state: 'follower', term: 0, leader: null },
      pbft: { state: 'idle', height: 1, round: 0, step: 'idle' },
      batching: { state: 'leaderless', pool: 0 },
      sync: { state: 'idle', height: 0, target: 0 },
    });
    network.startSync();
    network.electionTimeout(self);
    settle();
    network.submitTxs(self, 2);
    // Deliver until this node's PBFT round is under way, then look at it mid-round.
    while (typeof self.actors.pbft.getSnapshot().value === 'string') network.step();
    const midRound = (await (await fetch(`${base}/consensus`)).json()) as ConsensusSnapshot;
    expect(midRound.pbft.state).toEqual(self.actors.pbft.getSnapshot().value);
    expect(midRound.pbft.state).toEqual({ round: 'propose' });
    expect(midRound.pbft.step).toBe('propose');
    expect(midRound).toMatchObject({
      election: { state: 'leader', term: 1, leader: self.nodeId },
      batching: { state: { leading: 'collecting' }, pool: 2 },
      sync: { state: 'synced' },
    });
    settle();
    const committed = (await (await fetch(`${base}/consensus`)).json()) as ConsensusSnapshot;
    expect(committed.pbft).toMatchObject({ state: 'idle', height: 2, round: 0 });
    expect(committed.batching).toEqual({ state: { leading: 'idle' }, pool: 0 });
    expect(self.chain.map((b) => b.height)).toEqual([0, 1]);
  });

  it('a PBFT lock shows in the snapshot while the node is locked on a block', () => {
    const node = new ScriptedNetwork(4).nodes;
    const source = consensusSourceOf(node[0]!.nodeId, {
      ...node[0]!.actors,
      pbft: createActor(node[0]!.actors.pbft.logic, {
        input: {
          self: node[0]!.nodeId,
          networkId: 'n',
          validators: node.map((n) => n.nodeId),
          height: 3,
          restored: {
            height: 3,
            round: 1,
            lastSigned: 'precommit',
            lockedRound: 1,
            lockedBlockHash: 'ab'.repeat(32),
            validRound: 1,
            validBlockHash: 'ab'.repeat(32),
          },
        },
      }).start(),
    });
    expect(source.snapshot().pbft).toEqual({
      state: { round: 'precommit' },
      height: 3,
      round: 1,
      step: 'precommit',
      locked: { round: 1, blockHash: 'ab'.repeat(32) },
    });
  });

  it('a consensus listener hears every change once, and nothing when only hidden context changed', () => {
    const run = new ScriptedNetwork(4);
    const [a] = run.nodes;
    const heard: ConsensusSnapshot[] = [];
    const frames: string[] = [];
    const stopListening = a!.consensus.subscribe((snapshot) => heard.push(snapshot));
    const stopForwarding = forwardConsensusEvents(a!.consensus, (frame) => frames.push(frame));
    // Connecting gets the state the node is in at once.
    expect(frames).toEqual([`event: consensus\ndata: ${JSON.stringify(a!.consensus.snapshot())}\n\n`]);
    // An early PreVote is kept in the PBFT log (context) but changes nothing the view shows.
    a!.actors.pbft.send({
      type: 'VOTE',
      vote: {
        type: 'prevote',
        networkId: NETWORK_ID,
        height: 1,
        round: 0,
        blockHash: null,
        voter: run.nodes[1]!.nodeId,
        signature: 'stand-in',
      },
    });
    expect(heard).toEqual([]);
    run.startSync();
    while (run.step()) {
      // SYNC_START then STATUS_TIMEOUT on each node
    }
    expect(heard.map((s) => s.sync.state)).toEqual(['comparing', 'synced']);
    expect(frames).toHaveLength(3);
    stopListening();
    stopForwarding();
    run.submitTxs(a!, 1);
    run.electionTimeout(a!);
    while (run.step()) {
      // nobody listens any more
    }
    expect(heard).toHaveLength(2);
    expect(frames).toHaveLength(3);
  });
});
