// The default iCode runtime: QuickJS compiled to WebAssembly, in-process (SPEC §5).
//
// Sandbox lifetimes, and why they are safe:
// - Commit path: a block gets a fresh sandbox per iCode it invokes, shared by that iCode's invokes in
//   block order, and dropped at the end of the block. Every node runs the same invokes in the same
//   order from the same fresh sandbox, so even what the realm cannot reset between calls (the heap's
//   garbage, which decides exactly when a memory-hungry call hits the limit) is the same everywhere.
//   Everything else is reset per invoke: gas is metered from zero (gas-meter.ts), module variables are
//   new (the factory runs again) and the realm is frozen (prelude.ts). A call that was stopped from
//   outside (out of gas or memory) breaks the sandbox; the next invoke gets a fresh one, on every node.
// - Queries: one long-lived sandbox per iCode, replaced when broken. Queries are not consensus, so
//   only safety matters there, not equal heap histories.
// Creating a sandbox costs ~3-4 ms (WASM instance, runtime, context, hardening); an invoke in a warm
// sandbox costs tens of microseconds.

import { hashOf } from '../../../domain/hash.ts';
import type { IcodeBundle, ReceiptError } from '../../../domain/icode.ts';
import { type CompiledIcode, CompileError, compileBundle } from '../compile.ts';
import { DEFAULT_IVM_LIMITS, type IvmLimits } from '../limits.ts';
import type {
  BlockExecution,
  CallRequest,
  IcodeRuntime,
  InvokeRequest,
  InvokeResult,
  QueryRequest,
  QueryResult,
} from '../runtime.ts';
import { type LogLine, Sandbox } from './sandbox.ts';

export interface QuickJsRuntimeOptions {
  limits?: Partial<IvmLimits>;
  /** Where an iCode's console.* lines go (default: nowhere). */
  log?: (icodeId: string, level: string, message: string) => void;
}

type Compiled = CompiledIcode | ReceiptError;

interface CodeEntry {
  bundle: IcodeBundle;
  hash: string | undefined;
  compiled: Promise<Compiled>;
}

/** Runs async steps one at a time, in the order they were asked for. */
class Serial {
  private tail: Promise<unknown> = Promise.resolve();

  run<T>(step: () => Promise<T>): Promise<T> {
    const next = this.tail.then(step, step);
    this.tail = next.catch(() => undefined);
    return next;
  }
}

function isCompiled(c: Compiled): c is CompiledIcode {
  return 'factory' in c;
}

export class QuickJsRuntime implements IcodeRuntime {
  readonly kind = 'quickjs' as const;
  readonly limits: IvmLimits;
  private readonly code = new Map<string, CodeEntry>();
  private readonly querySandboxes = new Map<string, Sandbox>();
  private readonly queries = new Serial();
  private closed = false;

  constructor(private readonly options: QuickJsRuntimeOptions = {}) {
    this.limits = { ...DEFAULT_IVM_LIMITS, ...options.limits };
  }

  beginBlock(): BlockExecution {
    this.assertOpen();
    return new QuickJsBlock(this);
  }

  query(request: QueryRequest): Promise<QueryResult> {
    this.assertOpen();
    return this.queries.run(async () => {
      const loaded = await this.sandboxFor(request, this.querySandboxes.get(request.icodeId));
      if ('code' in loaded) return { status: 'error', error: loaded, gasUsed: 0 };
      this.querySandboxes.set(request.icodeId, loaded);
      const { writes: _none, ...outcome } = loaded.run({
        ...this.callOf(request),
        tx: null,
        state: request.state,
      });
      return outcome;
    });
  }

  async forget(icodeId: string): Promise<void> {
    await this.queries.run(async () => {
      this.code.delete(icodeId);
      this.querySandboxes.get(icodeId)?.dispose();
      this.querySandboxes.delete(icodeId);
    });
  }

  async close(): Promise<void> {
    await this.queries.run(async () => {
      this.closed = true;
      for (const sandbox of this.querySandboxes.values()) sandbox.dispose();
      this.querySandboxes.clear();
      this.code.clear();
    });
  }

  /** A sandbox holding the request's iCode: `current` if it is still usable, else a new one. */
  async sandboxFor(request: CallRequest, current: Sandbox | undefined): Promise<Sandbox | ReceiptError> {
    const compiled = await this.compiled(request.icodeId, request.bundle);
    if (!isCompiled(compiled)) return compiled;
    if (current && !current.broken && current.compiled === compiled) return current;
    current?.dispose();
    const sandbox = await Sandbox.create(this.limits, this.logFor(request.icodeId), compiled);
    const problem = sandbox.install(this.gasOf(request));
    if (problem) {
      sandbox.dispose();
      return problem;
    }
    return sandbox;
  }

  callOf(request: CallRequest) {
    return { icodeId: request.icodeId, fn: request.fn, args: request.args, gasLimit: this.gasOf(request) };
  }

  private gasOf(request: CallRequest): number {
    return Math.min(request.gasLimit ?? this.limits.gasLimit, this.limits.gasLimit);
  }

  private logFor(icodeId: string): LogLine | undefined {
    const log = this.options.log;
    return log && ((level, message) => log(icodeId, level, message));
  }

  private compiled(icodeId: string, bundle: IcodeBundle): Promise<Compiled> {
    const known = this.code.get(icodeId);
    if (known && known.bundle === bundle) return known.compiled;
    // Another bundle object under the same ID: the same code unless its hash says otherwise.
    const hash = hashOf(bundle);
    if (known) {
      known.hash ??= hashOf(known.bundle);
      if (known.hash === hash) return known.compiled;
    }
    const compiled = compileBundle(bundle).catch(
      (e: unknown): ReceiptError => ({
        code: 'bad-code',
        message: e instanceof CompileError ? e.message : String(e),
      }),
    );
    this.code.set(icodeId, { bundle, hash, compiled });
    return compiled;
  }

  private assertOpen(): void {
    if (this.closed) throw new Error('the QuickJS runtime is closed');
  }
}

class QuickJsBlock implements BlockExecution {
  private readonly sandboxes = new Map<string, Sandbox>();
  private readonly serial = new Serial();
  private ended = false;

  constructor(private readonly runtime: QuickJsRuntime) {}

  invoke(request: InvokeRequest): Promise<InvokeResult> {
    if (this.ended) throw new Error('this block has ended');
    return this.serial.run(async () => {
      const loaded = await this.runtime.sandboxFor(request, this.sandboxes.get(request.icodeId));
      if ('code' in loaded) {
        this.sandboxes.delete(request.icodeId);
        return { status: 'error', error: loaded, gasUsed: 0, writes: [] };
      }
      this.sandboxes.set(request.icodeId, loaded);
      return loaded.run({ ...this.runtime.callOf(request), tx: request.tx, state: request.state });
    });
  }

  end(): Promise<void> {
    this.ended = true;
    return this.serial.run(async () => {
      for (const sandbox of this.sandboxes.values()) sandbox.dispose();
      this.sandboxes.clear();
    });
  }
}
