// The block pool: blocks that arrived ahead of the chain, parked by height until the node has applied
// everything below them. A pure, immutable structure (every operation returns a new pool) kept in the
// sync machine's context.
//
// - Keyed by height: one block per height, the first to arrive; a later copy is a duplicate. Whether
//   a parked block is genuine is decided when it is about to be applied (by its commit certificate),
//   so a forged copy that got in first is discarded then and the height is fetched again.
// - Bounded: when full, the lowest heights win (they are the ones needed next); a block above all
//   parked ones is turned away, a lower one evicts the highest.
// - Nothing at or below the applied height is kept.

import type { Block } from '../domain/block.ts';
import type { CommitCertificate } from '../domain/commit-certificate.ts';
import type { NodeId } from '../domain/identity.ts';

/** A block with the commit certificate that lets any node check it was committed. */
export interface CertifiedBlock {
  block: Block;
  cert: CommitCertificate;
}

export interface ParkedBlock extends CertifiedBlock {
  /** The peer that sent it: dropped if the block turns out bad. */
  source: NodeId;
}

export interface BlockPool {
  readonly capacity: number;
  readonly byHeight: ReadonlyMap<number, ParkedBlock>;
}

export type ParkOutcome = 'parked' | 'duplicate' | 'stale' | 'no-room';

export function emptyBlockPool(capacity: number): BlockPool {
  if (!Number.isSafeInteger(capacity) || capacity < 1)
    throw new RangeError('capacity must be a positive integer');
  return { capacity, byHeight: new Map() };
}

export function parkedCount(pool: BlockPool): number {
  return pool.byHeight.size;
}

export function parkedAt(pool: BlockPool, height: number): ParkedBlock | undefined {
  return pool.byHeight.get(height);
}

export function highestParked(pool: BlockPool): number | undefined {
  let highest: number | undefined;
  for (const height of pool.byHeight.keys()) if (highest === undefined || height > highest) highest = height;
  return highest;
}

/** The lowest parked height above `height`, if any. */
export function lowestParkedAbove(pool: BlockPool, height: number): number | undefined {
  let lowest: number | undefined;
  for (const h of pool.byHeight.keys()) if (h > height && (lowest === undefined || h < lowest)) lowest = h;
  return lowest;
}

/** Parks a block unless it is at or below `appliedHeight`, already there, or beyond the pool's room. */
export function parkBlock(
  pool: BlockPool,
  entry: ParkedBlock,
  appliedHeight: number,
): { pool: BlockPool; outcome: ParkOutcome } {
  const height = entry.block.height;
  if (height <= appliedHeight) return { pool, outcome: 'stale' };
  if (pool.byHeight.has(height)) return { pool, outcome: 'duplicate' };
  const byHeight = new Map(pool.byHeight);
  if (byHeight.size >= pool.capacity) {
    const highest = highestParked(pool);
    if (highest === undefined || height > highest) return { pool, outcome: 'no-room' };
    byHeight.delete(highest);
  }
  byHeight.set(height, entry);
  return { pool: { capacity: pool.capacity, byHeight }, outcome: 'parked' };
}

/** Drops everything at or below `height` (applied, or stored by the node's own consensus). */
export function dropThrough(pool: BlockPool, height: number): BlockPool {
  return dropWhere(pool, (h) => h <= height);
}

export function dropHeight(pool: BlockPool, height: number): BlockPool {
  return dropWhere(pool, (h) => h === height);
}

/** Drops every block a peer sent: once one of its blocks is bad, none of them is worth a slot. */
export function dropFromSource(pool: BlockPool, source: NodeId): BlockPool {
  return dropWhere(pool, (_, entry) => entry.source === source);
}

function dropWhere(pool: BlockPool, drop: (height: number, entry: ParkedBlock) => boolean): BlockPool {
  const byHeight = new Map([...pool.byHeight].filter(([h, entry]) => !drop(h, entry)));
  return byHeight.size === pool.byHeight.size ? pool : { capacity: pool.capacity, byHeight };
}
