// The iCode SDK: what an exported function of an iCode gets as its first argument. iCodes are plain
// JavaScript; these types are for editors (`/** @param {import('../sdk/context.ts').IcodeContext} ctx */`)
// and for TypeScript authors. Tutorial: docs/icode-tutorial.md.
//
//   // index.js (or the "entry" named in icode.json)
//   export function increment(ctx, by = 1) {
//     const count = (ctx.get('count') ?? 0) + by;
//     ctx.put('count', count);
//     return count;
//   }
//
// Rules every runtime enforces (QuickJS and Docker alike):
// - Values are JSON with integers only (no fractions, NaN or -0; safe integers), at most 16 deep,
//   no "__proto__" key, at most 64 KiB each; keys are non-empty strings of at most 512 UTF-8 bytes.
// - A function is synchronous or async; what it returns (JSON, at most 64 KiB; undefined means null)
//   is the tx's result. Throwing fails the tx: the error goes into its receipt, its writes are
//   dropped, and the block goes on.
// - Each call starts from committed state only: module variables are fresh for every call, globals
//   are frozen, and there is no clock (use ctx.tx.timestamp), no randomness, no network, no files,
//   no require/process/fetch, no eval or Function constructor.
// - Gas: 1 per interpreter step (call or loop iteration) plus 200 per state call and 1 per byte
//   read or written. A call that runs out of gas, memory or stack fails with that error code.

import type { Canonical } from '../domain/canonical.ts';

export type Json = Canonical;

/** ctx.range: keys that start with `prefix` and/or lie in [from, to), sorted, at most `limit`. */
export interface RangeQuery {
  prefix?: string;
  from?: string;
  to?: string;
  /** Default and maximum: 1000. To page, ask again with `from` = last key + '\u0000'. */
  limit?: number;
}

export interface RangeEntry {
  key: string;
  value: Json;
}

export interface IcodeTx {
  /** The tx's id (64 hex characters). */
  id: string;
  /** Node ID of the node that accepted the tx and signed it. */
  signer: string;
  /** Milliseconds since the epoch, from the accepting node's clock: the same on every node. */
  timestamp: number;
}

export interface IcodeContext {
  /** The iCode's ID (hash of git URL and commit, or "kv"). */
  readonly icodeId: string;
  /** The called function's name. */
  readonly fn: string;
  /** The call's arguments (also passed as the function's parameters after ctx). */
  readonly args: readonly Json[];
  /** The transaction; null in a query. */
  readonly tx: IcodeTx | null;
  /** Same as tx.signer; null in a query. */
  readonly signer: string | null;
  /** The value under key in this iCode's state, or null. Sees this call's own writes. */
  get(key: string): Json | null;
  /** Sets key to value (JSON). In a query this fails the call (queries are read-only). */
  put(key: string, value: Json): void;
  /** Deletes key. In a query this fails the call. */
  del(key: string): void;
  /** Entries by prefix (a string) or by {prefix, from, to, limit}, sorted by key (code-point order). */
  range(query: string | RangeQuery): RangeEntry[];
}

/** The shape of an iCode function. */
export type IcodeFunction = (
  ctx: IcodeContext,
  ...args: Json[]
) => Json | undefined | Promise<Json | undefined>;
