import { builtinBundle } from '../adapters/icode/builtin.ts';
import { executeBlock } from '../adapters/icode/execute-block.ts';
import { MemoryState } from '../adapters/icode/memory-state.ts';
import type { IcodeRuntime, StateView } from '../adapters/icode/runtime.ts';
import type { Block } from '../domain/block.ts';
import type { Canonical } from '../domain/canonical.ts';
import { BUILTIN_KV_ID, type IcodeBundle, type IcodeDeployment } from '../domain/icode.ts';
import { DEFAULT_MAX_BUNDLE_BYTES } from '../domain/icode-deployment.ts';
import type { BlockWrite } from '../domain/icode-state-root.ts';
import type { BlockOutcome, Executor, IcodeChange, QueryOutcome } from './executor.ts';

// The node's executor: every committed block's txs run in the IVM (adapters/icode/execute-block.ts)
// on the configured runtime, QuickJS or Docker, the built-in kv included (it is an ordinary iCode,
// adapters/icode/builtin.ts). Blocks run one at a time, in the order the ledger hands them over.
//
// What it keeps in memory, loaded from the store at start (icode-state-loader.ts):
//   - committed state of every iCode (MemoryState per ID): the runtime's StateView must be
//     synchronous, because the sandbox calls it from inside a running function;
//   - the installed iCodes, ID → deployment (git URL, commit, bundle).
// Both change only when a block's outcome is taken over, in one synchronous step after the block has
// run, so a query (which runs between blocks' steps) sees the state after a whole block.
//
// The installed iCodes are durable as records in the store's state space under the reserved ID
// `itchain.icodes` (key = iCode ID, value = {gitUrl, commit, bundle}), written in the block's atomic
// batch and outside the state root (the deploy tx and its receipt are what the root and the block
// commit to). Undeploy removes the record; the iCode's state stays (SPEC §5: unreachable until the
// same ID is deployed again, which then finds it: the same rule before and after a restart).

/** The reserved state ID of the installed iCodes (not an iCode: iCode IDs are hashes or `kv`). */
export const DEPLOYMENTS_ICODE_ID = 'itchain.icodes';

export interface IvmExecutorOptions {
  /** Committed state by iCode ID, as loaded at start. */
  state?: Map<string, MemoryState>;
  /** Installed iCodes by ID, as loaded at start. */
  deployments?: Map<string, IcodeDeployment>;
  maxBundleBytes?: number;
}

export class IvmExecutor implements Executor {
  private readonly state: Map<string, MemoryState>;
  private readonly deployments: Map<string, IcodeDeployment>;
  private readonly maxBundleBytes: number;
  /** The block running now (and the ones handed over after it), one at a time. */
  private tail: Promise<unknown> = Promise.resolve();

  constructor(
    readonly runtime: IcodeRuntime,
    options: IvmExecutorOptions = {},
  ) {
    this.state = options.state ?? new Map();
    this.deployments = options.deployments ?? new Map();
    this.maxBundleBytes = options.maxBundleBytes ?? DEFAULT_MAX_BUNDLE_BYTES;
  }

  /** Installed iCodes (kv not included: it is built in). */
  installed(): ReadonlyMap<string, IcodeDeployment> {
    return this.deployments;
  }

  /** Keys held in memory, over all iCodes. */
  get keys(): number {
    let n = 0;
    for (const s of this.state.values()) n += s.size;
    return n;
  }

  executeBlock(block: Block): Promise<BlockOutcome> {
    const run = this.tail.then(() => this.run(block));
    // A failed block stops the node (the ledger's write fails); later blocks must not run after it.
    this.tail = run;
    return run;
  }

  async query(icodeId: string, fn: string, args: readonly Canonical[]): Promise<QueryOutcome> {
    const bundle = await this.bundleOf(icodeId);
    if (bundle === undefined) {
      return {
        status: 'error',
        error: { code: 'not-deployed', message: `no iCode ${icodeId} is deployed` },
        gasUsed: 0,
      };
    }
    return this.runtime.query({ icodeId, bundle, fn, args, state: this.committed(icodeId) });
  }

