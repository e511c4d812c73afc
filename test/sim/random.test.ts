import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Random } from '../../sim/random.ts';

const draws = (r: Random, n: number) => Array.from({ length: n }, () => r.nextUint32());

describe('Random (xoshiro128**)', () => {
  it('the same seed gives the same stream; another seed another stream', () => {
    expect(draws(Random.fromSeed(42), 100)).toEqual(draws(Random.fromSeed(42), 100));
    expect(draws(Random.fromSeed(42), 100)).not.toEqual(draws(Random.fromSeed(43), 100));
    // Seeds past 32 bits still count.
    expect(draws(Random.fromSeed(2 ** 40), 10)).not.toEqual(draws(Random.fromSeed(0), 10));
  });

  it('a fork depends only on the parent seed and the label, not on draws made before it', () => {
    const fresh = Random.fromSeed(7);
    const used = Random.fromSeed(7);
    draws(used, 1000);
    expect(draws(used.fork('network/n0->n1'), 50)).toEqual(draws(fresh.fork('network/n0->n1'), 50));
  });

  it('forks with different labels, and nested forks, are different streams', () => {
    const root = Random.fromSeed(7);
    const a = draws(root.fork('a'), 20);
    expect(draws(root.fork('b'), 20)).not.toEqual(a);
    expect(draws(root.fork('a').fork('a'), 20)).not.toEqual(a);
    expect(draws(root, 20)).not.toEqual(a);
  });

  it('int(min, max) stays in range and reaches both ends', () => {
    fc.assert(
      fc.property(
        fc.integer(),
        fc.integer({ min: -50, max: 50 }),
        fc.integer({ min: 0, max: 20 }),
        (seed, min, width) => {
          const r = Random.fromSeed(seed);
          const seen = new Set<number>();
          for (let i = 0; i < 400; i++) seen.add(r.int(min, min + width));
          expect(Math.min(...seen)).toBe(min);
          expect(Math.max(...seen)).toBe(min + width);
          expect([...seen].every(Number.isInteger)).toBe(true);
        },
      ),
      { numRuns: 100 },
    );
  });

  it('float() is uniform on [0, 1): ten buckets within 5% of their share over 100k draws', () => {
    const r = Random.fromSeed(1);
    const buckets = new Array<number>(10).fill(0);
    let outside = 0;
    for (let i = 0; i < 100_000; i++) {
      const f = r.float();
      if (!(f >= 0 && f < 1)) outside += 1;
      else buckets[Math.floor(f * 10)]! += 1;
    }
    expect(outside).toBe(0);
    for (const b of buckets) expect(Math.abs(b - 10_000)).toBeLessThan(500);
  });

  it('chance(p) draws once whatever p is, so a rate change keeps the stream aligned', () => {
    const a = Random.fromSeed(3);
    const b = Random.fromSeed(3);
    a.chance(0);
    b.chance(1);
    expect(a.nextUint32()).toBe(b.nextUint32());
  });

  it('shuffle returns a permutation and leaves its input alone', () => {
    const input = [1, 2, 3, 4, 5, 6, 7];
    const out = Random.fromSeed(9).shuffle(input);
    expect([...out].sort()).toEqual(input);
    expect(input).toEqual([1, 2, 3, 4, 5, 6, 7]);
  });

  it('refuses a seed that is not a safe integer', () => {
    expect(() => Random.fromSeed(1.5)).toThrow(RangeError);
    expect(() => Random.fromSeed(Number.NaN)).toThrow(RangeError);
  });
});
