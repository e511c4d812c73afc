// One QuickJS sandbox: a WASM instance with its own bounded memory, one runtime and one hardened
// context, holding one iCode. Calls into it are synchronous; each one is metered by its own GasMeter
// and sees state only through a StateAccess. After a call that was stopped from outside (out of gas,
// out of memory, a host stack overflow) the sandbox reports itself broken and its owner replaces it.

import type { QuickJSContext, QuickJSHandle, QuickJSRuntime } from 'quickjs-emscripten';
import type { Canonical } from '../../../domain/canonical.ts';
import { jsonValue } from '../../../domain/decode.ts';
import type { ReceiptError, ReceiptErrorCode, StateWrite, TxContext } from '../../../domain/icode.ts';
import type { CompiledIcode } from '../compile.ts';
import { GAS, type IvmLimits } from '../limits.ts';
import type { CallOutcome, StateView } from '../runtime.ts';
import { rangeJson, StateAccess, StateAccessError } from '../state-access.ts';
import { GasMeter } from './gas-meter.ts';
import { interruptCounterOf, interruptCounterOffset } from './interrupt-counter.ts';
import { PRELUDE } from './prelude.ts';
import { memoryCeiling, newQuickJsInstance, type QuickJsInstance } from './wasm.ts';

export type LogLine = (level: string, message: string) => void;

export interface SandboxCall {
  icodeId: string;
  fn: string;
  args: readonly Canonical[];
  /** null for a query, which is read-only. */
  tx: TxContext | null;
  state: StateView;
  gasLimit: number;
}

export interface SandboxOutcome extends CallOutcome {
  /** The call's writes (see StateAccess.writes); empty unless status is ok. */
  writes: StateWrite[];
}

// Intrinsics without Date: the prelude puts a throwing stand-in in its place.
const INTRINSICS = {
  BaseObjects: true,
  Date: false,
  Eval: true, // needed by the host to evaluate the prelude and the factory; the guest's eval is replaced
  StringNormalize: true,
  RegExp: true,
  JSON: true,
  Proxy: true,
  MapSet: true,
  TypedArrays: true,
  Promise: true,
  BigInt: true,
} as const;

const LOG_LEVELS = new Set(['debug', 'info', 'warn', 'error']);

/** The error codes the prelude reports; anything else from the guest is an icode-error. */
const GUEST_CODES: ReadonlySet<string> = new Set<ReceiptErrorCode>([
  'icode-error',
  'no-such-function',
  'bad-result',
  'result-too-large',
  'out-of-memory',
  'stack-overflow',
]);

class OutOfGas extends Error {
  constructor() {
    super('out of gas');
    this.name = 'OutOfGas';
  }
}

export class Sandbox {
  private access: StateAccess | undefined;
  private brokenFlag = false;
  private installed = false;

  private constructor(
    private readonly runtime: QuickJSRuntime,
    private readonly context: QuickJSContext,
    private readonly meter: GasMeter,
    private readonly api: QuickJSHandle,
    private readonly limits: IvmLimits,
    /** The iCode this sandbox is for. */
    readonly compiled: CompiledIcode,
    private readonly instance: QuickJsInstance,
  ) {}

