// What one call may do to its iCode's state, enforced on the host side (the guest is never trusted):
// key and value rules, read-your-writes over the committed view, gas per operation, and the writes
// collected for the caller to commit. Shared by every runtime.

import { canonicalJson } from '../../domain/canonical.ts';
import { jsonValue } from '../../domain/decode.ts';
import { type CanonicalJson, compareKeys, type ReceiptError, type StateWrite } from '../../domain/icode.ts';
import { GAS, type IvmLimits } from './limits.ts';
import { overlayRange } from './overlay.ts';
import type { KeyRange, StateEntry, StateView } from './runtime.ts';

/** A broken rule of state access. The first one fails the call even if the iCode catches it. */
export class StateAccessError extends Error {
  constructor(
    readonly code: 'bad-state-access' | 'read-only',
    message: string,
  ) {
    super(message);
    this.name = 'StateAccessError';
  }
}

function utf8Bytes(s: string): number {
  return Buffer.byteLength(s);
}

/** What an operation's argument costs before it is checked: its length if it is a string. */
function inputBytes(value: unknown): number {
  return typeof value === 'string' ? value.length : 0;
}

// A lone surrogate has no UTF-8 encoding: two such keys would reach the store as the same bytes.
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

function isWellFormed(s: string): boolean {
  return !LONE_SURROGATE.test(s);
}
/**
 * ctx.range's answer as the JSON text the guest parses: values are canonical JSON already, so they
 * are spliced in as they are instead of being parsed and encoded again.
 */
export function rangeJson(entries: readonly StateEntry[]): string {
  return `[${entries.map((e) => `{"key":${JSON.stringify(e.key)},"value":${e.value}}`).join(',')}]`;
}

export class StateAccess {
  private readonly pending = new Map<string, CanonicalJson | null>();
  private writtenBytes = 0;
  private firstViolation: StateAccessError | undefined;

  /**
   * `charge` takes gas from the call (and throws when it runs out). Each operation is charged for its
   * input before anything is checked, so a call cannot loop on failing operations for free.
   */
  constructor(
    private readonly view: StateView,
    private readonly limits: IvmLimits,
    private readonly readOnly: boolean,
    private readonly charge: (gas: number) => void,
  ) {}

  /** The first rule broken during the call, if any: it decides the call's outcome. */
  get violation(): ReceiptError | undefined {
    const v = this.firstViolation;
    return v && { code: v.code, message: v.message };
  }

  get(key: unknown): CanonicalJson | null {
    this.charge(GAS.stateCall + GAS.perByte * inputBytes(key));
    const k = this.key(key);
    const value = this.pending.has(k) ? this.pending.get(k)! : this.view.get(k);
    if (value !== null) this.charge(GAS.perByte * value.length);
    return value;
  }

  /** `json` is the guest's JSON.stringify of the value; it is re-encoded canonically. */
  put(key: unknown, json: unknown): void {
    this.charge(GAS.stateCall + GAS.perByte * (inputBytes(key) + inputBytes(json)));
    const k = this.key(key);
    this.writable(k);
    this.record(k, this.canonicalValue(k, json));
  }

  del(key: unknown): void {
    this.charge(GAS.stateCall + GAS.perByte * inputBytes(key));
    const k = this.key(key);
    this.writable(k);
    this.record(k, null);
  }

  /** `query` is the guest's range argument: a prefix string or {prefix?, from?, to?, limit?}. */
  range(query: unknown): StateEntry[] {
    this.charge(GAS.stateCall);
    const entries = overlayRange(this.view, this.pending, this.rangeOf(query));
    let chars = 0;
    for (const e of entries) chars += e.key.length + e.value.length;
    this.charge(GAS.perRangeEntry * entries.length + GAS.perByte * chars);
    return entries;
  }

  /** The call's writes: each key once with its final value, sorted by key. */
  writes(): StateWrite[] {
    return [...this.pending].sort(([a], [b]) => compareKeys(a, b)).map(([key, value]) => ({ key, value }));
  }

