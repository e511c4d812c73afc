import { BlockState } from '../adapters/icode/block-state.ts';
import { DEFAULT_IVM_LIMITS, type IvmLimits } from '../adapters/icode/limits.ts';
import { MemoryState } from '../adapters/icode/memory-state.ts';
import type { StateView } from '../adapters/icode/runtime.ts';
import { StateAccess, StateAccessError } from '../adapters/icode/state-access.ts';
import type { StateWrite as StoreWrite } from '../adapters/store/block-batch.ts';
import type { Block } from '../domain/block.ts';
import type { Canonical } from '../domain/canonical.ts';
import { canonicalJson } from '../domain/canonical.ts';
import { BUILTIN_KV_ID, type Receipt, type ReceiptError, type StateWrite } from '../domain/icode.ts';
import { type BlockWrite, nextStateRoot } from '../domain/icode-state-root.ts';
import type { Transaction } from '../domain/transaction.ts';

// The seam between the ledger and the IVM. The node's ledger runs every committed block's txs
// through an Executor, in block order, and stores what it returns with the block (receipts, state
// writes, deployments) in the same atomic batch; the root it returns is what the next block must
// carry (domain/icode-state-root.ts).
//
// executeBlock may answer at once or later: the node's executor (icode-executor.ts) runs the txs in
// the QuickJS or Docker runtime, which is asynchronous. The ledger then reports the next state root
// as not yet known until the outcome is in (node-ledger.ts), and the replica waits for it before it
// builds or checks the next block. An executor runs blocks one at a time, in the order it is given
// them; committed state is what the blocks before have written, so a query never sees half a block.
//
// KvExecutor below is the smallest executor: the built-in `kv` iCode natively and synchronously,
// without the IVM (deploy, undeploy and other iCodes get an error receipt). The node runs IvmExecutor;
// KvExecutor stays for tests of the ledger that need no runtime.

export interface BlockOutcome {
  /** One per tx, in block order. */
  receipts: Receipt[];
  /** Each key the block changed, once, with its final value (canonical JSON text; null = deleted). */
  writes: BlockWrite[];
  /** The state root after this block: what block height+1 carries in its header. */
  stateRoot: string;
  /**
   * Records the store keeps with the block beside iCode state, outside the state root (the installed
   * iCodes: icode-executor.ts), written in the same atomic batch.
   */
  records?: StoreWrite[];
  /** iCodes the block installed or removed: icode.created / icode.deleted once the block is durable. */
  icodes?: IcodeChange[];
}

export type IcodeChange =
  | { type: 'created'; id: string; gitUrl: string; commit: string; txId: string }
  | { type: 'deleted'; id: string; txId: string };

export interface QueryOutcome {
  status: 'ok' | 'error';
  result?: Canonical;
  error?: ReceiptError;
  gasUsed: number;
}

export interface Executor {
  /**
   * Runs the txs of the next committed block against committed state, makes its writes the committed
   * state, and returns its outcome. Deterministic: every node gets the same outcome for the same block.
   */
  executeBlock(block: Block): BlockOutcome | Promise<BlockOutcome>;
  /** A read-only call against committed state (POST /icodes/:id/query). */
  query(icodeId: string, fn: string, args: readonly Canonical[]): QueryOutcome | Promise<QueryOutcome>;
}

const EMPTY: StateView = { get: () => null, range: () => [] };

type Call =
  | { status: 'ok'; result: Canonical; writes: StateWrite[]; gas: number }
  | { status: 'error'; error: ReceiptError; gas: number };

/** The built-in `kv` iCode, natively, with the same key/value rules and state-op gas as the sandbox. */
export class KvExecutor implements Executor {
  constructor(
    private readonly state: MemoryState = new MemoryState(),
    private readonly limits: IvmLimits = DEFAULT_IVM_LIMITS,
  ) {}

