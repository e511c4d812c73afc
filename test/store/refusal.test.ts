import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { BlockExtras } from '../../adapters/store/block-batch.ts';
import { ChainStore } from '../../adapters/store/chain-store.ts';
import { StoreRefusalError } from '../../adapters/store/errors.ts';
import { type Block, buildBlock } from '../../domain/block.ts';
import type { CommitCertificate } from '../../domain/commit-certificate.ts';
import { ValidationError } from '../../domain/errors.ts';
import { type ChainFixture, createChainFixture } from '../support/chain-fixture.ts';
import { dumpStore, openFixtureStore, removeDir, storeContextOf, tempDir } from './store-helpers.ts';

let fixture: ChainFixture;
let b1: Block;
let c1: CommitCertificate;
let b2: Block;
let c2: CommitCertificate;

beforeAll(() => {
  fixture = createChainFixture();
  b1 = fixture.nextBlock(fixture.genesis, fixture.txs(3));
  c1 = fixture.certify(b1);
  b2 = fixture.nextBlock(b1, fixture.txs(3));
  c2 = fixture.certify(b2);
});

describe('a refused append writes nothing (SPEC §3: validate before storing)', () => {
  let dir: string;
  let store: ChainStore;

  beforeEach(async () => {
    dir = await tempDir();
    store = await openFixtureStore(dir, fixture);
    await store.append(b1, c1);
  });
  afterEach(async () => {
    await store.close();
    await removeDir(dir);
  });

  /** Appends, expects `error`, and checks the store is byte-for-byte unchanged and still usable. */
  async function expectRefused(
    block: Block,
    cert: CommitCertificate,
    error: Record<string, unknown>,
    extras?: BlockExtras,
  ) {
    const before = await dumpStore(store);
    await expect(store.append(block, cert, extras)).rejects.toMatchObject(error);
    expect(await dumpStore(store)).toEqual(before);
    expect(store.height).toBe(1);
    for (const tx of block.txs) {
      if (!b1.txs.includes(tx)) expect(store.isCommittedTx(tx.id)).toBe(false);
    }
    await store.append(b2, c2);
    expect(store.height).toBe(2);
  }

  const rich = (block: Block): BlockExtras => ({
    receipts: Object.fromEntries(block.txs.map((tx) => [tx.id, { ok: true }])),
    stateWrites: [{ icodeId: 'kv', key: 'k', value: 'v' }],
  });

  it('a block that does not link to the last block is refused (link)', async () => {
    const stray = buildBlock({ ...b2, prevSeal: 'ab'.repeat(32) });
    await expectRefused(
      stray,
      fixture.certify(stray),
      { name: 'ValidationError', code: 'link' },
      rich(stray),
    );
  });

  it('a block at the wrong height is refused (height)', async () => {
    const b3 = fixture.nextBlock(b2, fixture.txs(1));
    await expectRefused(b3, fixture.certify(b3), { code: 'height' });
  });

  it('a block whose seal does not recompute is refused (seal)', async () => {
    const forged = { ...b2, timestamp: b2.timestamp + 1 };
    await expectRefused(forged, c2, { code: 'seal' }, rich(forged));
  });

  it('a block whose txs do not match its txRoot is refused (txRoot)', async () => {
    const swapped = { ...b2, txs: [...b2.txs].reverse() };
    await expectRefused(swapped, c2, { code: 'txRoot' });
  });

  it('a tx with a bad signature is refused (signature)', async () => {
    const [first, ...rest] = fixture.txs(2);
    const other = fixture.tx();
    const bad = fixture.nextBlock(b1, [{ ...first!, signature: other.signature }, ...rest]);
    await expectRefused(bad, fixture.certify(bad), { code: 'signature' }, rich(bad));
  });

  it('a tx already on the chain is refused (duplicate)', async () => {
    const replay = fixture.nextBlock(b1, [b1.txs[0]!]);
    await expectRefused(replay, fixture.certify(replay), { code: 'duplicate' });
  });

  it('a certificate below quorum (2 of 4 PreCommits) is refused (certificate)', async () => {
    await expectRefused(b2, fixture.certify(b2, { signers: [0, 1] }), { code: 'certificate' }, rich(b2));
  });

  it('a certificate with a forged PreCommit is refused (certificate)', async () => {
    const cert = fixture.certify(b2, { signers: [0, 1, 2] });
    const forged = {
      ...cert,
      precommits: cert.precommits.map((v, i) =>
        i === 2 ? { ...v, signature: cert.precommits[0]!.signature } : v,
      ),
    };
    await expectRefused(b2, forged, { code: 'certificate' });
  });

  it('a certificate for another block is refused (certificate)', async () => {
    await expectRefused(b2, { ...c1, height: 2 }, { code: 'certificate' });
  });

  it('a block without a certificate is refused', async () => {
    await expectRefused(b2, null as unknown as CommitCertificate, {
      name: 'StoreRefusalError',
      code: 'certificate',
    });
  });

  it('a receipt for a tx outside the block refuses the block and its state writes', async () => {
    await expectRefused(
      b2,
      c2,
      { name: 'StoreRefusalError', code: 'extras' },
      { receipts: { [b1.txs[0]!.id]: { ok: true } }, stateWrites: [{ icodeId: 'kv', key: 'k', value: 'v' }] },
    );
  });

  it('a state write with a bad iCode id refuses the block and its receipts', async () => {
    await expectRefused(
      b2,
      c2,
      { code: 'extras' },
      { ...rich(b2), stateWrites: [{ icodeId: 'kv/evil', key: 'k', value: 'v' }] },
    );
  });

  it('a state value that has no canonical encoding (a float) refuses the block', async () => {
    await expectRefused(
      b2,
      c2,
      { code: 'extras' },
      { ...rich(b2), stateWrites: [{ icodeId: 'kv', key: 'k', value: 0.5 }] },
    );
  });

  it('a malformed block is refused with a ValidationError naming the field (field)', async () => {
    const [tx, ...rest] = b2.txs;
    const malformed = { ...b2, txs: [{ ...tx!, icodeId: 'has space' }, ...rest] };
    await expectRefused(malformed, c2, { name: 'ValidationError', code: 'field', field: 'txs[0].icodeId' });
  });

  it('a malformed certificate is refused with a ValidationError naming the field (field)', async () => {
    const cert = { ...c2, round: -1 };
    await expectRefused(b2, cert, { name: 'ValidationError', code: 'field', field: 'round' });
  });

  it('validation errors are re-thrown as ValidationError', async () => {
    await expect(store.append(b1, c1)).rejects.toBeInstanceOf(ValidationError);
  });
});

