// The tx pool's arrival log (machines/tx-pool.ts): batches take the oldest txs without sorting the
// pool, through long runs that rebuild the log, and through snapshots stepped twice (value semantics).

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Transaction } from '../../domain/transaction.ts';
import {
  addTx,
  EMPTY_TX_POOL,
  hasTx,
  oldestTxs,
  pooledIds,
  proposedTxs,
  removeTxs,
  type TxPool,
  takeBatch,
} from '../../machines/tx-pool.ts';

// Plain objects are enough here: the pool looks at ids only.
const TXS = Array.from({ length: 3000 }, (_, i) => ({ id: `tx-${i}` }) as Transaction);
const tx = (i: number) => TXS[i]!;

describe('tx pool arrival log', () => {
  it('keeps arrival order through thousands of out-of-order removals (the log is rebuilt on the way)', () => {
    let pool: TxPool = EMPTY_TX_POOL;
    const order: string[] = [];
    for (let i = 0; i < TXS.length; i++) {
      pool = addTx(pool, tx(i));
      order.push(tx(i).id);
      // Every third step commits three: one from the middle, the second newest and the oldest, so the
      // pool stays small while the log fills with removed slots.
      if (i % 3 === 2) {
        const gone = [order[Math.floor(order.length / 2)]!, order[order.length - 2]!, order[0]!];
        pool = removeTxs(pool, gone);
        for (const id of gone) if (order.includes(id)) order.splice(order.indexOf(id), 1);
      }
    }
    expect(pooledIds(pool)).toEqual(order);
    expect(oldestTxs(pool, 5).map((t) => t.id)).toEqual(order.slice(0, 5));
    // Rebuilt on the way: the log starts after the removed txs and holds few unused slots.
    expect(pool.log.base).toBeGreaterThan(0);
    expect(pool.log.txs.length - pool.size).toBeLessThanOrEqual(2 * pool.size + 1024);
  });

  it('the oldest txs and the batch in flight cost O(batch): they never depend on the pool being small', () => {
    const pool = TXS.reduce(addTx, EMPTY_TX_POOL);
    const { pool: taken, txs } = takeBatch(pool, 10);
    expect(proposedTxs(taken)).toEqual(txs);
    expect(oldestTxs(taken, 3, (t) => !taken.proposed.has(t.id)).map((t) => t.id)).toEqual([
      'tx-10',
      'tx-11',
      'tx-12',
    ]);
  });

  it('a snapshot stepped twice gives two independent pools (value semantics across branches)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.boolean(), fc.nat(299), fc.nat(299)), { minLength: 1, maxLength: 300 }),
        (steps) => {
          // Each step either adds a tx to the newest pool or branches from a random earlier one.
          const pools: { pool: TxPool; ids: string[] }[] = [{ pool: EMPTY_TX_POOL, ids: [] }];
          for (const [branch, i, from] of steps) {
            const base = branch ? pools[from % pools.length]! : pools.at(-1)!;
            if (hasTx(base.pool, tx(i).id)) {
              pools.push({
                pool: removeTxs(base.pool, [tx(i).id]),
                ids: base.ids.filter((id) => id !== tx(i).id),
              });
            } else {
              pools.push({ pool: addTx(base.pool, tx(i)), ids: [...base.ids, tx(i).id] });
            }
          }
          for (const { pool, ids } of pools) expect(pooledIds(pool)).toEqual(ids);
        },
      ),
      { numRuns: 200 },
    );
  });
});