  /** The executor over committed kv state as stored: [key, value] with values as stored JSON. */
  static fromEntries(entries: Iterable<readonly [string, Canonical]>, limits?: IvmLimits): KvExecutor {
    const state = new MemoryState();
    state.apply([...entries].map(([key, value]) => ({ key, value: canonicalJson(value) })));
    return new KvExecutor(state, limits);
  }

  get size(): number {
    return this.state.size;
  }

  executeBlock(block: Block): BlockOutcome {
    const blockState = new BlockState((icodeId) => (icodeId === BUILTIN_KV_ID ? this.state : EMPTY));
    const receipts = block.txs.map((tx) => this.invoke(tx, blockState));
    const writes = blockState.writes();
    const stateRoot = nextStateRoot(block.stateRoot, { writes, receipts });
    this.state.apply(writes.filter((w) => w.icodeId === BUILTIN_KV_ID));
    return { receipts, writes, stateRoot };
  }

  query(icodeId: string, fn: string, args: readonly Canonical[]): QueryOutcome {
    if (icodeId !== BUILTIN_KV_ID) return notDeployed(icodeId);
    const call = this.call((charge) => new StateAccess(this.state, this.limits, true, charge), fn, args);
    return call.status === 'ok'
      ? { status: 'ok', result: call.result, gasUsed: call.gas }
      : { status: 'error', error: call.error, gasUsed: call.gas };
  }

  private invoke(tx: Transaction, blockState: BlockState): Receipt {
    if (tx.kind !== 'invoke') {
      return {
        txId: tx.id,
        status: 'error',
        error: { code: 'unavailable', message: `${tx.kind} txs need the IVM, which this node does not run` },
        gasUsed: 0,
      };
    }
    if (tx.icodeId !== BUILTIN_KV_ID) return { txId: tx.id, ...notDeployed(tx.icodeId) };
    const view = blockState.view(BUILTIN_KV_ID);
    const call = this.call(
      (charge) => new StateAccess(view, this.limits, false, charge),
      tx.function,
      tx.args,
    );
    if (call.status === 'error')
      return { txId: tx.id, status: 'error', error: call.error, gasUsed: call.gas };
    blockState.apply(BUILTIN_KV_ID, call.writes);
    return { txId: tx.id, status: 'ok', result: call.result, gasUsed: call.gas };
  }

  /** builtin/kv/index.js, natively: put(key, value) → null, get(key) → value or null, del(key) → null. */
  private call(
    access: (charge: (gas: number) => void) => StateAccess,
    fn: string,
    args: readonly Canonical[],
  ): Call {
    let gas = 0;
    const { gasLimit } = this.limits;
    const state = access((cost) => {
      gas += cost;
      if (gas > gasLimit) throw new OutOfGas();
    });
    try {
      switch (fn) {
        case 'put':
          state.put(args[0], args[1] === undefined ? undefined : JSON.stringify(args[1]));
          return { status: 'ok', result: null, writes: state.writes(), gas };
        case 'get': {
          const value = state.get(args[0]);
          const result = value === null ? null : (JSON.parse(value) as Canonical);
          return { status: 'ok', result, writes: [], gas };
        }
        case 'del':
          state.del(args[0]);
          return { status: 'ok', result: null, writes: state.writes(), gas };
        default:
          return {
            status: 'error',
            error: { code: 'no-such-function', message: `iCode kv has no function ${fn} (put, get, del)` },
            gas,
          };
      }
    } catch (error) {
      if (error instanceof StateAccessError) {
        return { status: 'error', error: { code: error.code, message: error.message }, gas };
      }
      if (error instanceof OutOfGas) {
        return {
          status: 'error',
          error: { code: 'out-of-gas', message: `used more than ${gasLimit} gas` },
          gas: gasLimit,
        };
      }
      throw error;
    }
  }
}

class OutOfGas extends Error {}

function notDeployed(icodeId: string): { status: 'error'; error: ReceiptError; gasUsed: number } {
  return {
    status: 'error',
    error: { code: 'not-deployed', message: `no iCode ${icodeId} is installed (this node runs only kv)` },
    gasUsed: 0,
  };
}