  private async bundleOf(icodeId: string): Promise<IcodeBundle | undefined> {
    const deployed = this.deployments.get(icodeId);
    if (deployed) return deployed.bundle;
    return icodeId === BUILTIN_KV_ID ? await builtinBundle(icodeId) : undefined;
  }

  private committed(icodeId: string): StateView {
    return this.state.get(icodeId) ?? EMPTY;
  }

  private async run(block: Block): Promise<BlockOutcome> {
    const executed = await executeBlock(block, {
      runtime: yielding(this.runtime),
      committed: (id) => this.committed(id),
      deployed: (id) => this.deployments.get(id)?.bundle,
      maxBundleBytes: this.maxBundleBytes,
    });
    // Taken over in one synchronous step: a query sees the state before or after the block, whole.
    this.apply(executed.writes);
    // The final record of each iCode the block deployed or undeployed (a block may do both to one ID).
    const records = new Map<string, Canonical | null>();
    const icodes: IcodeChange[] = [];
    const receipts = new Map(executed.receipts.map((r) => [r.txId, r]));
    for (const tx of block.txs) {
      if (receipts.get(tx.id)?.status !== 'ok') continue;
      if (tx.kind === 'deploy') {
        const deployment = executed.deployed.get(tx.icodeId);
        if (deployment === undefined) continue;
        this.deployments.set(tx.icodeId, deployment);
        records.set(tx.icodeId, deploymentRecord(deployment));
        const { gitUrl, commit } = deployment;
        icodes.push({ type: 'created', id: tx.icodeId, gitUrl, commit, txId: tx.id });
      } else if (tx.kind === 'undeploy') {
        this.deployments.delete(tx.icodeId);
        records.set(tx.icodeId, null);
        icodes.push({ type: 'deleted', id: tx.icodeId, txId: tx.id });
      }
    }
    return {
      receipts: executed.receipts,
      writes: executed.writes,
      stateRoot: executed.stateRoot,
      records: [...records].map(([key, value]) => ({ icodeId: DEPLOYMENTS_ICODE_ID, key, value })),
      icodes,
    };
  }

  private apply(writes: readonly BlockWrite[]): void {
    const byIcode = new Map<string, { key: string; value: string | null }[]>();
    for (const { icodeId, key, value } of writes) {
      const list = byIcode.get(icodeId) ?? [];
      if (list.length === 0) byIcode.set(icodeId, list);
      list.push({ key, value });
    }
    for (const [icodeId, list] of byIcode) {
      const state = this.state.get(icodeId) ?? new MemoryState();
      if (state.size === 0) this.state.set(icodeId, state);
      state.apply(list);
    }
  }
}

/** How long a block's calls may run before the event loop gets a turn (timers, sockets, queries). */
const YIELD_EVERY_MS = 10;

/**
 * The runtime with a pause between a block's calls once YIELD_EVERY_MS have passed, so a block of
 * hundreds of calls does not hold up the node's timers and messages (heartbeats above all) until it
 * ends. A call itself runs to its end (its gas bounds it). The results do not change: the block's
 * state is its own, and committed state changes only after the block.
 */
function yielding(runtime: IcodeRuntime): IcodeRuntime {
  return {
    kind: runtime.kind,
    beginBlock: () => {
      const block = runtime.beginBlock();
      let since = performance.now();
      return {
        invoke: async (request) => {
          if (performance.now() - since >= YIELD_EVERY_MS) {
            await new Promise<void>((resolve) => setImmediate(resolve));
            since = performance.now();
          }
          return block.invoke(request);
        },
        end: () => block.end(),
      };
    },
    query: (request) => runtime.query(request),
    forget: (icodeId) => runtime.forget(icodeId),
    close: () => runtime.close(),
  };
}

/** A deployment as its record in the store: what a deploy tx carries in args[0]. */
export function deploymentRecord(deployment: IcodeDeployment): Canonical {
  const { gitUrl, commit, bundle } = deployment;
  const files = bundle.files.map(({ path, content }) => ({ path, content }));
  return { gitUrl, commit, bundle: { entry: bundle.entry, files } };
}

const EMPTY: StateView = { get: () => null, range: () => [] };