describe('genesis', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await tempDir();
  });
  afterEach(async () => {
    await removeDir(dir);
  });

  it('nothing is appended before a genesis is stored', async () => {
    const store = await ChainStore.open(dir, storeContextOf(fixture));
    try {
      expect(store.height).toBe(-1);
      await expect(store.append(b1, c1)).rejects.toMatchObject({ code: 'no-genesis' });
    } finally {
      await store.close();
    }
  });

  it('the same genesis file again is accepted and changes nothing', async () => {
    const store = await openFixtureStore(dir, fixture);
    await store.append(b1, c1);
    await store.close();
    const again = await openFixtureStore(dir, fixture);
    expect(again.height).toBe(1);
    await again.close();
  });

  it('a store holding another genesis is refused, and keeps its own', async () => {
    const store = await openFixtureStore(dir, fixture);
    await store.append(b1, c1);
    await store.close();

    const other = createChainFixture({ networkId: fixture.networkId });
    const wrong = await ChainStore.open(dir, storeContextOf(other));
    await expect(wrong.initGenesis(other.genesisFile)).rejects.toSatisfy(
      (err) =>
        err instanceof StoreRefusalError &&
        err.code === 'genesis-mismatch' &&
        err.message.includes(fixture.genesis.seal),
    );
    await wrong.close();

    const reopened = await openFixtureStore(dir, fixture);
    expect(reopened.height).toBe(1);
    expect(await reopened.getBlockByHeight(0)).toEqual(fixture.genesis);
    await reopened.close();
  });

  it('a genesis file of another network id than the node is refused', async () => {
    const other = createChainFixture({ networkId: 'other-net' });
    const store = await ChainStore.open(dir, storeContextOf(fixture));
    try {
      await expect(store.initGenesis(other.genesisFile)).rejects.toMatchObject({ code: 'genesis-mismatch' });
      expect(store.height).toBe(-1);
    } finally {
      await store.close();
    }
  });
});
