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
//
// Why an arrival log: batches take the oldest txs, and sorting the whole pool for that on every
// change made one replica step cost O(pool log pool) (50-250 ms with 10,000 txs waiting). Each tx
// gets an arrival number (seq) and a slot in an append-only log shared by the pool's versions: a
// version reads the slots [head, nextSeq) and skips those whose tx it no longer holds (the bucket
// entry's seq must match). Appending writes the slot nextSeq; if another version already wrote it
// (a snapshot stepped twice), the log is copied first, so no version ever sees another's slot. The
// oldest k txs cost O(k + gaps), not O(pool): head moves past removed txs, and when gaps outnumber
// the txs the log is rebuilt without them (amortised O(1) per removal).

import type { Transaction } from '../domain/transaction.ts';

const BUCKETS = 256;
/** Unused slots tolerated in the log before it is rebuilt: beyond twice the pool's size, plus this. */
const GAP_SLACK = 1024;

interface Pooled {
  tx: Transaction;
  /** Arrival number: batches take the oldest waiting txs first. */
  seq: number;
}

/** Slots of the arrival log: txs[i] arrived with seq base + i. Shared by pool versions; append-only. */
interface ArrivalLog {
  readonly base: number;
  readonly txs: Transaction[];
}

export interface TxPool {
  readonly buckets: readonly ReadonlyMap<string, Pooled>[];
  readonly size: number;
  readonly nextSeq: number;
  /** Ids of the txs in the batch in flight; always a subset of the pool. */
  readonly proposed: ReadonlySet<string>;
  readonly log: ArrivalLog;
  /** No tx of this pool arrived before this seq. */
  readonly head: number;
}

const NO_TXS: ReadonlyMap<string, Pooled> = new Map();

export const EMPTY_TX_POOL: TxPool = {
  buckets: Array.from({ length: BUCKETS }, () => NO_TXS),
  size: 0,
  nextSeq: 0,
  proposed: new Set(),
  log: { base: 0, txs: [] },
  head: 0,
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

/** The tx in slot `seq` if this pool still holds it (with that arrival), else undefined. */
function liveAt(pool: TxPool, seq: number): Transaction | undefined {
  const tx = pool.log.txs[seq - pool.log.base];
  return tx !== undefined && entryOf(pool, tx.id)?.seq === seq ? tx : undefined;
}

/** Visits the pool's txs oldest first until `visit` returns false. */
function eachInArrivalOrder(pool: TxPool, visit: (tx: Transaction) => boolean): void {
  for (let seq = pool.head; seq < pool.nextSeq; seq++) {
    const tx = liveAt(pool, seq);
    if (tx !== undefined && !visit(tx)) return;
  }
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
  const seq = pool.nextSeq;
  bucket.set(tx.id, { tx, seq });
  const buckets = [...pool.buckets];
  buckets[index] = bucket;
  let log = pool.log;
  // Slot seq is free only if no other version of the pool wrote it: else this version gets a copy.
  if (log.base + log.txs.length !== seq) log = { base: log.base, txs: log.txs.slice(0, seq - log.base) };
  log.txs.push(tx);
  return {
    buckets,
    size: pool.size + (fresh ? 1 : 0),
    nextSeq: seq + 1,
    proposed: pool.proposed,
    log,
    head: pool.size === 0 && fresh ? seq : pool.head,
  };
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
  const after: TxPool = { ...pool, buckets, size: pool.size - gone.length, proposed };
  let head = pool.head;
  while (head < after.nextSeq && liveAt(after, head) === undefined) head++;
  const trimmed = { ...after, head };
  // Slots the log holds for nothing: removed before head, and gaps between head and nextSeq.
  const unused = trimmed.nextSeq - trimmed.log.base - trimmed.size;
  return unused > 2 * trimmed.size + GAP_SLACK ? rebuilt(trimmed) : trimmed;
}

/**
 * The same pool with a log of its own txs only, renumbered from head on: O(size), done once the
 * unused slots outnumber twice the txs (so amortised O(1) per removal).
 */
function rebuilt(pool: TxPool): TxPool {
  const txs: Transaction[] = [];
  eachInArrivalOrder(pool, (tx) => {
    txs.push(tx);
    return true;
  });
  const base = pool.head;
  const buckets: Map<string, Pooled>[] = Array.from({ length: BUCKETS }, () => new Map());
  for (const [i, tx] of txs.entries()) buckets[bucketOf(tx.id)]!.set(tx.id, { tx, seq: base + i });
  return {
    buckets,
    size: txs.length,
    nextSeq: base + txs.length,
    proposed: pool.proposed,
    log: { base, txs },
    head: base,
  };
}

/** The oldest waiting txs, at most `max`, now marked proposed. */
export function takeBatch(pool: TxPool, max: number): { pool: TxPool; txs: Transaction[] } {
  const txs = oldestTxs(pool, max, (tx) => !pool.proposed.has(tx.id));
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

/** At most `max` of the pool's txs (those `which` accepts, default all), oldest first. */
export function oldestTxs(
  pool: TxPool,
  max: number,
  which: (tx: Transaction) => boolean = () => true,
): Transaction[] {
  const out: Transaction[] = [];
  if (max <= 0) return out;
  eachInArrivalOrder(pool, (tx) => {
    if (which(tx)) out.push(tx);
    return out.length < max;
  });
  return out;
}

/** The txs of the batch in flight, oldest first: O(batch), whatever the pool's size. */
export function proposedTxs(pool: TxPool): Transaction[] {
  const entries: Pooled[] = [];
  for (const id of pool.proposed) {
    const entry = entryOf(pool, id);
    if (entry !== undefined) entries.push(entry);
  }
  return entries.sort((a, b) => a.seq - b.seq).map((entry) => entry.tx);
}

/** Every pending tx, oldest first. */
export function pooledTxs(pool: TxPool): Transaction[] {
  return oldestTxs(pool, pool.size);
}

export function pooledIds(pool: TxPool): string[] {
  return pooledTxs(pool).map((tx) => tx.id);
}
