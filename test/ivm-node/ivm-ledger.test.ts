import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { DEPLOYMENTS_ICODE_ID, IvmExecutor } from '../../actors/icode-executor.ts';
import { loadIcodeState } from '../../actors/icode-state-loader.ts';
import { NodeLedger, type StoredBlock } from '../../actors/node-ledger.ts';
import { WriteQueue } from '../../actors/write-queue.ts';
import { bundleDirectory } from '../../adapters/icode/bundle-directory.ts';
import { QuickJsRuntime } from '../../adapters/icode/quickjs/quickjs-runtime.ts';
import { ChainStore } from '../../adapters/store/chain-store.ts';
import { type Block, buildBlock } from '../../domain/block.ts';
import type { Canonical } from '../../domain/canonical.ts';
import { type IcodeDeployment, icodeIdOf } from '../../domain/icode.ts';
import { DEPLOY_FUNCTION, deploymentArgs, UNDEPLOY_FUNCTION } from '../../domain/icode-deployment.ts';
import { signerOf } from '../../domain/identity.ts';
import { signTransaction, type Transaction, type TxKind } from '../../domain/transaction.ts';
import { EXAMPLES } from '../ivm/fixtures.ts';
import { type ChainFixture, createChainFixture } from '../support/chain-fixture.ts';

// The node's ledger with the IVM executor (QuickJS) on a real LevelDB store: a block's txs run after
// append, asynchronously; the state root of the next block is unknown until they have; receipts,
// state and the installed iCodes reach the disk in the block's batch and come back after a restart.

let fixture: ChainFixture;
let dir: string;
let store: ChainStore;
let writes: WriteQueue;
let ledger: NodeLedger;
let executor: IvmExecutor;
let runtime: QuickJsRuntime;
let bank: IcodeDeployment;
let bankId: string;
const failures: Error[] = [];
const stored: StoredBlock[] = [];

beforeAll(async () => {
  bank = {
    gitUrl: 'file:///examples/bank',
    commit: 'b'.repeat(40),
    bundle: await bundleDirectory(join(EXAMPLES, 'bank')),
  };
  bankId = icodeIdOf(bank.gitUrl, bank.commit);
});

async function open(): Promise<void> {
  store = await ChainStore.open(join(dir, 'chain'), {
    networkId: fixture.networkId,
    keys: fixture.keys,
    validatorsAt: () => fixture.validatorIds,
  });
  await store.initGenesis(fixture.genesisFile);
  writes = new WriteQueue((error) => failures.push(error));
  runtime = new QuickJsRuntime();
  executor = new IvmExecutor(runtime, await loadIcodeState(store));
  ledger = await NodeLedger.open(store, executor, writes);
  ledger.onStored((s) => stored.push(s));
}

async function close(): Promise<void> {
  await ledger.idle();
  await writes.drained();
  await runtime.close();
  await store.close();
}

beforeEach(async () => {
  fixture = createChainFixture();
  dir = await mkdtemp(join(tmpdir(), 'itchain-ivm-ledger-'));
  failures.length = 0;
  stored.length = 0;
  await open();
});

afterEach(async () => {
  await close();
  await rm(dir, { recursive: true, force: true });
});

afterAll(() => expect(failures).toEqual([]));

function tx(icodeId: string, fn: string, args: Canonical[], kind: TxKind = 'invoke'): Transaction {
  const signer = fixture.validators[0]!;
  return signTransaction(
    {
      kind,
      icodeId,
      function: fn,
      args,
      timestamp: Date.UTC(2025, 0, 2),
      signer: signer.nodeId,
      nonce: randomUUID(),
    },
    signerOf(signer),
  );
}

const deployTx = () => tx(bankId, DEPLOY_FUNCTION, deploymentArgs(bank), 'deploy');

/** Every appended block has run and is on disk. */
async function settled(): Promise<void> {
  await ledger.idle();
  await writes.drained();
}

/** The next block once the ledger knows the state root it must carry. */
async function append(txs: Transaction[]): Promise<Block> {
  await ledger.whenReady();
  const last = ledger.last();
  const root = ledger.nextStateRoot();
  if (root === null) throw new Error('the root is still unknown after whenReady');
  const block = buildBlock({
    height: last.height + 1,
    prevSeal: last.seal,
    stateRoot: root,
    timestamp: last.timestamp + 1,
    creator: fixture.validatorIds[0]!,
    txs,
  });
  ledger.append(block, fixture.certify(block));
  return block;
}

