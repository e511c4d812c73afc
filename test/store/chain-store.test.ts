import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { ChainStore } from '../../adapters/store/chain-store.ts';
import { StoreRefusalError } from '../../adapters/store/errors.ts';
import type { Block } from '../../domain/block.ts';
import type { Canonical } from '../../domain/canonical.ts';
import type { CommitCertificate } from '../../domain/commit-certificate.ts';
import { type ChainFixture, createChainFixture } from '../support/chain-fixture.ts';
import { openFixtureStore, removeDir, tempDir } from './store-helpers.ts';

let fixture: ChainFixture;
let chain: { blocks: Block[]; certs: CommitCertificate[] };

beforeAll(() => {
  fixture = createChainFixture();
  chain = fixture.extend(fixture.genesis, 12, 3);
});

describe('chain store on LevelDB', () => {
  let dir: string;
  let store: ChainStore;

  beforeEach(async () => {
    dir = await tempDir();
    store = await openFixtureStore(dir, fixture);
  });
  afterEach(async () => {
    await store.close();
    await removeDir(dir);
  });

  async function appendAll(upTo = chain.blocks.length) {
    for (let i = 0; i < upTo; i++) await store.append(chain.blocks[i]!, chain.certs[i]!);
  }

  it('genesis is stored at height 0 without consensus', async () => {
    expect(store.height).toBe(0);
    expect(store.lastBlock()).toEqual(fixture.genesis);
    expect(await store.getBlockByHeight(0)).toEqual(fixture.genesis);
    expect(await store.getCertificate(0)).toBeUndefined();
  });

  it('an appended block is found by seal, by height and by each tx id', async () => {
    await appendAll(2);
    const block = chain.blocks[1]!;
    expect(await store.getBlockBySeal(block.seal)).toEqual(block);
    expect(await store.getBlockByHeight(2)).toEqual(block);
    expect(await store.getSealAt(2)).toBe(block.seal);
    for (const tx of block.txs) {
      expect(await store.getTx(tx.id)).toEqual({ tx, height: 2, seal: block.seal });
      expect(store.isCommittedTx(tx.id)).toBe(true);
    }
    expect(store.lastBlock()).toEqual(block);
    expect(store.height).toBe(2);
  });

  it('unknown seals, heights and tx ids read as undefined', async () => {
    await appendAll(1);
    expect(await store.getBlockBySeal('f'.repeat(64))).toBeUndefined();
    expect(await store.getBlockByHeight(5)).toBeUndefined();
    expect(await store.getTx('e'.repeat(64))).toBeUndefined();
    expect(await store.getTx('last_block')).toBeUndefined();
    expect(store.isCommittedTx(chain.blocks[5]!.txs[0]!.id)).toBe(false);
  });

  it('the commit certificate of each height is stored with its block', async () => {
    await appendAll(3);
    expect(await store.getCertificate(3)).toEqual(chain.certs[2]);
    expect(await store.getCertificate(4)).toBeUndefined();
  });

  it('a range of blocks comes back in height order, clipped to the last block', async () => {
    await appendAll();
    const heights: number[] = [];
    for await (const block of store.blocks(3, 7)) heights.push(block.height);
    expect(heights).toEqual([3, 4, 5, 6, 7]);
    expect((await store.getBlocks(10, 50)).map((b) => b.height)).toEqual([10, 11, 12]);
    expect((await store.getBlocks(0, 2)).map((b) => b.height)).toEqual([0, 1]);
    expect(await store.getBlocks(13, 5)).toEqual([]);
    expect(await store.getBlocks(4, 0)).toEqual([]);
  });

  it('receipts and state writes are stored with their block', async () => {
    const block = chain.blocks[0]!;
    const [a, b] = block.txs;
    await store.append(block, chain.certs[0]!, {
      receipts: new Map<string, Canonical>([
        [a!.id, { ok: true, gas: 12 }],
        [b!.id, { ok: false, error: 'no such key' }],
      ]),
      stateWrites: [
        { icodeId: 'kv', key: 'alpha', value: '1' },
        { icodeId: 'kv', key: 'beta', value: { n: 2 } },
        { icodeId: 'kv', key: 'gamma', value: 'soon gone' },
        { icodeId: 'other', key: 'alpha', value: 'x' },
      ],
    });
    await store.append(chain.blocks[1]!, chain.certs[1]!, {
      receipts: { [chain.blocks[1]!.txs[0]!.id]: { ok: true } },
      stateWrites: [{ icodeId: 'kv', key: 'gamma', value: null }],
    });
    expect(await store.getReceipt(a!.id)).toEqual({ ok: true, gas: 12 });
    expect(await store.getReceipt(b!.id)).toEqual({ ok: false, error: 'no such key' });
    expect(await store.getReceipt(block.txs[2]!.id)).toBeUndefined();
    expect(await store.getState('kv', 'alpha')).toBe('1');
    expect(await store.getState('kv', 'gamma')).toBeUndefined();
    const entries: [string, unknown][] = [];
    for await (const entry of store.stateEntries('kv')) entries.push(entry);
    expect(entries).toEqual([
      ['alpha', '1'],
      ['beta', { n: 2 }],
    ]);
    const limited: string[] = [];
    for await (const [key] of store.stateEntries('kv', { gte: 'b', limit: 5 })) limited.push(key);
    expect(limited).toEqual(['beta']);
  });

  it('concurrent appends are serialized: both land, in call order', async () => {
    await Promise.all([
      store.append(chain.blocks[0]!, chain.certs[0]!),
      store.append(chain.blocks[1]!, chain.certs[1]!),
    ]);
    expect(store.height).toBe(2);
    expect((await store.getBlocks(1, 2)).map((b) => b.seal)).toEqual([
      chain.blocks[0]!.seal,
      chain.blocks[1]!.seal,
    ]);
  });

  it('two appends of the same block: the second is refused, the first stays', async () => {
    const results = await Promise.allSettled([
      store.append(chain.blocks[0]!, chain.certs[0]!),
      store.append(chain.blocks[0]!, chain.certs[0]!),
    ]);
    expect(results[0]!.status).toBe('fulfilled');
    expect(results[1]!.status).toBe('rejected');
    expect(store.height).toBe(1);
  });

  it('the consensus record round-trips', async () => {
    expect(await store.getConsensusRecord()).toBeUndefined();
    const record = {
      term: 3,
      votedFor: fixture.validatorIds[1]!,
      lock: null,
      lastVote: { height: 4, round: 1 },
    };
    await store.putConsensusRecord(record);
    expect(await store.getConsensusRecord()).toEqual(record);
  });

  it('a closed store refuses reads and appends', async () => {
    await store.close();
    await expect(store.getBlockByHeight(0)).rejects.toBeInstanceOf(StoreRefusalError);
    await expect(store.append(chain.blocks[0]!, chain.certs[0]!)).rejects.toMatchObject({ code: 'closed' });
  });

  it('an audit of a healthy store passes and counts its txs', async () => {
    await appendAll(5);
    expect(await store.audit()).toEqual({ height: 5, txs: 15 });
  });
});

