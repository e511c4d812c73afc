// The tx pool structure under the batching machine: arrival order, proposed marks, and value
// semantics (an old pool never changes), checked against a plain model under random operations.

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Transaction } from '../../domain/transaction.ts';
import {
  addTx,
  EMPTY_TX_POOL,
  hasTx,
  pooledIds,
  poolSize,
  releaseProposed,
  removeTxs,
  type TxPool,
  takeBatch,
  waitingCount,
} from '../../machines/tx-pool.ts';
import { createChainFixture } from '../support/chain-fixture.ts';

const fixture = createChainFixture();
const TXS = fixture.txs(40);
const tx = (i: number) => TXS[i] as Transaction;

describe('tx pool', () => {
  it('keeps txs in arrival order, whatever buckets their ids hash to', () => {
    const pool = TXS.reduce(addTx, EMPTY_TX_POOL);
    expect(pooledIds(pool)).toEqual(TXS.map((t) => t.id));
  });

  it('a batch takes the oldest waiting txs and marks them proposed, without removing them', () => {
    const pool = TXS.slice(0, 5).reduce(addTx, EMPTY_TX_POOL);
    const first = takeBatch(pool, 2);
    expect(first.txs).toEqual([tx(0), tx(1)]);
    expect(poolSize(first.pool)).toBe(5);
    expect(waitingCount(first.pool)).toBe(3);
    expect(takeBatch(first.pool, 10).txs).toEqual([tx(2), tx(3), tx(4)]);
  });

  it('a released batch is waiting again, in its original place', () => {
    const pool = TXS.slice(0, 3).reduce(addTx, EMPTY_TX_POOL);
    const released = releaseProposed(takeBatch(pool, 2).pool);
    expect(takeBatch(released, 3).txs).toEqual([tx(0), tx(1), tx(2)]);
  });

  it('removing a proposed tx takes it out of the batch too', () => {
    const { pool } = takeBatch(TXS.slice(0, 2).reduce(addTx, EMPTY_TX_POOL), 2);
    const after = removeTxs(pool, [tx(0).id, 'not-in-the-pool']);
    expect(pooledIds(after)).toEqual([tx(1).id]);
    expect([...after.proposed]).toEqual([tx(1).id]);
  });

  it('matches a plain model under any operations, and old pools never change', () => {
    type Op =
      | { op: 'add'; i: number }
      | { op: 'remove'; is: number[] }
      | { op: 'take'; max: number }
      | { op: 'release' };
    const op: fc.Arbitrary<Op> = fc.oneof(
      fc.record({ op: fc.constant('add' as const), i: fc.nat(TXS.length - 1) }),
      fc.record({
        op: fc.constant('remove' as const),
        is: fc.array(fc.nat(TXS.length - 1), { maxLength: 5 }),
      }),
      fc.record({ op: fc.constant('take' as const), max: fc.integer({ min: 0, max: 6 }) }),
      fc.constant({ op: 'release' as const }),
    );
    fc.assert(
      fc.property(fc.array(op, { maxLength: 80 }), (ops) => {
        let pool: TxPool = EMPTY_TX_POOL;
        const order: string[] = [];
        const proposed = new Set<string>();
        const history: { pool: TxPool; ids: string[] }[] = [];
        for (const o of ops) {
          if (o.op === 'add' && !hasTx(pool, tx(o.i).id)) {
            pool = addTx(pool, tx(o.i));
            order.push(tx(o.i).id);
          } else if (o.op === 'remove') {
            const ids = o.is.map((i) => tx(i).id);
            pool = removeTxs(pool, ids);
            for (const id of ids) {
              if (order.includes(id)) order.splice(order.indexOf(id), 1);
              proposed.delete(id);
            }
          } else if (o.op === 'take') {
            const expected = order.filter((id) => !proposed.has(id)).slice(0, o.max);
            const taken = takeBatch(pool, o.max);
            expect(taken.txs.map((t) => t.id)).toEqual(expected);
            pool = taken.pool;
            for (const id of expected) proposed.add(id);
          } else if (o.op === 'release') {
            pool = releaseProposed(pool);
            proposed.clear();
          }
          expect(pooledIds(pool)).toEqual(order);
          expect(poolSize(pool)).toBe(order.length);
          expect(waitingCount(pool)).toBe(order.length - proposed.size);
          history.push({ pool, ids: [...order] });
        }
        for (const past of history) expect(pooledIds(past.pool)).toEqual(past.ids);
      }),
      { numRuns: 200 },
    );
  });
});
