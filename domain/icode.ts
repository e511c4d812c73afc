// iCode (smart contract) data as it travels on chain: the source bundle a `deploy` tx carries, the
// iCode ID, the tx context an invoke sees, state writes and receipts. Pure data, no I/O (SPEC §5).

import type { Canonical } from './canonical.ts';
import { hashOf } from './hash.ts';
import type { NodeId } from './identity.ts';

/** One source file of an iCode: a path relative to the repository root ('/'-separated) and its text. */
export interface IcodeFile {
  path: string;
  content: string;
}

/**
 * The source of an iCode as a deploy tx carries it: the entry file's path and every .js/.mjs/.cjs/.json
 * file of the repository (outside node_modules and dot-folders), sorted by path (UTF-16 order), so the
 * same commit always gives the same bundle, byte for byte.
 */
export interface IcodeBundle {
  entry: string;
  files: IcodeFile[];
}

/** What a `deploy` tx carries in args[0]: where the code came from and the code itself. */
export interface IcodeDeployment {
  gitUrl: string;
  /** The HEAD commit the bundle was taken from: 40 (SHA-1) or 64 (SHA-256) lower-case hex characters. */
  commit: string;
  bundle: IcodeBundle;
}

/** ID of the built-in key-value iCode every chain has without a deploy (SPEC §6). */
export const BUILTIN_KV_ID = 'kv';

/**
 * iCode ID = SHA-256 over the canonical encoding of {domain, gitUrl, commit}: the same URL and the
 * same HEAD commit give the same ID on every node. The URL is used exactly as recorded in the deploy
 * tx (the accepting node normalises it once, see adapters/git/git-url.ts), so no node needs to agree
 * on how to normalise it. The domain tag keeps an iCode ID from ever equalling another hash.
 */
export function icodeIdOf(gitUrl: string, commit: string): string {
  return hashOf({ domain: 'itchain/icode/v1', gitUrl, commit });
}

/** What an invoked function sees of its transaction (ctx.tx). Queries have none. */
export interface TxContext {
  id: string;
  /** Node ID of the node that accepted and signed the tx. */
  signer: NodeId;
  /** Milliseconds since the epoch on the accepting node's clock; the only clock an iCode has. */
  timestamp: number;
}

/** Canonical JSON text (domain/canonical.ts) of a state value: what the store holds, byte for byte. */
export type CanonicalJson = string;

/** One state change of an invoke: the key's new value, or null when the key was deleted. */
export interface StateWrite {
  key: string;
  value: CanonicalJson | null;
}

export type ReceiptErrorCode =
  | 'icode-error' // the function threw: the iCode refused the call (e.g. insufficient funds)
  | 'no-such-function' // the iCode exports no function of that name
  | 'not-deployed' // no iCode with that ID is installed
  | 'already-deployed' // a deploy for an ID that is installed (the first deploy of an ID wins)
  | 'bad-code' // the bundle does not compile or its top-level code threw
  | 'out-of-gas' // the step budget ran out
  | 'out-of-memory' // the sandbox's memory limit was reached
  | 'stack-overflow' // recursion went past the stack limit
  | 'bad-result' // the result is not canonical JSON (fractions, functions, cycles...)
  | 'result-too-large' // the result is over the size cap
  | 'bad-state-access' // a key or value broke the rules (size, type, canonical JSON)
  | 'read-only' // a query tried to write
  | 'unavailable'; // the runtime could not run the call at all (e.g. Docker down)

export interface ReceiptError {
  code: ReceiptErrorCode;
  message: string;
}

/** The outcome of one invoke tx, stored under receipt/<txId> in the block's atomic batch. */
export interface Receipt {
  txId: string;
  status: 'ok' | 'error';
  result?: Canonical;
  error?: ReceiptError;
  gasUsed: number;
}

/**
 * State keys are ordered by Unicode code point, which is the byte order of their UTF-8 encoding
 * (LevelDB's order). JavaScript's `<` compares UTF-16 units instead, which puts U+E000..U+FFFF after
 * the astral planes; every place that sorts or merges keys uses this function so that both agree.
 */
export function compareKeys(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x === y) continue;
    // A surrogate (0xD800..0xDFFF) stands for a code point above 0xFFFF: it sorts after every BMP unit.
    const xs = x >= 0xd800 && x <= 0xdfff;
    const ys = y >= 0xd800 && y <= 0xdfff;
    if (xs !== ys) return xs ? 1 : -1;
    return x - y;
  }
  return a.length - b.length;
}