  private fail(code: StateAccessError['code'], message: string): never {
    const error = new StateAccessError(code, message);
    this.firstViolation ??= error;
    throw error;
  }

  private key(key: unknown): string {
    if (typeof key !== 'string')
      return this.fail('bad-state-access', `a key must be a string, got ${typeof key}`);
    if (key.length === 0) return this.fail('bad-state-access', 'a key must not be empty');
    if (!isWellFormed(key)) return this.fail('bad-state-access', 'a key must be well-formed Unicode');
    if (utf8Bytes(key) > this.limits.maxKeyBytes) {
      return this.fail('bad-state-access', `a key must be at most ${this.limits.maxKeyBytes} bytes`);
    }
    return key;
  }

  private writable(key: string): void {
    if (this.readOnly)
      this.fail('read-only', `a query cannot write (it tried to change ${JSON.stringify(key)})`);
  }

  private canonicalValue(key: string, json: unknown): CanonicalJson {
    if (typeof json !== 'string') {
      return this.fail(
        'bad-state-access',
        `the value of ${JSON.stringify(key)} is not JSON (undefined or a function?)`,
      );
    }
    if (json.length > this.limits.maxValueBytes * 6) this.tooLarge(key);
    let canonical: string;
    try {
      canonical = canonicalJson(jsonValue(JSON.parse(json), 'value'));
    } catch (e) {
      const reason = e instanceof Error ? e.message : String(e);
      return this.fail(
        'bad-state-access',
        `the value of ${JSON.stringify(key)} is not canonical JSON: ${reason}`,
      );
    }
    if (utf8Bytes(canonical) > this.limits.maxValueBytes) this.tooLarge(key);
    return canonical;
  }

  private tooLarge(key: string): never {
    return this.fail(
      'bad-state-access',
      `the value of ${JSON.stringify(key)} is over ${this.limits.maxValueBytes} bytes`,
    );
  }

  private record(key: string, value: CanonicalJson | null): void {
    this.writtenBytes += utf8Bytes(key) + (value === null ? 0 : utf8Bytes(value));
    if (this.writtenBytes > this.limits.maxWriteBytes) {
      this.fail('bad-state-access', `the call wrote more than ${this.limits.maxWriteBytes} bytes`);
    }
    this.pending.set(key, value);
  }

  private rangeOf(query: unknown): KeyRange {
    const max = this.limits.maxRangeEntries;
    if (typeof query === 'string') return { prefix: this.boundKey(query, 'prefix'), limit: max };
    if (typeof query !== 'object' || query === null || Array.isArray(query)) {
      return this.fail('bad-state-access', 'range takes a prefix string or {prefix, from, to, limit}');
    }
    const q = query as Record<string, unknown>;
    for (const k of Object.keys(q)) {
      if (!['prefix', 'from', 'to', 'limit'].includes(k))
        this.fail('bad-state-access', `range: unknown option ${k}`);
    }
    const range: KeyRange = { limit: max };
    if (q.prefix !== undefined) range.prefix = this.boundKey(q.prefix, 'prefix');
    if (q.from !== undefined) range.from = this.boundKey(q.from, 'from');
    if (q.to !== undefined) range.to = this.boundKey(q.to, 'to');
    if (q.limit !== undefined) {
      if (!Number.isSafeInteger(q.limit) || (q.limit as number) < 1 || (q.limit as number) > max) {
        this.fail('bad-state-access', `range: limit must be an integer from 1 to ${max}`);
      }
      range.limit = q.limit as number;
    }
    return range;
  }

  private boundKey(value: unknown, name: string): string {
    if (typeof value !== 'string' || !isWellFormed(value) || utf8Bytes(value) > this.limits.maxKeyBytes) {
      return this.fail(
        'bad-state-access',
        `range: ${name} must be a string of at most ${this.limits.maxKeyBytes} bytes`,
      );
    }
    return value;
  }
}
