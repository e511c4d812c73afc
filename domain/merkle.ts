import { createHash } from 'node:crypto';

// Merkle root over transaction ids, shaped as RFC 6962 (Certificate Transparency): leaves and inner
// nodes are hashed with different prefixes (0x00, 0x01), and an odd tree is split at the largest
// power of two, so no two different lists of ids share a root (Bitcoin's duplicate-last-leaf trick
// lets [a,b,c] and [a,b,c,c] collide).

export const EMPTY_ROOT = createHash('sha256').digest('hex');

const LEAF_PREFIX = Buffer.from([0]);
const NODE_PREFIX = Buffer.from([1]);

/** SHA-256(0x00 || UTF-8 of the id). */
export function leafHash(id: string): Buffer {
  return createHash('sha256').update(LEAF_PREFIX).update(id, 'utf8').digest();
}

/** SHA-256(0x01 || left || right). */
export function nodeHash(left: Buffer, right: Buffer): Buffer {
  return createHash('sha256').update(NODE_PREFIX).update(left).update(right).digest();
}

function largestPowerOfTwoBelow(n: number): number {
  let k = 1;
  while (k * 2 < n) k *= 2;
  return k;
}

function subtreeRoot(leaves: readonly Buffer[], from: number, to: number): Buffer {
  const n = to - from;
  if (n === 1) return leaves[from]!;
  const k = largestPowerOfTwoBelow(n);
  return nodeHash(subtreeRoot(leaves, from, from + k), subtreeRoot(leaves, from + k, to));
}

/** The root over the ids in order, computed over the whole list at once (RFC 6962 §2.1, as written). */
export function merkleRoot(ids: readonly string[]): string {
  if (ids.length === 0) return EMPTY_ROOT;
  return subtreeRoot(ids.map(leafHash), 0, ids.length).toString('hex');
}

/**
 * The same root, built one id at a time in O(log n) memory, like a CT log's compact range: the tree
 * over n leaves is a row of perfect subtrees, one per 1-bit of n, largest first, and only their roots
 * (the "peaks") are kept. Adding a leaf merges equal-sized peaks the way adding 1 carries through a
 * binary number; the root folds the peaks from the right, which is exactly where RFC 6962 splits.
 */
export class MerkleAccumulator {
  private readonly peaks: Buffer[] = [];
  private count = 0;

  /** Number of ids pushed so far. */
  get size(): number {
    return this.count;
  }

  /** Hashes held: one per 1-bit of size, so at most log2(size) + 1. */
  get storedHashes(): number {
    return this.peaks.length;
  }

  push(id: string): void {
    let peak = leafHash(id);
    // One merge per trailing 1-bit of the old count (arithmetic, not bit operators: counts may pass 2^32).
    for (let n = this.count; n % 2 === 1; n = (n - 1) / 2) peak = nodeHash(this.peaks.pop()!, peak);
    this.peaks.push(peak);
    this.count++;
  }

  /** The root over every id pushed so far; equal to merkleRoot() of that list. */
  root(): string {
    let i = this.peaks.length - 1;
    if (i < 0) return EMPTY_ROOT;
    let acc = this.peaks[i]!;
    while (--i >= 0) acc = nodeHash(this.peaks[i]!, acc);
    return acc.toString('hex');
  }
}
