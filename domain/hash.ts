import { createHash } from 'node:crypto';
import { canonicalJson } from './canonical.ts';

/** Lower-case hex SHA-256 of raw bytes, or of a string's UTF-8. */
export function sha256Hex(bytes: Uint8Array | string): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** The hash of a value's canonical encoding: the only way a domain object is ever hashed. */
export function hashOf(value: unknown): string {
  // The hash reads the canonical string's UTF-8 directly: no intermediate byte array.
  return sha256Hex(canonicalJson(value));
}
