import { describe, expect, it } from 'vitest';
import { canonicalJson, EncodingError } from '../../domain/canonical.ts';

describe('canonical encoding', () => {
  it('sorts keys and drops white space', () => {
    expect(canonicalJson({ b: 1, a: [true, null, 'x'] })).toBe('{"a":[true,null,"x"],"b":1}');
  });
  it('refuses numbers that are not safe integers', () => {
    expect(() => canonicalJson({ x: 1.5 })).toThrow(EncodingError);
    expect(() => canonicalJson({ x: Number.NaN })).toThrow(/\$\.x/);
  });
});
