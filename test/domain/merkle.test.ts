import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { EMPTY_ROOT, MerkleAccumulator, merkleRoot } from '../../domain/merkle.ts';

// The RFC 6962 definitions written out by hand, independent of domain/merkle.ts.
const sha = (...parts: (Buffer | string)[]) => {
  const h = createHash('sha256');
  for (const part of parts) h.update(part);
  return h.digest();
};
const leaf = (id: string) => sha(Buffer.from([0]), id);
const node = (l: Buffer, r: Buffer) => sha(Buffer.from([1]), l, r);

const hexDigit = fc.constantFrom(...'0123456789abcdef');
const id = fc.string({ unit: hexDigit, minLength: 64, maxLength: 64 });
/** Any UTF-16 code unit, lone surrogates included. */
const codeUnit = fc.integer({ min: 0, max: 0xffff }).map((c) => String.fromCharCode(c));
const ids = fc.array(id, { maxLength: 70 });

function incrementalRoots(list: readonly string[]): string[] {
  const acc = new MerkleAccumulator();
  const roots = [acc.root()];
  for (const x of list) {
    acc.push(x);
    roots.push(acc.root());
  }
  return roots;
}

describe('Merkle root (RFC 6962 shape)', () => {
  it('follows the RFC 6962 definition for 0 to 5 leaves, splitting at the largest power of two', () => {
    const [a, b, c, d, e] = ['a', 'b', 'c', 'd', 'e'];
    expect(merkleRoot([])).toBe(sha().toString('hex'));
    expect(EMPTY_ROOT).toBe('e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
    expect(merkleRoot([a])).toBe(leaf(a).toString('hex'));
    expect(merkleRoot([a, b])).toBe(node(leaf(a), leaf(b)).toString('hex'));
    expect(merkleRoot([a, b, c])).toBe(node(node(leaf(a), leaf(b)), leaf(c)).toString('hex'));
    const ab_cd = node(node(leaf(a), leaf(b)), node(leaf(c), leaf(d)));
    expect(merkleRoot([a, b, c, d])).toBe(ab_cd.toString('hex'));
    expect(merkleRoot([a, b, c, d, e])).toBe(node(ab_cd, leaf(e)).toString('hex'));
  });

  it('gives [a,b,c] and [a,b,c,c] different roots (no duplicate-last-leaf padding)', () => {
    expect(merkleRoot(['a', 'b', 'c'])).not.toBe(merkleRoot(['a', 'b', 'c', 'c']));
  });

  it('incremental and whole-list roots agree after every push, for any list of ids', () => {
    fc.assert(
      fc.property(ids, (list) => {
        const roots = incrementalRoots(list);
        for (let n = 0; n <= list.length; n++) expect(roots[n]).toBe(merkleRoot(list.slice(0, n)));
      }),
      { numRuns: 300 },
    );
  });

  it('incremental and whole-list roots agree for ids that are arbitrary strings', () => {
    fc.assert(
      fc.property(fc.array(fc.string({ unit: codeUnit, maxLength: 8 }), { maxLength: 20 }), (list) => {
        expect(incrementalRoots(list).at(-1)).toBe(merkleRoot(list));
      }),
      { numRuns: 200 },
    );
  });

  it('gives different lists of ids different roots (reordered, dropped, repeated, changed, appended)', () => {
    const pair = fc.array(id, { minLength: 1, maxLength: 40 }).chain((list) =>
      fc.tuple(
        fc.constant(list),
        fc.oneof(
          fc.nat(list.length - 1).chain((i) =>
            fc.nat(list.length - 1).map((j) => {
              const out = [...list];
              [out[i], out[j]] = [out[j]!, out[i]!];
              return out;
            }),
          ),
          fc.nat(list.length - 1).map((i) => list.filter((_, k) => k !== i)),
          fc.constant([...list, list.at(-1)!]),
          fc.tuple(fc.nat(list.length - 1), id).map(([i, x]) => list.map((y, k) => (k === i ? x : y))),
          id.map((x) => [...list, x]),
          fc.constant(list.slice(0, -1)),
        ),
      ),
    );
    fc.assert(
      fc.property(pair, ([a, b]) => {
        fc.pre(a.join() !== b.join());
        expect(merkleRoot(a)).not.toBe(merkleRoot(b));
        expect(incrementalRoots(b).at(-1)).toBe(merkleRoot(b));
      }),
      { numRuns: 500 },
    );
  });

  it('keeps one hash per 1-bit of the count: O(log n) memory', () => {
    const acc = new MerkleAccumulator();
    const popcount = (n: number) => n.toString(2).replaceAll('0', '').length;
    for (let n = 1; n <= 5000; n++) {
      acc.push(String(n));
      expect(acc.storedHashes).toBe(popcount(n));
    }
    expect(acc.size).toBe(5000);
    expect(acc.root()).toBe(merkleRoot(Array.from({ length: 5000 }, (_, i) => String(i + 1))));
  });
});
