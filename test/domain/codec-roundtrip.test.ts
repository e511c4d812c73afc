import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { canonicalJson } from '../../domain/canonical.ts';
import {
  blockCodec,
  blockRecordCodec,
  type Codec,
  certificateCodec,
  genesisCodec,
  txCodec,
  voteCodec,
} from '../../domain/codec.ts';
import * as arb from './arbitraries.ts';

// Runs are sized so the file stays within a few seconds: every generated value is signed (and each
// genesis value has its keys and CA certificate parsed).
function roundTrips<T>(codec: Codec<T>, arbitrary: fc.Arbitrary<T>, numRuns: number): void {
  describe(`${codec.name} codec`, () => {
    it('decode(encode(x)) gives x back, and re-encodes to the same bytes', () => {
      fc.assert(
        fc.property(arbitrary, (value) => {
          const bytes = codec.encode(value);
          const decoded = codec.decode(bytes);
          expect(decoded).toEqual(value);
          expect(Buffer.from(codec.encode(decoded)).equals(Buffer.from(bytes))).toBe(true);
        }),
        { numRuns },
      );
    });

    it('parse accepts any JSON layout of x (indented, keys in any order) and gives x back', () => {
      fc.assert(
        fc.property(arbitrary, fc.boolean(), (value, reversed) => {
          const reorder = (_key: string, v: unknown) =>
            v && typeof v === 'object' && !Array.isArray(v) && reversed
              ? Object.fromEntries(Object.entries(v).reverse())
              : v;
          const text = JSON.stringify(value, reorder, 2);
          expect(codec.parse(text)).toEqual(value);
          expect(codec.parse(new TextEncoder().encode(text))).toEqual(value);
        }),
        { numRuns: Math.ceil(numRuns / 2) },
      );
    });

    it('fromValue accepts a parsed copy of x and gives x back; encodeText is the UTF-8 of encode', () => {
      fc.assert(
        fc.property(arbitrary, (value) => {
          expect(codec.fromValue(JSON.parse(JSON.stringify(value)))).toEqual(value);
          expect(codec.encodeText(value)).toBe(canonicalJson(value));
          expect(Buffer.from(codec.encode(value)).toString('utf8')).toBe(codec.encodeText(value));
        }),
        { numRuns: Math.ceil(numRuns / 2) },
      );
    });
  });
}

roundTrips(txCodec, arb.transaction, 1000);
roundTrips(blockCodec, arb.block, 300);
roundTrips(voteCodec, arb.vote, 1000);
roundTrips(certificateCodec, arb.certificate, 300);
roundTrips(blockRecordCodec, arb.blockRecord, 200);
roundTrips(genesisCodec, arb.genesis, 300);
