import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { KvExecutor } from '../../actors/executor.ts';
import { NodeLedger } from '../../actors/node-ledger.ts';
import { WriteQueue } from '../../actors/write-queue.ts';
import { ChainStore } from '../../adapters/store/chain-store.ts';
import { type Block, buildBlock } from '../../domain/block.ts';
import type { Canonical } from '../../domain/canonical.ts';
import { nextStateRoot } from '../../domain/icode-state-root.ts';
import { signerOf } from '../../domain/identity.ts';
import { signTransaction, type Transaction, type TxKind } from '../../domain/transaction.ts';
import { type ChainFixture, createChainFixture } from '../support/chain-fixture.ts';

// The replica's Ledger in the node: synchronous in memory, durable through the write queue, on the
// real LevelDB chain store in a temp dir.

let fixture: ChainFixture;
let dir: string;
let store: ChainStore;
let writes: WriteQueue;
let ledger: NodeLedger;
let executor: KvExecutor;
const failures: Error[] = [];

async function open(): Promise<void> {
  store = await ChainStore.open(join(dir, 'chain'), {
    networkId: fixture.networkId,
    keys: fixture.keys,
    validatorsAt: () => fixture.validatorIds,
  });
  await store.initGenesis(fixture.genesisFile);
  const entries: [string, Canonical][] = [];
  for await (const entry of store.stateEntries('kv')) entries.push(entry);
  writes = new WriteQueue((error) => failures.push(error));
  executor = KvExecutor.fromEntries(entries);
  ledger = await NodeLedger.open(store, executor, writes);
}

beforeEach(async () => {
  fixture = createChainFixture();
  dir = await mkdtemp(join(tmpdir(), 'itchain-ledger-'));
  failures.length = 0;
  await open();
});

afterEach(async () => {
  await store.close();
  await rm(dir, { recursive: true, force: true });
});

function call(fn: string, args: Canonical[], options: { icodeId?: string; kind?: TxKind } = {}): Transaction {
  const signer = fixture.validators[0]!;
  return signTransaction(
    {
      kind: options.kind ?? 'invoke',
      icodeId: options.icodeId ?? 'kv',
      function: fn,
      args,
      timestamp: Date.UTC(2025, 0, 2),
      signer: signer.nodeId,
      nonce: randomUUID(),
    },
    signerOf(signer),
  );
}

/** The next block as a proposer builds it: on the ledger's last block, carrying its state root. */
function next(txs: Transaction[]): Block {
  const last = ledger.last();
  const stateRoot = ledger.nextStateRoot();
  if (stateRoot === null) throw new Error('KvExecutor runs a block in append(): the root is known');
  return buildBlock({
    height: last.height + 1,
    prevSeal: last.seal,
    stateRoot,
    timestamp: last.timestamp + 1,
    creator: fixture.validatorIds[0]!,
    txs,
  });
}

function append(txs: Transaction[]): Block {
  const block = next(txs);
  ledger.append(block, fixture.certify(block));
  return block;
}

