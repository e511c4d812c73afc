// The block pool's rules, and a property: whatever order blocks arrive in (repeats, gaps, more than the
// pool holds), applying whatever is contiguous and fetching what is missing applies each block exactly
// once, in height order.

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  type BlockPool,
  dropFromSource,
  dropThrough,
  emptyBlockPool,
  highestParked,
  lowestParkedAbove,
  type ParkedBlock,
  parkBlock,
  parkedAt,
  parkedCount,
} from '../../machines/block-pool.ts';
import { createChainFixture } from '../support/chain-fixture.ts';

const fixture = createChainFixture();
const N = 24;
const CHAIN = fixture.extend(fixture.genesis, N, 0);

function entry(height: number, source = 'peer-a'): ParkedBlock {
  const block = CHAIN.blocks[height - 1];
  const cert = CHAIN.certs[height - 1];
  if (!block || !cert) throw new Error(`no block ${height}`);
  return { block, cert, source };
}

function parkAll(pool: BlockPool, heights: number[], applied = 0): BlockPool {
  return heights.reduce((p, h) => parkBlock(p, entry(h), applied).pool, pool);
}

describe('block pool', () => {
  it('parks a block by its height', () => {
    const { pool, outcome } = parkBlock(emptyBlockPool(4), entry(3), 0);
    expect(outcome).toBe('parked');
    expect(parkedAt(pool, 3)?.block.height).toBe(3);
  });

  it('keeps the first block at a height; a second copy is a duplicate', () => {
    const first = parkBlock(emptyBlockPool(4), entry(3, 'peer-a'), 0).pool;
    const second = parkBlock(first, entry(3, 'peer-b'), 0);
    expect(second.outcome).toBe('duplicate');
    expect(parkedAt(second.pool, 3)?.source).toBe('peer-a');
  });

  it('turns away blocks at or below the applied height', () => {
    expect(parkBlock(emptyBlockPool(4), entry(5), 5).outcome).toBe('stale');
    expect(parkBlock(emptyBlockPool(4), entry(4), 5).outcome).toBe('stale');
  });

  it('when full, a lower block evicts the highest and a higher one is turned away', () => {
    const full = parkAll(emptyBlockPool(3), [4, 6, 8]);
    const higher = parkBlock(full, entry(9), 0);
    expect(higher.outcome).toBe('no-room');
    const lower = parkBlock(full, entry(2), 0);
    expect(lower.outcome).toBe('parked');
    expect([...lower.pool.byHeight.keys()].sort((a, b) => a - b)).toEqual([2, 4, 6]);
  });

  it('drops everything at or below a height once it is applied', () => {
    const pool = dropThrough(parkAll(emptyBlockPool(8), [1, 2, 5]), 2);
    expect([...pool.byHeight.keys()]).toEqual([5]);
  });

  it('drops every block a bad peer sent, and only those', () => {
    let pool = parkBlock(emptyBlockPool(8), entry(1, 'bad'), 0).pool;
    pool = parkBlock(pool, entry(2, 'good'), 0).pool;
    pool = parkBlock(pool, entry(3, 'bad'), 0).pool;
    expect([...dropFromSource(pool, 'bad').byHeight.keys()]).toEqual([2]);
  });

  it('finds the lowest parked height above a height, and the highest overall', () => {
    const pool = parkAll(emptyBlockPool(8), [7, 3, 5]);
    expect(lowestParkedAbove(pool, 3)).toBe(5);
    expect(lowestParkedAbove(pool, 7)).toBeUndefined();
    expect(highestParked(pool)).toBe(7);
  });

  it('refuses a capacity that is not a positive integer', () => {
    expect(() => emptyBlockPool(0)).toThrow(RangeError);
    expect(() => emptyBlockPool(1.5)).toThrow(RangeError);
  });

  it('whatever order blocks arrive in, they are applied exactly once in height order', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 1, max: N }), { maxLength: 3 * N }),
        fc.integer({ min: 1, max: N }),
        (arrivals, capacity) => {
          let pool = emptyBlockPool(capacity);
          let height = 0;
          const applied: number[] = [];
          const applyContiguous = () => {
            for (let next = parkedAt(pool, height + 1); next; next = parkedAt(pool, height + 1)) {
              applied.push(next.block.height);
              height = next.block.height;
              pool = dropThrough(pool, height);
            }
          };
          for (const h of arrivals) {
            const before = highestParked(pool);
            const { pool: after, outcome } = parkBlock(pool, entry(h), height);
            if (outcome === 'no-room') expect(before !== undefined && h > before).toBe(true);
            pool = after;
            expect(parkedCount(pool)).toBeLessThanOrEqual(capacity);
            for (const parked of pool.byHeight.keys()) expect(parked).toBeGreaterThan(height);
            applyContiguous();
          }
          // What never arrived (or found no room) is fetched, lowest first, as the sync machine does.
          while (height < N) {
            pool = parkBlock(pool, entry(height + 1), height).pool;
            applyContiguous();
          }
          expect(applied).toEqual(Array.from({ length: N }, (_, i) => i + 1));
        },
      ),
      { numRuns: 500 },
    );
  });
});