  static async create(
    limits: IvmLimits,
    log: LogLine | undefined,
    compiled: CompiledIcode,
  ): Promise<Sandbox> {
    const counterOffset = await interruptCounterOffset();
    const instance = await newQuickJsInstance(limits.memoryBytes);
    const module = instance.module;
    const runtime = module.newRuntime();
    runtime.setMemoryLimit(limits.memoryBytes);
    runtime.setMaxStackSize(limits.stackBytes);
    const context = runtime.newContext({ intrinsics: INTRINSICS });
    const meter = new GasMeter(interruptCounterOf(module, context, counterOffset));
    runtime.setInterruptHandler(() => meter.onInterrupt());
    let sandbox: Sandbox | undefined;
    const host = (
      name: string,
      body: (access: StateAccess, ...args: QuickJSHandle[]) => QuickJSHandle | undefined,
    ) =>
      context.newFunction(name, (...args) => {
        const access = sandbox?.access;
        if (!access) throw new Error(`${name} can only be used while a function of the iCode runs`);
        try {
          return body(access, ...args);
        } catch (e) {
          // A broken state rule decides the call's outcome: stop the guest instead of letting it go on.
          if (e instanceof StateAccessError) meter.halt();
          throw e;
        }
      });
    const str = (h: QuickJSHandle | undefined): unknown => {
      if (h === undefined) return undefined;
      const type = context.typeof(h);
      return type === 'string' ? context.getString(h) : type === 'undefined' ? undefined : { type };
    };
    const parsed = (h: QuickJSHandle | undefined): unknown => {
      const s = str(h);
      return typeof s === 'string' ? JSON.parse(s) : s;
    };
    const fns = [
      host('get', (access, key) => {
        const value = access.get(str(key));
        return value === null ? context.null : context.newString(value);
      }),
      host('put', (access, key, json) => {
        access.put(str(key), str(json));
        return undefined;
      }),
      host('del', (access, key) => {
        access.del(str(key));
        return undefined;
      }),
      host('range', (access, query) => context.newString(rangeJson(access.range(parsed(query))))),
      host('log', (_access, level, message) => {
        const text = String(str(message) ?? '').slice(0, limits.maxErrorChars);
        if (!meter.charge(GAS.stateCall + text.length)) throw new OutOfGas();
        const named = str(level);
        log?.(typeof named === 'string' && LOG_LEVELS.has(named) ? named : 'info', text);
        return undefined;
      }),
    ];
    const maxChars = context.newNumber(limits.maxResultBytes);
    const preludeFn = context.unwrapResult(context.evalCode(PRELUDE, 'prelude.js', { type: 'global' }));
    const api = context.unwrapResult(context.callFunction(preludeFn, context.undefined, [...fns, maxChars]));
    for (const h of [...fns, maxChars, preludeFn]) h.dispose();
    sandbox = new Sandbox(runtime, context, meter, api, limits, compiled, instance);
    return sandbox;
  }

  /** True once a call was stopped from outside: the owner must not use this sandbox again. */
  get broken(): boolean {
    return this.brokenFlag;
  }

  /** Installs the iCode's factory; an error means the code cannot run (a receipt error). */
  install(gasLimit: number): ReceiptError | undefined {
    if (this.installed) throw new Error('this sandbox holds an iCode already');
    this.installed = true;
    const { context } = this;
    this.meter.start(gasLimit);
    const factory = context.evalCode(this.compiled.factory, 'icode.js', { type: 'global', strict: true });
    this.meter.stop();
    if (factory.error) {
      factory.error.dispose();
      this.brokenFlag = true;
      return { code: 'bad-code', message: 'the compiled iCode did not evaluate' };
    }
    const result = context.callMethod(this.api, 'install', [factory.value]);
    factory.value.dispose();
    if (result.error) {
      result.error.dispose();
      this.brokenFlag = true;
      return { code: 'bad-code', message: 'the iCode could not be installed' };
    }
    result.value.dispose();
    return undefined;
  }

  run(call: SandboxCall): SandboxOutcome {
    const meter = this.meter;
    const access = new StateAccess(call.state, this.limits, call.tx === null, (gas) => {
      if (!meter.charge(gas)) throw new OutOfGas();
    });
    const outcome = this.runWith(call, access);
    return { ...outcome, writes: outcome.status === 'ok' ? access.writes() : [] };
  }

  private runWith(call: SandboxCall, access: StateAccess): CallOutcome {
    if (this.brokenFlag || !this.installed) throw new Error('this sandbox cannot run calls');
    const { context } = this;
    // One string for the whole call: each handle crossing into the guest costs more than parsing.
    const request = context.newString(
      JSON.stringify({ fn: call.fn, args: call.args, tx: call.tx, icodeId: call.icodeId }),
    );
    this.access = access;
    const refusedBefore = this.instance.refusedGrowths();
    this.meter.start(call.gasLimit);
    let answer: string | ReceiptError;
    try {
      answer = this.answer(context.callMethod(this.api, 'invoke', [request]));
    } catch (e) {
      // The host itself failed mid-call: V8's own stack ran out under deep guest recursion, or
      // quickjs-emscripten could not allocate. The instance may be inconsistent: never reuse it.
      this.brokenFlag = true;
      const stack = e instanceof RangeError;
      answer = {
        code: stack ? 'stack-overflow' : 'out-of-memory',
        message: stack ? 'stack overflow' : 'out of memory',
      };
    } finally {
      this.access = undefined;
    }
    const gasUsed = this.meter.stop();
    request.dispose();
    if (this.meter.exhausted) {
      this.brokenFlag = true;
      return {
        status: 'error',
        error: { code: 'out-of-gas', message: `used all ${call.gasLimit} gas` },
        gasUsed,
      };
    }
    // The heap was refused memory during the call: it ran out, even if the iCode caught the error
    // (or QuickJS swallowed it, as it does when a promise job cannot be queued). The call fails and
    // the sandbox is not used again. The heap's history is the block's, so every node agrees.
    if (this.instance.refusedGrowths() > refusedBefore) {
      this.brokenFlag = true;
      const ceiling = memoryCeiling(this.limits.memoryBytes);
      return this.failed({ code: 'out-of-memory', message: `used all ${ceiling} bytes of memory` }, gasUsed);
    }
    const violation = access.violation;
    if (violation) return { status: 'error', error: violation, gasUsed };
    if (typeof answer !== 'string') return this.failed(answer, gasUsed);
    if (answer.startsWith('E')) return this.failed(this.guestError(answer.slice(1)), gasUsed);
    return this.result(answer.slice(1), gasUsed);
  }

