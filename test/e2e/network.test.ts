import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dumpLogsOnFailure, eventually, PORTS, TestNetwork } from '../support/network.ts';

// A 4-node network of real `itchain start` processes on loopback, used through the REST API only.

let net: TestNetwork | undefined;
const network = (): TestNetwork => {
  if (!net) throw new Error('the network did not start');
  return net;
};

beforeAll(async () => {
  net = await TestNetwork.create({ basePort: PORTS.network });
  await net.startAll();
});

afterAll(async () => {
  await net?.dispose();
});

describe('a 4-node network', () => {
  it('commits a tx submitted to any node, and every node reports it committed at the same height', async () => {
    dumpLogsOnFailure(() => net);
    const n = network();
    const ids = await Promise.all(
      [0, 1, 2, 3].map((i) => n.submit(i, 'kv', 'put', [`key-${i}`, { from: `node${i}` }])),
    );
    for (const id of ids) {
      const views = await n.waitCommitted(id, [0, 1, 2, 3]);
      const heights = new Set(views.map((v) => v.height));
      expect(heights.size).toBe(1);
      expect(views.every((v) => v.result === null)).toBe(true);
    }
    // What a committed put wrote is what a query reads, on every node.
    for (const i of [0, 1, 2, 3]) {
      const answer = await n.post<{ result: unknown }>(i, '/icodes/kv/query', {
        function: 'get',
        args: ['key-2'],
      });
      expect(answer).toEqual({ status: 200, body: { result: { from: 'node2' } } });
    }
  });

  it('runs a get in a block against the state the earlier txs left, with the same receipt everywhere', async () => {
    dumpLogsOnFailure(() => net);
    const n = network();
    const put = await n.submit(3, 'kv', 'put', ['greeting', 'hello']);
    await n.waitCommitted(put, [0, 1, 2, 3]);
    const get = await n.submit(0, 'kv', 'get', ['greeting']);
    const views = await n.waitCommitted(get, [0, 1, 2, 3]);
    expect(views.map((v) => v.result)).toEqual(['hello', 'hello', 'hello', 'hello']);
    const bad = await n.submit(1, 'kv', 'nope', []);
    const failed = await n.waitCommitted(bad, [0, 1, 2, 3]);
    expect(failed.map((v) => v.error?.code)).toEqual(Array(4).fill('no-such-function'));
  });

  it('commits a burst of txs spread over all nodes exactly once, and all nodes end with identical chains', async () => {
    dumpLogsOnFailure(() => net);
    const n = network();
    const submitted = await Promise.all(
      Array.from({ length: 200 }, (_, k) => n.submit(k % 4, 'kv', 'put', [`burst-${k}`, k])),
    );
    await Promise.all(submitted.map((id) => n.waitCommitted(id, [0, 1, 2, 3], 30_000)));

    const statuses = await Promise.all([0, 1, 2, 3].map((i) => n.status(i)));
    const top = Math.max(...statuses.map((s) => s.height));
    await n.waitHeight(top, [0, 1, 2, 3]);
    const chains = await Promise.all([0, 1, 2, 3].map((i) => n.chain(i, top)));
    const seals = chains.map((chain) => chain.map((block) => block.seal));
    expect(seals[0]).toHaveLength(top + 1);
    for (const other of seals.slice(1)) expect(other).toEqual(seals[0]);
    // Linked, and every acknowledged tx is in exactly one block.
    chains[0]!.forEach((block, h) => {
      expect(block.height).toBe(h);
      if (h > 0) expect(block.prevSeal).toBe(chains[0]![h - 1]!.seal);
    });
    const txIds = chains[0]!.flatMap((block) => block.txs.map((tx) => tx.id));
    expect(new Set(txIds).size).toBe(txIds.length);
    for (const id of submitted) expect(txIds).toContain(id);
  });

  it('agrees on one leader, and every node is connected to the three others', async () => {
    const n = network();
    const leader = await eventually('one leader', () => n.leader([0, 1, 2, 3]));
    expect(n.testnet.nodes.map((node) => node.nodeId)).toContain(leader);
    for (const i of [0, 1, 2, 3]) {
      const status = await n.status(i);
      expect(status.peers.map((p) => p.id).sort()).toEqual(
        n.testnet.nodes
          .filter((node) => node.index !== i)
          .map((node) => node.nodeId)
          .sort(),
      );
    }
  });
});
