// The state root: one hash that commits to all iCode state and every receipt, carried in the next
// block's header so that a node whose execution went another way is told apart at the next block.
//
// Definition (chained, not a tree):
//   S(0)   = the genesis header's stateRoot (the hash of the genesis file, domain/genesis.ts);
//   S(h)   = S(h-1) when block h wrote nothing and produced no receipt, otherwise
//            SHA-256(canonical {domain: 'itchain/state/v1', prev: S(h-1), writes, receipts}) where
//            writes   = [[icodeId, key, value|null], ...] — each key's final value after block h,
//                       sorted by icodeId, then key (compareKeys: code-point order, like LevelDB);
//            receipts = block h's receipts in tx order;
//   and block h+1's header carries S(h), i.e. stateRoot(h+1) = next(header(h).stateRoot, effects(h)).
//
// Why a chain and not a Merkle tree over all keys: every node executes every block, so what the root
// must do is detect divergence, and a chain does that at the block where it happens (it commits to the
// whole history of writes from the same genesis, hence to the state). It costs O(writes of the block)
// and keeps no tree on disk. What it gives up is proofs of single keys for light clients, which this
// network of a few full nodes has no use for; a tree can be added later behind the same header field.

import { canonicalJson } from './canonical.ts';
import { sha256Hex } from './hash.ts';
import { type CanonicalJson, compareKeys, type Receipt } from './icode.ts';

/** One key's final value after a block, in one iCode's state; null means the key was deleted. */
export interface BlockWrite {
  icodeId: string;
  key: string;
  value: CanonicalJson | null;
}

export interface BlockEffects {
  /** At most one entry per (icodeId, key): its value after the whole block. Any order. */
  writes: readonly BlockWrite[];
  /** In the order of the block's txs. */
  receipts: readonly Receipt[];
}

function compareWrites(a: BlockWrite, b: BlockWrite): number {
  return compareKeys(a.icodeId, b.icodeId) || compareKeys(a.key, b.key);
}

/** The state root after a block, from the root before it (the block's own header.stateRoot). */
export function nextStateRoot(prevRoot: string, effects: BlockEffects): string {
  if (effects.writes.length === 0 && effects.receipts.length === 0) return prevRoot;
  const sorted = [...effects.writes].sort(compareWrites);
  for (let i = 1; i < sorted.length; i++) {
    if (compareWrites(sorted[i - 1]!, sorted[i]!) === 0) {
      throw new RangeError(`key ${sorted[i]!.key} of iCode ${sorted[i]!.icodeId} is written twice`);
    }
  }
  const writes = sorted.map((w) => [w.icodeId, w.key, w.value]);
  const receipts = effects.receipts.map((r) => ({ ...r }));
  return sha256Hex(canonicalJson({ domain: 'itchain/state/v1', prev: prevRoot, writes, receipts }));
}