describe('NodeLedger', () => {
  it('an appended block is the head at once, and on disk with its receipts and state once the writes drain', async () => {
    const put = call('put', ['colour', 'blue']);
    const block = append([put]);
    expect(ledger.height()).toBe(1);
    expect(ledger.last().seal).toBe(block.seal);
    expect(ledger.hasTx(put.id)).toBe(true);
    expect(ledger.range(1, 5).map((e) => e.block.seal)).toEqual([block.seal]);

    await writes.drained();
    expect(failures).toEqual([]);
    expect(store.height).toBe(1);
    expect(await store.getReceipt(put.id)).toEqual({
      txId: put.id,
      status: 'ok',
      result: null,
      gasUsed: expect.any(Number),
    });
    expect(await store.getState('kv', 'colour')).toBe('blue');
    expect(store.isCommittedTx(put.id)).toBe(true);
  });

  it("the next block's state root chains the last root with the block's writes and receipts", async () => {
    const genesisRoot = ledger.nextStateRoot();
    expect(genesisRoot).toBe(fixture.genesis.stateRoot);
    const put = call('put', ['a', { n: 1 }]);
    const get = call('get', ['a']);
    const block = append([put, get]);
    await writes.drained();
    const [putReceipt, getReceipt] = [await store.getReceipt(put.id), await store.getReceipt(get.id)];
    expect(getReceipt).toMatchObject({ status: 'ok', result: { n: 1 } });
    const expected = nextStateRoot(block.stateRoot, {
      writes: [{ icodeId: 'kv', key: 'a', value: '{"n":1}' }],
      receipts: [putReceipt, getReceipt].map((r) => JSON.parse(JSON.stringify(r))),
    });
    expect(ledger.nextStateRoot()).toBe(expected);
    // A block with no txs changes nothing.
    append([]);
    expect(ledger.nextStateRoot()).toBe(expected);
  });

  it('a restarted ledger has the same head, state root and kv state', async () => {
    append([call('put', ['k1', 'v1']), call('put', ['k2', 'v2'])]);
    append([call('del', ['k1'])]);
    const root = ledger.nextStateRoot();
    const head = ledger.last().seal;
    await writes.drained();
    await store.close();
    await open();
    expect(ledger.height()).toBe(2);
    expect(ledger.last().seal).toBe(head);
    expect(ledger.nextStateRoot()).toBe(root);
    expect(ledger.range(1, 2).map((e) => e.block.height)).toEqual([1, 2]);
    expect(executor.query('kv', 'get', ['k2'])).toMatchObject({ status: 'ok', result: 'v2' });
    expect(executor.query('kv', 'get', ['k1'])).toMatchObject({ status: 'ok', result: null });
    expect(await store.getState('kv', 'k1')).toBeUndefined();
  });

  it('blocks below the in-memory window are served after loadRange reads them from disk', async () => {
    for (let i = 0; i < 300; i++) append([]);
    await writes.drained();
    await store.close();
    await open();
    expect(ledger.holds(290, 300)).toBe(true);
    expect(ledger.holds(1, 64)).toBe(false);
    expect(ledger.range(1, 64)).toEqual([]);
    await ledger.loadRange(1, 64);
    expect(ledger.holds(1, 64)).toBe(true);
    const served = ledger.range(1, 64);
    expect(served.map((e) => e.block.height)).toEqual(Array.from({ length: 64 }, (_, i) => i + 1));
    expect(served[0]!.cert.blockHash).toBe(served[0]!.block.seal);
    expect(Object.keys(served[0]!).sort()).toEqual(['block', 'cert']);
  });
});

describe('KvExecutor (the built-in kv iCode, SPEC §6)', () => {
  it('put, get and del run in block order: a get sees the puts before it in the same block', () => {
    const kv = new KvExecutor();
    const block = (txs: Transaction[]) =>
      buildBlock({
        height: 1,
        prevSeal: '0'.repeat(64),
        stateRoot: 'a'.repeat(64),
        timestamp: 1,
        creator: fixture.validatorIds[0]!,
        txs,
      });
    const out = kv.executeBlock(
      block([
        call('get', ['x']),
        call('put', ['x', 1]),
        call('get', ['x']),
        call('del', ['x']),
        call('get', ['x']),
      ]),
    );
    expect(out.receipts.map((r) => [r.status, r.result])).toEqual([
      ['ok', null],
      ['ok', null],
      ['ok', 1],
      ['ok', null],
      ['ok', null],
    ]);
    expect(out.writes).toEqual([{ icodeId: 'kv', key: 'x', value: null }]);
    expect(kv.query('kv', 'get', ['x'])).toMatchObject({ status: 'ok', result: null });
  });

  it('refuses what kv cannot do with an error receipt that every node computes the same way', () => {
    const out = new KvExecutor().executeBlock(
      buildBlock({
        height: 1,
        prevSeal: '0'.repeat(64),
        stateRoot: 'a'.repeat(64),
        timestamp: 1,
        creator: fixture.validatorIds[0]!,
        txs: [
          call('increment', ['x']),
          call('put', ['', 'empty key']),
          call('put', ['x', 1], { icodeId: 'f'.repeat(64) }),
          call('deploy', [], { kind: 'deploy' }),
        ],
      }),
    );
    expect(out.receipts.map((r) => r.error?.code)).toEqual([
      'no-such-function',
      'bad-state-access',
      'not-deployed',
      'unavailable',
    ]);
    expect(out.writes).toEqual([]);
  });
});
