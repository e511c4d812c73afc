import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Block } from '../../domain/block.ts';
import { dumpLogsOnFailure, eventually, sleep, TestNetwork } from '../support/network.ts';
import { auditChains, countAcknowledged, settledHeight } from './support/chain-audit.ts';
import { TxStream } from './support/tx-stream.ts';

// Faults under a steady load of real txs, on 4 real node processes: the leader crashes (SIGKILL) and
// comes back, the next leader is cut off (SIGSTOP) and healed (SIGCONT), a node crashes holding txs
// it acknowledged but could not pass on (they are journaled: actors/components/tx-journal.ts).
// Through all of it the API keeps acknowledging txs with 202, and at the end every node holds the
// same chain and every acknowledged tx is in it exactly once.

/** Ports 20500… (API) and 21500… (gRPC): this file's share of the e2e range (test/support/network.ts). */
const BASE = 20500;

let net: TestNetwork | undefined;
let stream: TxStream | undefined;
const paused = new Set<number>();
/** Txs acknowledged outside the stream (the journal test). */
const promised: string[] = [];
const network = (): TestNetwork => {
  if (!net) throw new Error('the network did not start');
  return net;
};
const load = (): TxStream => {
  if (!stream) throw new Error('the load did not start');
  return stream;
};

beforeAll(async () => {
  net = await TestNetwork.create({ basePort: BASE });
  await net.startAll();
  const n = net;
  // 100 tx/s in batches of 5, to the nodes that run and are not frozen.
  stream = new TxStream(n, {
    perSecond: 100,
    perBatch: 5,
    prefix: 'faults',
    nodes: () => n.running().filter((i) => !paused.has(i)),
  });
  stream.start();
});

afterAll(async () => {
  for (const i of paused) net?.resume(i);
  await stream?.stop();
  await net?.dispose();
});

async function leaderIndex(n: TestNetwork, nodes: number[]): Promise<number> {
  return n.indexOf(await eventually('one leader', () => n.leader(nodes), 20_000));
}

/** Polls node i's latest block every few ms until `done` holds for it; resolves with the time it did. */
async function whenLatest(n: TestNetwork, i: number, done: (block: Block) => boolean): Promise<number> {
  for (;;) {
    const answer = await n.get<Block>(i, '/blocks/latest').catch(() => undefined);
    if (answer?.status === 200 && done(answer.body)) return Date.now();
    await sleep(10);
  }
}

