import { createHash } from 'node:crypto';

// Merkle root over transaction ids, shaped as RFC 6962 (Certificate Transparency): leaves and inner
// nodes are hashed with different prefixes (0x00, 0x01), and an odd tree is split at the largest
// power of two, so no two different lists of ids share a root (Bitcoin's duplicate-last-leaf trick
// lets [a,b,c] and [a,b,c,c] collide).

export const EMPTY_ROOT = createHash('sha256').digest('hex');

export function leafHash(id: string): Buffer {
  return createHash('sha256')
    .update(Buffer.from([0]))
    .update(id, 'utf8')
    .digest();
}

export function nodeHash(left: Buffer, right: Buffer): Buffer {
  return createHash('sha256')
    .update(Buffer.from([1]))
    .update(left)
    .update(right)
    .digest();
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

/** The root over the ids in order, computed over the whole list at once. */
export function merkleRoot(ids: readonly string[]): string {
  if (ids.length === 0) return EMPTY_ROOT;
  return subtreeRoot(ids.map(leafHash), 0, ids.length).toString('hex');
}
