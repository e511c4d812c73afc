// Field readers for untrusted input: each takes a value of unknown shape and the path it was found
// at, and returns it typed or throws ValidationError('field', path, reason). The type codecs in
// codec.ts are built from these. Rules are exact (lower-case hex of a fixed length, canonical
// base64, safe integers only) so that a decoded value has exactly one canonical encoding.

import type { Canonical } from './canonical.ts';
import { ValidationError } from './errors.ts';

/** Nesting limit for free-form JSON (tx args): keeps every recursive walk far from the stack limit. */
export const MAX_JSON_DEPTH = 16;
/** Longest token (iCode ID, function name, nonce, network ID), in characters. */
export const MAX_TOKEN_LENGTH = 128;

export function fail(path: string, reason: string): never {
  throw new ValidationError('field', path, reason);
}

export function child(path: string, key: string): string {
  return path === '' ? key : `${path}.${key}`;
}

export function item(path: string, index: number): string {
  return `${path}[${index}]`;
}

/** A key from untrusted input, shown so that a hostile key cannot flood a log line. */
function keyPath(path: string, key: string): string {
  if (/^[A-Za-z_$][\w$]{0,63}$/.test(key)) return child(path, key);
  const shown = key.length > 64 ? `${key.slice(0, 64)}…` : key;
  return `${path}[${JSON.stringify(shown)}]`;
}

function kindOf(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return typeof value === 'object' ? 'an object' : `a ${typeof value}`;
}

function expected(path: string, what: string, value: unknown): never {
  fail(path, value === undefined ? `missing (expected ${what})` : `expected ${what}, got ${kindOf(value)}`);
}

function isPlainObject(value: unknown): value is Readonly<Record<string, unknown>> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

/** A plain object whose keys are all in `keys`; a missing key shows up when its field is read. */
export function objectWith(
  value: unknown,
  path: string,
  keys: ReadonlySet<string>,
): Readonly<Record<string, unknown>> {
  if (!isPlainObject(value)) return expected(path, 'an object', value);
  for (const key of Object.keys(value)) {
    if (!keys.has(key)) fail(keyPath(path, key), 'unknown key');
  }
  return value;
}

export function arrayOf<T>(value: unknown, path: string, read: (value: unknown, path: string) => T): T[] {
  if (!Array.isArray(value)) return expected(path, 'an array', value);
  const out = new Array<T>(value.length);
  for (let i = 0; i < value.length; i++) out[i] = read(value[i], item(path, i));
  return out;
}

/** A non-negative safe integer (heights, rounds, timestamps). -0 is refused: it is not what it encodes to. */
export function uint(value: unknown, path: string): number {
  if (typeof value !== 'number') return expected(path, 'a non-negative integer', value);
  if (!Number.isSafeInteger(value) || value < 0 || Object.is(value, -0)) {
    fail(path, `${value} is not a non-negative safe integer`);
  }
  return value;
}

const HEX_64 = /^[0-9a-f]{64}$/;
const HEX_40 = /^[0-9a-f]{40}$/;

/** A SHA-256 as 64 lower-case hex characters (ids, seals, roots). */
export function hash(value: unknown, path: string): string {
  if (typeof value !== 'string') return expected(path, '64 lower-case hex characters', value);
  if (!HEX_64.test(value)) fail(path, 'expected 64 lower-case hex characters');
  return value;
}

/** A node ID: 40 lower-case hex characters (docs/encoding.md). */
export function nodeId(value: unknown, path: string): string {
  if (typeof value !== 'string') return expected(path, 'a node ID (40 lower-case hex characters)', value);
  if (!HEX_40.test(value)) fail(path, 'expected a node ID (40 lower-case hex characters)');
  return value;
}

// 64 bytes are 88 base64 characters: 85 full ones, one that holds the last 2 bits (its low 4 bits
// must be zero, so only A, Q, g, w), then "==". Lenient decoders ignore those 4 bits, which would let
// a flipped bit leave the signature bytes, and so its validity, unchanged.
const ED25519_SIGNATURE = /^[A-Za-z0-9+/]{85}[AQgw]==$/;

