// The pending transactions a node holds until they commit: a pure, immutable structure the batching
// machine keeps in its context. Every operation returns a new pool and leaves the old one intact, so
// a snapshot can be stepped twice (tests, fast-check, path exploration) without one step leaking into
// the other.
//
// A tx is either *waiting* (free to go into the next batch) or *proposed* (in the batch the leader
// handed out and has not heard the end of). Proposed txs stay in the pool: a tx leaves only when a
// block that carries it commits (the 2018 original dropped it at proposal, losing it when the round
// failed).
//
// Why buckets: copying one Map of every pending tx on each insert makes filling a pool quadratic
// (10,000 txs took 7 s). The txs are spread over BUCKETS small maps by a hash of their id; an insert
// copies the bucket list and one bucket, about BUCKETS + size / BUCKETS entries.

import type { Transaction } from '../domain/transaction.ts';

const BUCKETS = 256;

interface Pooled {
  tx: Transaction;
  /** Arrival number: batches take the oldest waiting txs first. */
  seq: number;
}

export interface TxPool {
  readonly buckets: readonly ReadonlyMap<string, Pooled>[];
  readonly size: number;
  readonly nextSeq: number;
  /** Ids of the txs in the batch in flight; always a subset of the pool. */
  readonly proposed: ReadonlySet<string>;
}

const NO_TXS: ReadonlyMap<string, Pooled> = new Map();

export const EMPTY_TX_POOL: TxPool = {
  buckets: Array.from({ length: BUCKETS }, () => NO_TXS),
  size: 0,
  nextSeq: 0,
  proposed: new Set(),
};

/** FNV-1a over the id's characters: cheap, and the same on every run. */
function bucketOf(id: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < id.length; i++) hash = Math.imul(hash ^ id.charCodeAt(i), 0x01000193);
  return (hash >>> 0) % BUCKETS;
}

function entryOf(pool: TxPool, id: string): Pooled | undefined {
  return pool.buckets[bucketOf(id)]?.get(id);
}

function entriesInArrivalOrder(pool: TxPool): Pooled[] {
  return pool.buckets.flatMap((bucket) => [...bucket.values()]).sort((a, b) => a.seq - b.seq);
}

export function poolSize(pool: TxPool): number {
  return pool.size;
}

export function waitingCount(pool: TxPool): number {
  return pool.size - pool.proposed.size;
}

export function hasTx(pool: TxPool, id: string): boolean {
  return entryOf(pool, id) !== undefined;
}

/** Adds a tx as waiting. Callers check duplicates and capacity first: the pool itself never refuses. */
export function addTx(pool: TxPool, tx: Transaction): TxPool {
  const index = bucketOf(tx.id);
  const bucket = new Map(pool.buckets[index]);
  const fresh = !bucket.has(tx.id);
  bucket.set(tx.id, { tx, seq: pool.nextSeq });
  const buckets = [...pool.buckets];
  buckets[index] = bucket;
  return { buckets, size: pool.size + (fresh ? 1 : 0), nextSeq: pool.nextSeq + 1, proposed: pool.proposed };
}

/** Removes the given txs (committed ones), waiting or proposed; ids not in the pool are ignored. */
export function removeTxs(pool: TxPool, ids: Iterable<string>): TxPool {
  const gone = [...new Set(ids)].filter((id) => hasTx(pool, id));
  if (gone.length === 0) return pool;
  const buckets = [...pool.buckets];
  const copied = new Set<number>();
  const proposed = new Set(pool.proposed);
  for (const id of gone) {
    const index = bucketOf(id);
    if (!copied.has(index)) {
      buckets[index] = new Map(buckets[index]);
      copied.add(index);
    }
    (buckets[index] as Map<string, Pooled>).delete(id);
    proposed.delete(id);
  }
  return { buckets, size: pool.size - gone.length, nextSeq: pool.nextSeq, proposed };
}

/** The oldest waiting txs, at most `max`, now marked proposed. */
export function takeBatch(pool: TxPool, max: number): { pool: TxPool; txs: Transaction[] } {
  const txs = entriesInArrivalOrder(pool)
    .filter((entry) => !pool.proposed.has(entry.tx.id))
    .slice(0, Math.max(0, max))
    .map((entry) => entry.tx);
  if (txs.length === 0) return { pool, txs };
  const proposed = new Set(pool.proposed);
  for (const tx of txs) proposed.add(tx.id);
  return { pool: { ...pool, proposed }, txs };
}

/** Every proposed tx becomes waiting again (the batch committed without them, failed, or was abandoned). */
export function releaseProposed(pool: TxPool): TxPool {
  if (pool.proposed.size === 0) return pool;
  return { ...pool, proposed: new Set() };
}

/** Every pending tx, oldest first. */
export function pooledTxs(pool: TxPool): Transaction[] {
  return entriesInArrivalOrder(pool).map((entry) => entry.tx);
}

export function pooledIds(pool: TxPool): string[] {
  return pooledTxs(pool).map((tx) => tx.id);
}