describe('data survives restarts (the original wiped it)', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await tempDir();
  });
  afterAll(async () => {
    await removeDir(dir);
  });

  it('reopening keeps blocks, indexes, receipts, state and the consensus record', async () => {
    const first = await openFixtureStore(dir, fixture);
    for (let i = 0; i < 4; i++) {
      const block = chain.blocks[i]!;
      await first.append(block, chain.certs[i]!, {
        receipts: { [block.txs[0]!.id]: { height: block.height } },
        stateWrites: [{ icodeId: 'kv', key: `k${i}`, value: i }],
      });
    }
    await first.putConsensusRecord({ term: 7 });
    await first.close();

    const second = await openFixtureStore(dir, fixture);
    try {
      expect(second.height).toBe(4);
      expect(second.lastBlock()).toEqual(chain.blocks[3]);
      const tx = chain.blocks[2]!.txs[1]!;
      expect(await second.getTx(tx.id)).toMatchObject({ height: 3 });
      expect(second.isCommittedTx(tx.id)).toBe(true);
      expect(await second.getReceipt(chain.blocks[2]!.txs[0]!.id)).toEqual({ height: 3 });
      expect(await second.getState('kv', 'k3')).toBe(3);
      expect(await second.getConsensusRecord()).toEqual({ term: 7 });
      await second.append(chain.blocks[4]!, chain.certs[4]!);
      expect(await second.audit()).toEqual({ height: 5, txs: 15 });
    } finally {
      await second.close();
    }
  });
});