  dispose(): void {
    // A broken instance may abort inside QuickJS's own clean-up, and so may one whose heap ran full
    // (QuickJS leaks objects on some out-of-memory paths, then asserts when the runtime is freed).
    // The instance is ours alone, so dropping it is enough: its memory goes with the last reference.
    if (this.brokenFlag) return;
    this.brokenFlag = true;
    try {
      this.api.dispose();
      this.context.dispose();
      this.runtime.dispose();
    } catch {
      // see above
    }
  }

  /**
   * Runs the promise jobs the call left (they are part of the call, metered by its gas, even when
   * the function itself returned synchronously), then reads the guest's one-string answer.
   */
  private answer(result: ReturnType<QuickJSContext['callMethod']>): string | ReceiptError {
    const { context, runtime } = this;
    if (result.error) return this.thrown(result.error);
    const value = result.value;
    try {
      if (runtime.hasPendingJob()) {
        const jobs = runtime.executePendingJobs();
        if (jobs.error) return this.thrown(jobs.error);
        // A job failed in a way QuickJS does not report here: what is left must not run in a later call.
        if (runtime.hasPendingJob()) this.brokenFlag = true;
      }
      if (context.typeof(value) === 'string') return context.getString(value);
      const state = context.getPromiseState(value);
      if (state.type === 'pending') {
        return { code: 'icode-error', message: 'the function returned a promise that never settled' };
      }
      if (state.type === 'rejected') return this.thrown(state.error);
      const settled = state.value;
      try {
        const answered = context.typeof(settled) === 'string';
        return answered ? context.getString(settled) : { code: 'bad-result', message: 'no answer' };
      } finally {
        if (settled !== value) settled.dispose();
      }
    } finally {
      value.dispose();
    }
  }

  /** An exception that escaped the prelude: the engine stopped the guest, or it ran out of memory. */
  private thrown(error: QuickJSHandle): ReceiptError {
    const { context } = this;
    try {
      const message = context
        .getProp(error, 'message')
        .consume((m) => (context.typeof(m) === 'string' ? context.getString(m) : ''));
      if (message === 'out of memory') {
        this.brokenFlag = true;
        return { code: 'out-of-memory', message };
      }
      if (message === 'stack overflow') return { code: 'stack-overflow', message };
      if (message === 'interrupted') this.brokenFlag = true;
      return { code: 'icode-error', message: message || 'the call failed' };
    } finally {
      error.dispose();
    }
  }

  private guestError(json: string): ReceiptError {
    const parsed: unknown = JSON.parse(json);
    const o = typeof parsed === 'object' && parsed !== null ? (parsed as Record<string, unknown>) : {};
    const code =
      typeof o.code === 'string' && GUEST_CODES.has(o.code) ? (o.code as ReceiptErrorCode) : 'icode-error';
    if (code === 'out-of-memory') this.brokenFlag = true;
    return { code, message: typeof o.message === 'string' ? o.message : '' };
  }

  private failed(error: ReceiptError, gasUsed: number): CallOutcome {
    const max = this.limits.maxErrorChars;
    const message = error.message.length > max ? `${error.message.slice(0, max)}…` : error.message;
    return { status: 'error', error: { code: error.code, message }, gasUsed };
  }

  private result(json: string, gasUsed: number): CallOutcome {
    if (Buffer.byteLength(json) > this.limits.maxResultBytes) {
      return this.failed(
        { code: 'result-too-large', message: `the result is over ${this.limits.maxResultBytes} bytes` },
        gasUsed,
      );
    }
    try {
      return { status: 'ok', result: jsonValue(JSON.parse(json), 'result'), gasUsed };
    } catch (e) {
      return this.failed(
        { code: 'bad-result', message: e instanceof Error ? e.message : String(e) },
        gasUsed,
      );
    }
  }
}
