// Run an iCode on your machine, without a chain: the same QuickJS runtime, limits and receipts as a
// node, over state kept in memory. Each invoke is a block of its own; a failed invoke changes nothing.
//
//   const counter = await loadIcode('./my-icode');
//   await counter.invoke('increment', 2);   // { status: 'ok', result: 2, gasUsed: ..., writes: [...] }
//   await counter.query('get');             // { status: 'ok', result: 2, gasUsed: ... }

import { bundleDirectory } from '../adapters/icode/bundle-directory.ts';
import type { IvmLimits } from '../adapters/icode/limits.ts';
import { MemoryState } from '../adapters/icode/memory-state.ts';
import { QuickJsRuntime } from '../adapters/icode/quickjs/quickjs-runtime.ts';
import { type InvokeResult, invokeOnce, type QueryResult } from '../adapters/icode/runtime.ts';
import type { Canonical } from '../domain/canonical.ts';
import { sha256Hex } from '../domain/hash.ts';
import type { IcodeBundle, TxContext } from '../domain/icode.ts';

export interface LocalIcodeOptions {
  /** The ID the iCode runs under (default "local"). */
  icodeId?: string;
  /** The node ID that signs the txs (default 40 zeros). */
  signer?: string;
  /** The first tx timestamp; each invoke adds one second (default 2026-01-01). */
  startTime?: number;
  limits?: Partial<IvmLimits>;
  log?: (level: string, message: string) => void;
}

export class LocalIcode {
  readonly state = new MemoryState();
  private readonly runtime: QuickJsRuntime;
  private txCount = 0;

  constructor(
    readonly bundle: IcodeBundle,
    private readonly options: LocalIcodeOptions = {},
  ) {
    const log = options.log;
    this.runtime = new QuickJsRuntime({
      limits: options.limits,
      log: log && ((_id, level, message) => log(level, message)),
    });
  }

  get icodeId(): string {
    return this.options.icodeId ?? 'local';
  }

  /** Runs fn as a committed tx: on success its writes are applied to `state`. */
  async invoke(fn: string, ...args: Canonical[]): Promise<InvokeResult> {
    const n = ++this.txCount;
    const tx: TxContext = {
      id: sha256Hex(`local-tx-${n}`),
      signer: this.options.signer ?? '0'.repeat(40),
      timestamp: (this.options.startTime ?? Date.UTC(2026, 0, 1)) + n * 1000,
    };
    const result = await invokeOnce(this.runtime, {
      icodeId: this.icodeId,
      bundle: this.bundle,
      fn,
      args,
      tx,
      state: this.state,
    });
    if (result.status === 'ok') this.state.apply(result.writes);
    return result;
  }

  /** Runs fn read-only against the current state. */
  query(fn: string, ...args: Canonical[]): Promise<QueryResult> {
    return this.runtime.query({ icodeId: this.icodeId, bundle: this.bundle, fn, args, state: this.state });
  }

  close(): Promise<void> {
    return this.runtime.close();
  }
}

/** Loads the iCode in `dir` (icode.json's entry, default index.js) for local runs. */
export async function loadIcode(dir: string, options: LocalIcodeOptions = {}): Promise<LocalIcode> {
  return new LocalIcode(await bundleDirectory(dir), options);
}