describe('the ledger with the IVM executor', () => {
  it('takes a block at once, and knows the next state root only after its txs have run', async () => {
    const block = await append([tx('kv', 'put', ['colour', 'blue'])]);
    expect(ledger.height()).toBe(block.height);
    expect(ledger.nextStateRoot()).toBeNull();
    await ledger.whenReady();
    expect(ledger.nextStateRoot()).toMatch(/^[0-9a-f]{64}$/);
    expect(ledger.nextStateRoot()).not.toBe(block.stateRoot);
    expect(ledger.recentEntry(block.height)?.receipts[block.txs[0]!.id]).toMatchObject({ status: 'ok' });
  });

  it('messages do not wait for a block to run; once the root is known the block is queued, and durable before what follows', async () => {
    const block = await append([tx('kv', 'put', ['a', 1])]);
    expect(ledger.nextStateRoot()).toBeNull();
    expect(writes.pending).toBe(0);
    await ledger.whenReady();
    expect(writes.pending).toBe(1);
    const heightWhenSent = await new Promise<number>((resolve) =>
      writes.afterDurable(() => resolve(store.height)),
    );
    expect(heightWhenSent).toBe(block.height);
  });

  it('deploys, invokes in block order and queries committed state; receipts and state are on disk', async () => {
    const mint = tx(bankId, 'mint', ['alice', 100]);
    const transfer = tx(bankId, 'transfer', ['alice', 'bob', 30]);
    const tooMuch = tx(bankId, 'transfer', ['bob', 'alice', 1000]);
    await append([deployTx(), mint, transfer, tooMuch]);
    await ledger.whenReady();
    await settled();
    expect(await store.getReceipt(transfer.id)).toMatchObject({ status: 'ok' });
    expect(await store.getReceipt(tooMuch.id)).toMatchObject({
      status: 'error',
      error: { code: 'icode-error', message: expect.stringContaining('insufficient funds') },
    });
    expect(await store.getState(bankId, 'balance/alice')).toBe(70);
    expect(await executor.query(bankId, 'balance', ['bob'])).toMatchObject({ status: 'ok', result: 30 });
    expect(stored.at(-1)?.icodes).toEqual([
      { type: 'created', id: bankId, gitUrl: bank.gitUrl, commit: bank.commit, txId: expect.any(String) },
    ]);
  });

  it('a restarted node has the installed iCodes, their state and the same next state root', async () => {
    await append([deployTx(), tx(bankId, 'mint', ['alice', 5])]);
    await append([tx('kv', 'put', ['k', 'v'])]);
    await ledger.whenReady();
    const root = ledger.nextStateRoot();
    await close();
    await open();
    expect(ledger.nextStateRoot()).toBe(root);
    expect([...executor.installed().keys()]).toEqual([bankId]);
    expect(await executor.query(bankId, 'balance', ['alice'])).toMatchObject({ result: 5 });
    expect(await executor.query('kv', 'get', ['k'])).toMatchObject({ result: 'v' });
    // A second deploy of the same ID after the restart is refused, as it would have been before.
    const again = deployTx();
    await append([again]);
    await settled();
    expect(await store.getReceipt(again.id)).toMatchObject({ error: { code: 'already-deployed' } });
  });

  it('undeploy removes the iCode (and its record) but keeps its state for a later deploy of the same ID', async () => {
    await append([deployTx(), tx(bankId, 'mint', ['alice', 7])]);
    const undeploy = tx(bankId, UNDEPLOY_FUNCTION, [], 'undeploy');
    const after = tx(bankId, 'balance', ['alice']);
    await append([undeploy, after]);
    await settled();
    expect(await store.getReceipt(after.id)).toMatchObject({ error: { code: 'not-deployed' } });
    expect(await store.getState(DEPLOYMENTS_ICODE_ID, bankId)).toBeUndefined();
    expect(stored.at(-1)?.icodes).toEqual([{ type: 'deleted', id: bankId, txId: undeploy.id }]);
    await close();
    await open();
    expect(executor.installed().size).toBe(0);
    await append([deployTx()]);
    await ledger.whenReady();
    expect(await executor.query(bankId, 'balance', ['alice'])).toMatchObject({ result: 7 });
  });

  it('an infinite loop ends with an out-of-gas receipt and the block goes on', async () => {
    const spin: IcodeDeployment = {
      gitUrl: 'file:///spin',
      commit: 'c'.repeat(40),
      bundle: {
        entry: 'index.js',
        files: [{ path: 'index.js', content: 'export function spin() { for (;;) {} }' }],
      },
    };
    const spinId = icodeIdOf(spin.gitUrl, spin.commit);
    const loop = tx(spinId, 'spin', []);
    const put = tx('kv', 'put', ['after', 1]);
    await append([tx(spinId, DEPLOY_FUNCTION, deploymentArgs(spin), 'deploy'), loop, put]);
    await settled();
    expect(await store.getReceipt(loop.id)).toMatchObject({
      status: 'error',
      error: { code: 'out-of-gas' },
      gasUsed: runtime.limits.gasLimit,
    });
    expect(await store.getReceipt(put.id)).toMatchObject({ status: 'ok' });
  });
});
