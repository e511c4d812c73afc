import { Level } from 'level';
import { afterEach, describe, expect, it } from 'vitest';
import { heightKey, parseHeightKey, stateKey, stateRange } from '../../adapters/store/layout.ts';
import { removeDir, tempDir } from './store-helpers.ts';

const TWO_32 = 2 ** 32;
const heights = [0, 1, 9, 10, 99, 100, TWO_32 - 1, TWO_32, TWO_32 + 1, 2 ** 40, Number.MAX_SAFE_INTEGER];

describe('block_number keys sort numerically (SPEC §3)', () => {
  let dir: string | undefined;
  afterEach(async () => {
    if (dir) await removeDir(dir);
    dir = undefined;
  });

  it('height keys sort byte-wise in numeric order past 2^32', () => {
    const shuffled = [...heights].reverse().map(heightKey);
    const sorted = [...shuffled].sort();
    expect(sorted.map((k) => parseHeightKey(k))).toEqual(heights);
  });

  it('LevelDB iterates heights 2^32-1, 2^32, 2^32+1 in numeric order', async () => {
    dir = await tempDir();
    const db = new Level<string, string>(dir);
    const space = db.sublevel<string, string>('block_number', {});
    for (const h of [TWO_32 + 1, 10, TWO_32, 9, TWO_32 - 1]) await space.put(heightKey(h), String(h));
    const values: number[] = [];
    for await (const value of space.values({ gte: heightKey(9), lte: heightKey(TWO_32 + 1) })) {
      values.push(Number(value));
    }
    await db.close();
    expect(values).toEqual([9, 10, TWO_32 - 1, TWO_32, TWO_32 + 1]);
  });

  it('a height key is 16 digits and parses back to the same height', () => {
    for (const h of heights) {
      expect(heightKey(h)).toHaveLength(16);
      expect(parseHeightKey(heightKey(h))).toBe(h);
    }
  });

  it('only non-negative safe integers have a height key', () => {
    for (const bad of [-1, 1.5, Number.NaN, 2 ** 53, Number.POSITIVE_INFINITY]) {
      expect(() => heightKey(bad)).toThrow(RangeError);
    }
  });

  it('anything but a 16-digit key is not a height', () => {
    for (const bad of ['', '12', '000000000000001x', '00000000000000001', '-000000000000001']) {
      expect(parseHeightKey(bad)).toBeUndefined();
    }
  });
});

describe('state keys', () => {
  it("an iCode's state range holds its keys and no other iCode's", () => {
    const { gte, lt } = stateRange('kv');
    const inside = (k: string) => k >= gte && k < lt;
    expect(inside(stateKey('kv', ''))).toBe(true);
    expect(inside(stateKey('kv', 'a/b'))).toBe(true);
    expect(inside(stateKey('kv', '\uffff'))).toBe(true);
    expect(inside(stateKey('kv0', 'a'))).toBe(false);
    expect(inside(stateKey('kv-', 'a'))).toBe(false);
    expect(inside(stateKey('k', 'v'))).toBe(false);
  });
});