describe('faults under load', () => {
  it('SIGKILL of the leader: the survivors commit a block of a new proposer within 2 s', async () => {
    dumpLogsOnFailure(() => net);
    const n = network();
    await n.waitHeight(5, [0, 1, 2, 3]);
    const leader = await leaderIndex(n, [0, 1, 2, 3]);
    const leaderId = n.nodeId(leader);
    const survivors = [0, 1, 2, 3].filter((i) => i !== leader);
    const before = Math.max(...(await Promise.all(survivors.map(async (i) => (await n.status(i)).height))));

    const killedAt = Date.now();
    await n.kill(leader);
    const resumed = await Promise.all(
      survivors.map((i) => whenLatest(n, i, (b) => b.height > before && b.creator !== leaderId)),
    );
    const failoverMs = Math.max(...resumed) - killedAt;
    process.stdout.write(
      `faults: leader SIGKILL → first commit by a new proposer on all survivors: ${failoverMs} ms\n`,
    );
    expect(failoverMs).toBeLessThan(2_000);
    const newLeader = await leaderIndex(n, survivors);
    expect(newLeader).not.toBe(leader);
  });

  it('the killed node restarts from its home and catches up with the network while the load goes on', async () => {
    dumpLogsOnFailure(() => net);
    const n = network();
    const crashed = [0, 1, 2, 3].find((i) => !n.isRunning(i));
    expect(crashed).toBeDefined();
    const restartedAt = Date.now();
    await n.start(crashed!);
    const top = (await n.status((crashed! + 1) % 4)).height;
    await n.waitHeight(top, [crashed!], 30_000);
    process.stdout.write(
      `faults: the restarted node reached height ${top} ${Date.now() - restartedAt} ms after its start\n`,
    );
  });

  it('a leader cut off by SIGSTOP is replaced, and once healed (SIGCONT) it catches up', async () => {
    dumpLogsOnFailure(() => net);
    const n = network();
    const leader = await leaderIndex(n, [0, 1, 2, 3]);
    const others = [0, 1, 2, 3].filter((i) => i !== leader);
    paused.add(leader);
    n.pause(leader);
    try {
      const frozenAt = (await n.status(others[0]!)).height;
      // The others go on without it: a new leader, new blocks.
      await n.waitHeight(frozenAt + 10, others, 20_000);
      expect(await leaderIndex(n, others)).not.toBe(leader);
      await sleep(1_000);
    } finally {
      n.resume(leader);
      paused.delete(leader);
    }
    const healedAt = Date.now();
    const top = (await n.status(others[0]!)).height;
    await n.waitHeight(top, [leader], 20_000);
    process.stdout.write(
      `faults: the healed node caught up with height ${top} in ${Date.now() - healedAt} ms\n`,
    );
  });

  it('txs acknowledged by a node that crashes before passing them on are back in its pool after the restart (journal)', async () => {
    dumpLogsOnFailure(() => net);
    const n = network();
    // With the three others frozen nothing can commit, so the acknowledged txs are only promises.
    const node = 1;
    const others = [0, 2, 3];
    paused.add(node);
    for (const i of others) {
      paused.add(i);
      n.pause(i);
    }
    try {
      const ids = await Promise.all([0, 1, 2].map((k) => n.submit(node, 'kv', 'put', [`promised-${k}`, k])));
      promised.push(...ids);
      await n.kill(node);
      await n.start(node);
      const line = await eventually('the restarted node to take its journal back', () =>
        n
          .logs(node)
          .split('\n')
          .find((l) => l.includes('acknowledged txs from before the restart are back in the pool')),
      );
      // These three, and whatever the stream had it acknowledge that had not committed yet.
      expect(JSON.parse(line).resubmitted).toBeGreaterThanOrEqual(ids.length);
    } finally {
      for (const i of others) n.resume(i);
      paused.clear();
    }
    await Promise.all(promised.map((id) => n.waitCommitted(id, [0, 1, 2, 3], 30_000)));
  });

  it('every tx acknowledged with 202 is committed exactly once, and all nodes hold the same chain', async () => {
    dumpLogsOnFailure(() => net);
    const n = network();
    await sleep(1_000);
    await load().stop();
    const acked = [...load().acked, ...promised];
    // Until every acknowledged tx is in the chain the nodes agree on (the pools drain after the load).
    const audited = await eventually(
      'every acknowledged tx committed',
      async () => {
        const top = await settledHeight(() =>
          Promise.all([0, 1, 2, 3].map(async (i) => (await n.status(i)).height)),
        );
        const audit = await auditChains(
          [0, 1, 2, 3].map((i) => ({ name: `node${i}`, chain: (h: number) => n.chain(i, h) })),
          top,
        );
        const count = countAcknowledged(acked, audit.chain);
        if (audit.diverged.length > 0 || count.duplicated.length > 0) return { top, audit, count };
        if (count.missing.length > 0) {
          throw new Error(`${count.missing.length} of ${acked.length} still missing at height ${top}`);
        }
        return { top, audit, count };
      },
      60_000,
      1_000,
    );
    const { top, audit, count } = audited;
    expect(audit.diverged).toEqual([]);
    process.stdout.write(
      `faults: ${acked.length} txs acknowledged, ${count.committed} committed in ${top} blocks; ` +
        `missing ${count.missing.length}, duplicated ${count.duplicated.length}\n`,
    );
    expect(count.duplicated).toEqual([]);
    expect(count.missing).toEqual([]);
  });
});
