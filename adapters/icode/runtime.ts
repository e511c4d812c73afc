// The seam between the node's IVM component and an iCode runtime (QuickJS sandbox, Docker). A runtime
// runs one exported function of an iCode against a read view of the iCode's committed state and
// hands back the writes; the caller commits them with the block, atomically, or drops them.

import type { Canonical } from '../../domain/canonical.ts';
import type { CanonicalJson, IcodeBundle, ReceiptError, StateWrite, TxContext } from '../../domain/icode.ts';

/** Keys in [from, to) that start with prefix (each bound optional), in compareKeys order. */
export interface KeyRange {
  prefix?: string;
  from?: string;
  to?: string;
  /** At most this many entries (the runtime passes IvmLimits.maxRangeEntries at most). */
  limit: number;
}

export interface StateEntry {
  key: string;
  value: CanonicalJson;
}

/**
 * A synchronous read view of one iCode's state. The QuickJS sandbox calls it from inside a running
 * function, so it cannot wait: the node serves it from memory (a cache of the iCode's keys filled
 * before the block runs, with the block's earlier writes on top: see block-state.ts).
 */
export interface StateView {
  get(key: string): CanonicalJson | null;
  /** Entries in range, sorted by compareKeys, at most range.limit of them. */
  range(range: KeyRange): StateEntry[];
}

export interface CallRequest {
  icodeId: string;
  bundle: IcodeBundle;
  /** Name of an exported function of the bundle's entry file. */
  fn: string;
  args: readonly Canonical[];
  state: StateView;
  /** Overrides IvmLimits.gasLimit for this call (never above it). */
  gasLimit?: number;
}

export interface InvokeRequest extends CallRequest {
  tx: TxContext;
}

export type QueryRequest = CallRequest;

export interface CallOutcome {
  status: 'ok' | 'error';
  result?: Canonical;
  error?: ReceiptError;
  gasUsed: number;
}

export interface InvokeResult extends CallOutcome {
  /** One entry per key written, its final value (null = deleted), sorted by key; empty on error. */
  writes: StateWrite[];
}

export type QueryResult = CallOutcome;

/**
 * The invokes of one committed block, run in block order. Each invoke starts from committed state
 * (what `state` shows) and nothing else: no module variable, global or garbage of an earlier call
 * changes its result or gas. A runtime may share one sandbox among the block's invokes of an iCode,
 * because every node runs the same invokes in the same order in the same fresh sandbox.
 */
export interface BlockExecution {
  invoke(request: InvokeRequest): Promise<InvokeResult>;
  /** Releases the block's sandboxes. Call it once, after the last invoke, also when the block fails. */
  end(): Promise<void>;
}

export interface IcodeRuntime {
  readonly kind: 'quickjs' | 'docker';
  beginBlock(): BlockExecution;
  /** Runs a function read-only against committed state, outside consensus; a write is an error. */
  query(request: QueryRequest): Promise<QueryResult>;
  /** Drops compiled code and sandboxes of an iCode (after undeploy). */
  forget(icodeId: string): Promise<void>;
  close(): Promise<void>;
}

/** One invoke in a block of its own: for tests, tools and the SDK's local harness. */
export async function invokeOnce(runtime: IcodeRuntime, request: InvokeRequest): Promise<InvokeResult> {
  const block = runtime.beginBlock();
  try {
    return await block.invoke(request);
  } finally {
    await block.end();
  }
}
