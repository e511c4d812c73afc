import { afterEach, describe, expect, it } from 'vitest';
import type { Block } from '../../domain/block.ts';
import { ApiHarness, waitFor } from './support/api-harness.ts';

// The read model is built from bus events only and kept in its own LevelDB: it survives a restart,
// catches up by asking for a replay of what it missed, and applies blocks strictly in height order.

describe('API read model (core stand-in as the Blockchain answering replays)', () => {
  let api: ApiHarness | undefined;
  afterEach(async () => {
    await api?.close();
    api = undefined;
  });

  const heights = async (h: ApiHarness) =>
    ((await h.get('/blocks?from=0&limit=1000')).json as Block[]).map((b) => b.height);

  it('survives a restart and catches up by replay on blocks committed while it was down', async () => {
    api = await ApiHarness.start();
    const { id } = (await api.post('/transactions', { icodeId: 'kv', function: 'put', args: ['r', 1] }))
      .json as {
      id: string;
    };
    await api.core.commitPending();
    await api.settled(id);
    const before = api.core.height;

    await api.gateway.close();
    for (let i = 0; i < 4; i++) api.core.commitUnannounced();
    api.core.replayRequests.length = 0;

    await api.startGateway();
    expect(((await api.get('/status')).json as { height: number }).height).toBeGreaterThanOrEqual(before);
    await api.gateway.readModel.caughtUp;
    // Restored from its own disk: it asked only for what came after.
    expect(api.core.replayRequests).toEqual([before + 1]);

    expect((await api.get('/blocks/latest')).json).toEqual(api.core.chain[api.core.height]!.block);
    expect(await heights(api)).toEqual(Array.from({ length: api.core.height + 1 }, (_, h) => h));
    expect((await api.get(`/transactions/${id}`)).json).toMatchObject({
      status: 'committed',
      height: before,
    });
    const replayed = api.core.chain[before + 1]!.block.txs[0]!;
    expect((await api.get(`/transactions/${replayed.id}`)).json).toMatchObject({
      status: 'committed',
      height: before + 1,
    });
  });

  it('a block.committed it missed (fault injected: one message lost) is filled in by a replay, in order', async () => {
    api = await ApiHarness.start();
    const lost = api.core.commitUnannounced();
    await api.post('/transactions', { icodeId: 'kv', function: 'put', args: ['gap', 1] });
    const next = await api.core.commitPending();
    expect(next!.height).toBe(lost.block.height + 1);
    await waitFor(() => api!.gateway.readModel.lastHeight === next!.height, 'the gap filled');
    expect(await heights(api)).toEqual([0, 1, 2]);
    expect((await api.get('/blocks/1')).json).toEqual(lost.block);
  });

  it('a block it already has (a duplicate or a replay overlap) changes nothing', async () => {
    api = await ApiHarness.start();
    await api.post('/transactions', { icodeId: 'kv', function: 'put', args: ['dup', 1] });
    await api.core.commitPending();
    await waitFor(() => api!.gateway.readModel.lastHeight === 1, 'block 1');
    await api.core.publishCommitted(api.core.chain[1]!);
    await api.core.publishCommitted(api.core.chain[0]!);
    await api.post('/transactions', { icodeId: 'kv', function: 'put', args: ['dup', 2] });
    await api.core.commitPending();
    await waitFor(() => api!.gateway.readModel.lastHeight === 2, 'block 2');
    expect(await heights(api)).toEqual([0, 1, 2]);
    expect(api.logger.errors).toEqual([]);
  });

  it('asks again for a replay nobody answered (fault injected: the Blockchain ignores the first two)', async () => {
    api = await ApiHarness.start({ core: { dropReplays: 2 } });
    expect(api.core.replayRequests).toEqual([0, 0, 0]);
    expect((await api.get('/blocks/latest')).json).toEqual(api.fixture.genesis);
  });
});
