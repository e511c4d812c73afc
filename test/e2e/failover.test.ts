import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dumpLogsOnFailure, eventually, PORTS, sleep, TestNetwork } from '../support/network.ts';

// Crashes and restarts of real node processes: SIGKILL of the leader, a restart from the same home,
// and a clean stop (SIGTERM) that keeps the data.

let net: TestNetwork | undefined;
const network = (): TestNetwork => {
  if (!net) throw new Error('the network did not start');
  return net;
};
/** Every tx the API acknowledged with 202, by the node that took it. */
const acknowledged: { id: string; via: number }[] = [];

beforeAll(async () => {
  net = await TestNetwork.create({ basePort: PORTS.failover });
  await net.startAll();
});

afterAll(async () => {
  await net?.dispose();
});

async function submitTracked(via: number, key: string, value: unknown): Promise<string> {
  const id = await network().submit(via, 'kv', 'put', [key, value]);
  acknowledged.push({ id, via });
  return id;
}

describe('leader crash', () => {
  it('SIGKILL of the leader: a new leader is elected and commits resume within 2 s', async () => {
    dumpLogsOnFailure(() => net);
    const n = network();
    const first = await submitTracked(0, 'before', 1);
    await n.waitCommitted(first, [0, 1, 2, 3]);
    const leaderId = await eventually('one leader', () => n.leader([0, 1, 2, 3]));
    const leader = n.indexOf(leaderId);
    const survivors = [0, 1, 2, 3].filter((i) => i !== leader);

    await n.kill(leader);
    const killedAt = Date.now();
    // A tx arrives at a survivor right after the crash; it must commit on every survivor, fast.
    const id = await submitTracked(survivors[0]!, 'after-crash', 2);
    await n.waitCommitted(id, survivors, 10_000);
    const resumedMs = Date.now() - killedAt;
    process.stdout.write(
      `failover: leader SIGKILL → a new tx committed on all survivors in ${resumedMs} ms\n`,
    );
    expect(resumedMs).toBeLessThan(2_000);

    const newLeader = await eventually('a new leader', () => n.leader(survivors));
    expect(newLeader).not.toBe(leaderId);
    // Commits go on: more txs through every survivor.
    const more = await Promise.all(survivors.map((i, k) => submitTracked(i, `survivor-${k}`, k)));
    await Promise.all(more.map((tx) => n.waitCommitted(tx, survivors)));
  });

  it('the crashed node restarts from its home, syncs, and nothing acknowledged is lost', async () => {
    dumpLogsOnFailure(() => net);
    const n = network();
    const crashed = [0, 1, 2, 3].find((i) => !n.isRunning(i));
    expect(crashed).toBeDefined();
    await n.start(crashed!);
    const id = await submitTracked(crashed!, 'after-restart', 3);
    await n.waitCommitted(id, [0, 1, 2, 3]);
    for (const tx of acknowledged) await n.waitCommitted(tx.id, [0, 1, 2, 3]);

    const top = Math.max(...(await Promise.all([0, 1, 2, 3].map(async (i) => (await n.status(i)).height))));
    await n.waitHeight(top, [0, 1, 2, 3]);
    const chains = await Promise.all([0, 1, 2, 3].map((i) => n.chain(i, top)));
    for (const chain of chains.slice(1))
      expect(chain.map((b) => b.seal)).toEqual(chains[0]!.map((b) => b.seal));
    const txIds = chains[0]!.flatMap((block) => block.txs.map((tx) => tx.id));
    expect(new Set(txIds).size).toBe(txIds.length);
    for (const tx of acknowledged) expect(txIds).toContain(tx.id);
  });
});

describe('clean stop', () => {
  it('SIGTERM stops a node with exit code 0, and it comes back with its chain and state', async () => {
    dumpLogsOnFailure(() => net);
    const n = network();
    const id = await submitTracked(2, 'kept', 'across restarts');
    await n.waitCommitted(id, [0, 1, 2, 3]);
    const before = await n.status(2);

    const started = Date.now();
    expect(await n.stop(2)).toBe(0);
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(n.logs(2)).toContain('"msg":"stopped"');

    await n.start(2);
    const after = await n.status(2);
    expect(after.height).toBeGreaterThanOrEqual(before.height);
    expect((await n.tx(2, id))?.status).toBe('committed');
    const read = await n.post<{ result: unknown }>(2, '/icodes/kv/query', {
      function: 'get',
      args: ['kept'],
    });
    expect(read.body.result).toBe('across restarts');
    // And it takes part again.
    await sleep(200);
    const again = await submitTracked(2, 'after-clean-restart', 4);
    await n.waitCommitted(again, [0, 1, 2, 3]);
  });
});
