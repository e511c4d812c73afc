import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ChainStore } from '../../adapters/store/chain-store.ts';
import { StoreCorruptionError } from '../../adapters/store/errors.ts';
import { heightKey, rawKey, SPACES } from '../../adapters/store/layout.ts';
import { canonicalJson } from '../../domain/canonical.ts';
import { type ChainFixture, createChainFixture } from '../support/chain-fixture.ts';
import { openFixtureStore, removeDir, storeContextOf, tempDir, withRawDb } from './store-helpers.ts';

// Each test stores a small chain, closes it, plants bad bytes through a second raw LevelDB handle
// (as disk rot or a foreign writer would), reopens, and expects a StoreCorruptionError that names
// the key space and key — never a crash, a TypeError or a wrong block.

let fixture: ChainFixture;
const chain: ReturnType<ChainFixture['extend']> = { blocks: [], certs: [] };

beforeAll(() => {
  fixture = createChainFixture();
  Object.assign(chain, fixture.extend(fixture.genesis, 3, 2));
});

const utf8 = (text: string) => Buffer.from(text, 'utf8');

function corruption(space: string, key: string) {
  return (err: unknown) => err instanceof StoreCorruptionError && err.space === space && err.key === key;
}

describe('a corrupt record on read is a StoreCorruptionError naming space and key', () => {
  let dir: string;
  let store: ChainStore | undefined;

  beforeEach(async () => {
    dir = await tempDir();
    const writer = await openFixtureStore(dir, fixture);
    for (const [i, block] of chain.blocks.entries()) {
      await writer.append(block, chain.certs[i]!, { receipts: { [block.txs[0]!.id]: { ok: true } } });
    }
    await writer.close();
  });
  afterEach(async () => {
    await store?.close();
    store = undefined;
    await removeDir(dir);
  });

  const reopen = async () => {
    store = await ChainStore.open(dir, storeContextOf(fixture));
    return store;
  };
  const b2 = () => chain.blocks[1]!;

  it('bytes that are not UTF-8 in block_hash', async () => {
    await withRawDb(dir, (db) =>
      db.put(rawKey(SPACES.blockHash, b2().seal), new Uint8Array([0xff, 0xfe, 0x00])),
    );
    const s = await reopen();
    await expect(s.getBlockBySeal(b2().seal)).rejects.toSatisfy(corruption('block_hash', b2().seal));
    await expect(s.getBlockByHeight(2)).rejects.toSatisfy(corruption('block_hash', b2().seal));
    await expect(s.getTx(b2().txs[1]!.id)).rejects.toSatisfy(corruption('block_hash', b2().seal));
  });

  it('a block that is not JSON', async () => {
    await withRawDb(dir, (db) => db.put(rawKey(SPACES.blockHash, b2().seal), utf8('{"height":2,')));
    const s = await reopen();
    await expect(s.getBlockBySeal(b2().seal)).rejects.toSatisfy(corruption('block_hash', b2().seal));
  });

  it('a block whose seal does not recompute (one field changed)', async () => {
    const tampered = canonicalJson({ ...b2(), timestamp: b2().timestamp + 1 });
    await withRawDb(dir, (db) => db.put(rawKey(SPACES.blockHash, b2().seal), utf8(tampered)));
    const s = await reopen();
    await expect(s.getBlockBySeal(b2().seal)).rejects.toThrow(/seal does not recompute/);
  });

  it('a tx changed inside a stored block (its id no longer recomputes)', async () => {
    const [tx, ...rest] = b2().txs;
    const tampered = canonicalJson({ ...b2(), txs: [{ ...tx!, args: ['key', 'stolen'] }, ...rest] });
    await withRawDb(dir, (db) => db.put(rawKey(SPACES.blockHash, b2().seal), utf8(tampered)));
    const s = await reopen();
    await expect(s.getBlockByHeight(2)).rejects.toSatisfy(corruption('block_hash', b2().seal));
  });

  it('a block with an unexpected field', async () => {
    const extended = canonicalJson({ ...b2(), extra: 1 });
    await withRawDb(dir, (db) => db.put(rawKey(SPACES.blockHash, b2().seal), utf8(extended)));
    const s = await reopen();
    await expect(s.getBlockBySeal(b2().seal)).rejects.toThrow(/unknown key/);
  });

  it('a valid block filed under another block’s seal', async () => {
    const b3 = chain.blocks[2]!;
    await withRawDb(dir, (db) => db.put(rawKey(SPACES.blockHash, b2().seal), utf8(canonicalJson(b3))));
    const s = await reopen();
    await expect(s.getBlockBySeal(b2().seal)).rejects.toSatisfy(corruption('block_hash', b2().seal));
  });

  it('a height index pointing to no stored block', async () => {
    await withRawDb(dir, (db) => db.del(rawKey(SPACES.blockHash, b2().seal)));
    const s = await reopen();
    await expect(s.getBlockByHeight(2)).rejects.toSatisfy(corruption('block_number', heightKey(2)));
    const heights: number[] = [];
    await expect(
      (async () => {
        for await (const block of s.blocks(0)) heights.push(block.height);
      })(),
    ).rejects.toSatisfy(corruption('block_number', heightKey(2)));
    expect(heights).toEqual([0, 1]);
  });

  it('a height index that is not a seal', async () => {
    await withRawDb(dir, (db) => db.put(rawKey(SPACES.blockNumber, heightKey(1)), utf8('not a seal')));
    const s = await reopen();
    await expect(s.getBlockByHeight(1)).rejects.toSatisfy(corruption('block_number', heightKey(1)));
  });

  it('a height missing below the last block shows up as a gap in a range', async () => {
    await withRawDb(dir, (db) => db.del(rawKey(SPACES.blockNumber, heightKey(2))));
    const s = await reopen();
    await expect(s.getBlocks(0, 10)).rejects.toSatisfy(corruption('block_number', heightKey(2)));
  });

  it('a tx index pointing to a block that does not hold the tx', async () => {
    const txId = b2().txs[0]!.id;
    await withRawDb(dir, (db) => db.put(rawKey(SPACES.util, txId), utf8(chain.blocks[0]!.seal)));
    const s = await reopen();
    await expect(s.getTx(txId)).rejects.toSatisfy(corruption('util', txId));
    await expect(s.audit()).rejects.toSatisfy(corruption('util', txId));
  });

  it('a certificate for another height', async () => {
    await withRawDb(dir, (db) =>
      db.put(rawKey(SPACES.commit, heightKey(2)), utf8(canonicalJson(chain.certs[0]))),
    );
    const s = await reopen();
    await expect(s.getCertificate(2)).rejects.toSatisfy(corruption('commit', heightKey(2)));
  });

  it('a receipt that is not canonical JSON', async () => {
    const txId = b2().txs[0]!.id;
    await withRawDb(dir, (db) => db.put(rawKey(SPACES.receipt, txId), utf8('{ "ok": true }')));
    const s = await reopen();
    await expect(s.getReceipt(txId)).rejects.toSatisfy(corruption('receipt', txId));
  });

  it('last_block pointing to no stored block fails the open', async () => {
    await withRawDb(dir, (db) => db.put(rawKey(SPACES.util, 'last_block'), utf8('0'.repeat(64))));
    await expect(reopen()).rejects.toSatisfy(corruption('util', 'last_block'));
  });

  it('a missing last_block while blocks are stored fails the open', async () => {
    await withRawDb(dir, (db) => db.del(rawKey(SPACES.util, 'last_block')));
    await expect(reopen()).rejects.toSatisfy(corruption('util', 'last_block'));
  });

  it('the audit finds a stored block whose certificate no longer verifies', async () => {
    const cert = chain.certs[1]!;
    const weak = { ...cert, precommits: cert.precommits.slice(0, 2) };
    await withRawDb(dir, (db) => db.put(rawKey(SPACES.commit, heightKey(2)), utf8(canonicalJson(weak))));
    const s = await reopen();
    await expect(s.audit()).rejects.toSatisfy(corruption('block_hash', b2().seal));
  });
});
