import { createHash } from 'node:crypto';
import { canonicalBytes } from './canonical.ts';

/** Lower-case hex SHA-256 of raw bytes. */
export function sha256Hex(bytes: Uint8Array | string): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** The hash of a value's canonical encoding: the only way a domain object is ever hashed. */
export function hashOf(value: unknown): string {
  return sha256Hex(canonicalBytes(value));
}