/** An Ed25519 signature: 64 bytes in canonical, padded base64. */
export function signature(value: unknown, path: string): string {
  if (typeof value !== 'string') return expected(path, 'a base64 Ed25519 signature', value);
  if (!ED25519_SIGNATURE.test(value))
    fail(path, 'expected 64 bytes in canonical padded base64 (88 characters)');
  return value;
}

// Printable ASCII without space, '"' and '\': needs no escaping in JSON, survives URLs and logs.
const TOKEN = /^[!#-[\]-~]+$/;

/** An identifier-like string: 1 to 128 printable ASCII characters other than space, '"' and '\'. */
export function token(value: unknown, path: string): string {
  if (typeof value !== 'string') return expected(path, 'a string', value);
  if (value.length === 0 || value.length > MAX_TOKEN_LENGTH || !TOKEN.test(value)) {
    fail(path, `expected 1-${MAX_TOKEN_LENGTH} printable ASCII characters without space, '"' or '\\'`);
  }
  return value;
}

function hasControlCharacter(value: string): boolean {
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (c < 0x20 || c === 0x7f) return true;
  }
  return false;
}

/** Free text on one line: 1 to `max` UTF-16 units, no control characters. */
export function text(value: unknown, path: string, max: number): string {
  if (typeof value !== 'string') return expected(path, 'a string', value);
  if (value.length === 0 || value.length > max) fail(path, `expected 1-${max} characters`);
  if (hasControlCharacter(value)) fail(path, 'control characters are not allowed');
  return value;
}

/** A string of at most `max` UTF-16 units, any content. */
export function boundedString(value: unknown, path: string, max: number): string {
  if (typeof value !== 'string') return expected(path, 'a string', value);
  if (value.length > max) fail(path, `longer than ${max} characters`);
  return value;
}

export function oneOf<T extends string>(value: unknown, path: string, options: readonly T[]): T {
  const found = options.find((option) => option === value);
  if (found === undefined) {
    if (typeof value !== 'string') return expected(path, `one of ${options.join(', ')}`, value);
    fail(path, `expected one of ${options.join(', ')}`);
  }
  return found;
}

export function nullable<T>(
  read: (value: unknown, path: string) => T,
): (value: unknown, path: string) => T | null {
  return (value, path) => (value === null ? null : read(value, path));
}

/**
 * Free-form JSON that the canonical encoding accepts: null, booleans, safe integers (not -0),
 * strings, arrays and plain objects, at most MAX_JSON_DEPTH deep. The key `__proto__` is refused, so
 * that no code that later copies the value with plain assignment can have its prototype replaced.
 * Returns the value itself (no copy).
 */
export function jsonValue(value: unknown, path: string, depth = 1): Canonical {
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return value;
    case 'number':
      if (!Number.isSafeInteger(value) || Object.is(value, -0)) {
        fail(path, `${value} is not a safe integer (fractions, -0 and big numbers have no canonical form)`);
      }
      return value;
    case 'object': {
      if (value === null) return null;
      if (depth > MAX_JSON_DEPTH) fail(path, `nested deeper than ${MAX_JSON_DEPTH}`);
      if (Array.isArray(value)) {
        for (let i = 0; i < value.length; i++) jsonValue(value[i], item(path, i), depth + 1);
        return value as Canonical[];
      }
      if (!isPlainObject(value)) return fail(path, 'expected a plain object');
      for (const key of Object.keys(value)) {
        if (key === '__proto__') fail(keyPath(path, key), 'the key __proto__ is not allowed');
        jsonValue(value[key], keyPath(path, key), depth + 1);
      }
      return value as { [key: string]: Canonical };
    }
    default:
      return expected(path, 'a JSON value', value);
  }
}
