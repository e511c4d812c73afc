// The host side of one call into an iCode container: it answers the runner's state requests through
// the same StateAccess (rules, read-your-writes, prices) as the QuickJS sandbox, meters gas, and turns
// how the call ended into a CallOutcome by the same rules as quickjs/sandbox.ts, in the same order:
// out of gas, then a broken state rule, then how the container ended or the guest's own answer.

import { jsonValue } from '../../../domain/decode.ts';
import type { ReceiptError, ReceiptErrorCode, StateWrite } from '../../../domain/icode.ts';
import { GAS, type IvmLimits } from '../limits.ts';
import type { CallOutcome, StateView } from '../runtime.ts';
import { rangeJson, StateAccess } from '../state-access.ts';
import type { CallEnd, RequestHandler } from './container.ts';
import { CallMeter, DOCKER_GAS } from './gas.ts';
import { guestValue, type ReplyMessage, type RunnerMessage } from './protocol.ts';

export type LogLine = (level: string, message: string) => void;

/** The codes the prelude itself reports; a runner claiming any other code is not believed. */
const GUEST_CODES: ReadonlySet<ReceiptErrorCode> = new Set<ReceiptErrorCode>([
  'icode-error',
  'no-such-function',
  'bad-result',
  'result-too-large',
  'out-of-memory',
  'stack-overflow',
]);

// V8's message for a stack overflow, as the prelude reports it; QuickJS says 'stack overflow'.
const V8_STACK_OVERFLOW = 'RangeError: Maximum call stack size exceeded';

function errorName(e: unknown): string {
  return e instanceof Error ? e.name : 'Error';
}

function errorMessage(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

function outOfGas(): Error {
  const e = new Error('out of gas');
  e.name = 'OutOfGas';
  return e;
}

/** What the runner gets for a state request once the call's outcome is decided. */
const STOPPED: ReplyMessage = { t: 'reply', err: 'the call was stopped', name: 'Error' };

export class CallSession {
  readonly meter: CallMeter;
  readonly access: StateAccess;

  constructor(
    state: StateView,
    private readonly limits: IvmLimits,
    readOnly: boolean,
    gasLimit: number,
    private readonly timeoutMs: number,
    private readonly log: LogLine | undefined,
  ) {
    this.meter = new CallMeter(gasLimit);
    this.meter.charge(DOCKER_GAS.call);
    this.access = new StateAccess(state, limits, readOnly, (gas) => {
      if (!this.meter.charge(gas)) throw outOfGas();
    });
  }

  /**
   * QuickJS stops the guest at the first broken state rule or when gas runs out. A container cannot
   * be stopped mid-call without killing it, so the call is stopped on this side instead: from then on
   * nothing it does is charged or recorded, its reads fail, and the outcome is already decided.
   */
  private get halted(): boolean {
    return this.meter.exhausted || this.access.violation !== undefined;
  }

  readonly handle: RequestHandler = (message: RunnerMessage): ReplyMessage | undefined => {
    if (this.halted) return message.t === 'get' || message.t === 'range' ? STOPPED : undefined;
    switch (message.t) {
      case 'get':
        return this.reply(() => this.access.get(guestValue(message.k)));
      case 'range':
        return this.reply(() => {
          const q = guestValue(message.q);
          return rangeJson(this.access.range(typeof q === 'string' ? JSON.parse(q) : q));
        });
      // No reply: a broken rule or spent gas is recorded, and decides the outcome when the call ends.
      case 'put':
        this.quietly(() => this.access.put(guestValue(message.k), guestValue(message.v)));
        return undefined;
      case 'del':
        this.quietly(() => this.access.del(guestValue(message.k)));
        return undefined;
      case 'log': {
        const text = String(guestValue(message.msg) ?? '').slice(0, this.limits.maxErrorChars);
        this.quietly(() => {
          if (!this.meter.charge(GAS.stateCall + text.length)) throw outOfGas();
          this.log?.(String(guestValue(message.level)), text);
        });
        return undefined;
      }
      default:
        return { t: 'reply', err: `unexpected message ${message.t}`, name: 'Error' };
    }
  };

  /** The call's writes: each key once with its final value, sorted by key. */
  writes(): StateWrite[] {
    return this.access.writes();
  }

  outcome(end: CallEnd): CallOutcome {
    const { meter } = this;
    // A call stopped here first ends as it would have in QuickJS, whatever it did after.
    if (meter.exhausted) {
      return {
        status: 'error',
        error: { code: 'out-of-gas', message: `used all ${meter.limit} gas` },
        gasUsed: meter.used,
      };
    }
    const violation = this.access.violation;
    if (violation) return { status: 'error', error: violation, gasUsed: meter.used };
    if (end.kind === 'timeout') {
      meter.exhaust();
      const message = `ran longer than ${this.timeoutMs} ms (the Docker runtime's gas limit is a time limit)`;
      return { status: 'error', error: { code: 'out-of-gas', message }, gasUsed: meter.used };
    }
    if (end.kind === 'crashed') {
      // The whole budget, not what was charged before the crash: when a memory bomb dies depends on
      // the garbage collector, and gasUsed must not.
      meter.exhaust();
      const error: ReceiptError = end.outOfMemory
        ? { code: 'out-of-memory', message: "the iCode's container ran out of memory" }
        : {
            code: 'icode-error',
            message: `the iCode's container exited (code ${end.exitCode ?? 'unknown'})`,
          };
      return { status: 'error', error, gasUsed: meter.used };
    }
    if (end.kind === 'pending') {
      return this.failed({
        code: 'icode-error',
        message: 'the function returned a promise that never settled',
      });
    }
    if (end.out.startsWith('E')) return this.failed(this.guestError(end.out.slice(1)));
    return this.result(end.out.slice(1));
  }

  private reply(read: () => string | null): ReplyMessage {
    try {
      return { t: 'reply', v: read() };
    } catch (e) {
      return { t: 'reply', err: errorMessage(e), name: errorName(e) };
    }
  }

  private quietly(op: () => void): void {
    try {
      op();
    } catch {
      // StateAccess and the meter remember the first failure; the outcome reports it.
    }
  }

  private guestError(json: string): ReceiptError {
    let parsed: unknown;
    try {
      parsed = JSON.parse(json);
    } catch {
      parsed = {};
    }
    const o = typeof parsed === 'object' && parsed !== null ? (parsed as Record<string, unknown>) : {};
    const code = GUEST_CODES.has(o.code as ReceiptErrorCode) ? (o.code as ReceiptErrorCode) : 'icode-error';
    const message = typeof o.message === 'string' ? o.message : '';
    if (code === 'icode-error' && message === V8_STACK_OVERFLOW)
      return { code: 'stack-overflow', message: 'stack overflow' };
    return { code, message };
  }

  private failed(error: ReceiptError): CallOutcome {
    const max = this.limits.maxErrorChars;
    const message = error.message.length > max ? `${error.message.slice(0, max)}…` : error.message;
    return { status: 'error', error: { code: error.code, message }, gasUsed: this.meter.used };
  }

  private result(json: string): CallOutcome {
    if (Buffer.byteLength(json) > this.limits.maxResultBytes) {
      return this.failed({
        code: 'result-too-large',
        message: `the result is over ${this.limits.maxResultBytes} bytes`,
      });
    }
    try {
      return { status: 'ok', result: jsonValue(JSON.parse(json), 'result'), gasUsed: this.meter.used };
    } catch (e) {
      return this.failed({ code: 'bad-result', message: errorMessage(e) });
    }
  }
}
