// The on-disk layout of the chain store (SPEC §3, docs/storage.md). One LevelDB per node; every key
// space is a `level` sublevel, so a raw key is `!<space>!<key>` (UTF-8). Values are UTF-8 canonical
// JSON (domain/canonical.ts) unless noted.
//
//   space         key                       value
//   block_hash    <seal>                    the block
//   block_number  <height, 16 digits>       the block's seal (64 hex chars, not JSON)
//   util          <txId>                    seal of the block holding the tx (not JSON)
//   util          last_block                seal of the highest block (not JSON)
//   commit        <height, 16 digits>       the block's commit certificate (none for genesis)
//   receipt       <txId>                    the tx's receipt (opaque JSON from the IVM)
//   state         <icodeId>/<key>           an iCode's world state value (JSON)
//   consensus     record                    the consensus layer's durable record (opaque JSON)
//
// Heights are zero-padded decimal, 16 digits: every safe integer (< 2^53) fits, and LevelDB's
// byte-wise order is then numeric order (the original's unpadded keys sorted 10 before 9).
// A tx id is 64 hex chars, so it can never equal `last_block`.

export const SPACES = {
  blockHash: 'block_hash',
  blockNumber: 'block_number',
  util: 'util',
  commit: 'commit',
  receipt: 'receipt',
  state: 'state',
  consensus: 'consensus',
} as const;

export type SpaceName = (typeof SPACES)[keyof typeof SPACES];

export const LAST_BLOCK_KEY = 'last_block';
export const CONSENSUS_RECORD_KEY = 'record';

const HEIGHT_DIGITS = 16;
const HEIGHT_KEY = /^\d{16}$/;

/** Fixed-width key of a height, so keys sort as numbers do. */
export function heightKey(height: number): string {
  if (!Number.isSafeInteger(height) || height < 0) {
    throw new RangeError(`height ${height} is not a non-negative safe integer`);
  }
  return String(height).padStart(HEIGHT_DIGITS, '0');
}

/** The height of a key written by heightKey; undefined for anything else. */
export function parseHeightKey(key: string): number | undefined {
  if (!HEIGHT_KEY.test(key)) return undefined;
  const height = Number(key);
  return Number.isSafeInteger(height) ? height : undefined;
}

/** `<icodeId>/<key>`: an iCode's keys are one contiguous range. */
export function stateKey(icodeId: string, key: string): string {
  return `${icodeId}/${key}`;
}

/** Bounds of every state key of one iCode ('0' is the character after '/'). */
export function stateRange(icodeId: string): { gte: string; lt: string } {
  return { gte: `${icodeId}/`, lt: `${icodeId}0` };
}

/** The raw LevelDB key of a record, as a second handle on the same directory sees it. */
export function rawKey(space: SpaceName, key: string): string {
  return `!${space}!${key}`;
}
