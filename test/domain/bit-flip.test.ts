// Any single-bit change to a stored tx, block or block record is refused: either the strict decoder
// refuses the bytes, or they decode to another value and validation refuses that. There is no third
// outcome, because
//  - the decoder accepts only the canonical encoding, so a flipped byte string that decodes is a
//    different value (no "same value, other spelling": not in hex case, number form, white space,
//    key order, or base64 padding bits), and
//  - every field of that value is covered: header fields by the seal, txs by txRoot (ids), each tx
//    body by its id, each id by its signature, and every vote in a certificate must verify (a surplus
//    vote beyond the quorum is checked too, so a flipped bit there is not ignored).

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Block } from '../../domain/block.ts';
import type { BlockRecord } from '../../domain/block-record.ts';
import { blockCodec, blockRecordCodec, type Codec, txCodec } from '../../domain/codec.ts';
import { ValidationError } from '../../domain/errors.ts';
import type { Transaction } from '../../domain/transaction.ts';
import { validateNextBlock, validateTransaction } from '../../domain/validation.ts';
import * as arb from './arbitraries.ts';
import { certify, contextAfter, genesis, keyRing, makeTx, nextBlock, validators } from './fixtures.ts';

type Outcome = string; // 'decode:<code>' | 'validate:<code>' | 'accepted'

function flip(bytes: Uint8Array, bit: number): Uint8Array {
  const out = bytes.slice();
  out[bit >> 3]! ^= 1 << (bit & 7);
  return out;
}

/** What happens to the stored bytes with one bit flipped; throws on anything but a ValidationError. */
function outcomeOfFlip<T>(
  codec: Codec<T>,
  bytes: Uint8Array,
  bit: number,
  validate: (value: T) => void,
): Outcome {
  const flipped = flip(bytes, bit);
  let value: T;
  try {
    value = codec.decode(flipped);
  } catch (err) {
    if (err instanceof ValidationError) return `decode:${err.code}`;
    throw err;
  }
  // Decoded: then it is exactly the encoding of what it decoded to, so not the original value.
  expect(Buffer.from(codec.encode(value)).equals(Buffer.from(flipped))).toBe(true);
  try {
    validate(value);
  } catch (err) {
    if (err instanceof ValidationError) return `validate:${err.code}`;
    throw err;
  }
  return 'accepted';
}

/** The outcome of flipping each bit of the stored value, in bit order. */
function everyFlip<T>(codec: Codec<T>, value: T, validate: (value: T) => void): Outcome[] {
  const bytes = codec.encode(value);
  validate(codec.decode(bytes)); // the unflipped value is valid, or the test would prove nothing
  return Array.from({ length: bytes.length * 8 }, (_, bit) => outcomeOfFlip(codec, bytes, bit, validate));
}

const kinds = (outcomes: readonly Outcome[]) => [...new Set(outcomes)].sort();

const keys = keyRing();
const validateTx = (tx: Transaction) => validateTransaction(tx, keys);
const afterGenesis = contextAfter(genesis, { keys });
const validateBlock = (block: Block) => validateNextBlock(block, null, afterGenesis);
// Records are checked as a node checks them, with its cache of tx signatures already verified: that
// keeps the file fast, and shows the cache lets no flipped tx through (a hit needs the same id and
// signature, and the id must still recompute).
const cached = contextAfter(genesis, { keys, verifiedTxs: new Map() });
const validateRecord = ({ block, cert }: BlockRecord) => validateNextBlock(block, cert, cached);

describe('every single-bit flip of a stored object is refused (exhaustive, sample objects)', () => {
  const txs = [
    makeTx('1', { args: ['grüße', 42, { nested: [true, null] }] }),
    makeTx('2', { signer: validators[2] }),
  ];
  const block = nextBlock(genesis, txs);
  // All four validators voted: one vote more than the quorum of 3.
  const record: BlockRecord = { block, cert: certify(block, validators) };

  it('a stored tx: every flip is refused by the decoder or by txId/signature checks', () => {
    const outcomes = everyFlip(txCodec, txs[0]!, validateTx);
    expect(kinds(outcomes)).toEqual(['decode:field', 'validate:signature', 'validate:txId']);
  });

  it('a stored block: every flip is refused by the decoder or by validation', () => {
    const outcomes = everyFlip(blockCodec, block, validateBlock);
    expect(kinds(outcomes)).toEqual([
      'decode:field',
      'validate:height',
      'validate:link',
      'validate:seal',
      'validate:signature',
      'validate:txId',
      'validate:txRoot',
    ]);
  });

  it('a stored block record: every flip is refused, including flips in the surplus fourth vote', () => {
    const outcomes = everyFlip(blockRecordCodec, record, validateRecord);
    expect(kinds(outcomes)).toEqual([
      'decode:field',
      'validate:certificate',
      'validate:height',
      'validate:link',
      'validate:seal',
      'validate:signature',
      'validate:txId',
      'validate:txRoot',
    ]);
    // Flips in the last vote that still decode are refused by the certificate check, though the
    // other three votes make a quorum on their own: lenient counting would skip the vote instead.
    const lastVote = Buffer.from(blockRecordCodec.encodeText(record)).lastIndexOf('{"blockHash"');
    expect(kinds(outcomes.slice(lastVote * 8))).toEqual(['decode:field', 'validate:certificate']);
  });
});

describe('every single-bit flip is refused (random objects, random bits)', () => {
  it('random signed txs', () => {
    const withBit = arb.transaction.chain((tx) =>
      fc.tuple(fc.constant(tx), fc.nat(txCodec.encode(tx).length * 8 - 1)),
    );
    fc.assert(
      fc.property(withBit, ([tx, bit]) => {
        expect(outcomeOfFlip(txCodec, txCodec.encode(tx), bit, validateTx)).not.toBe('accepted');
      }),
      { numRuns: 2000 },
    );
  });

  it('random block records following the genesis block, certified by random quorums in random rounds', () => {
    const recordArb = fc
      .record({
        txs: fc.array(arb.transaction, { maxLength: 3 }),
        voters: fc.shuffledSubarray([...validators], { minLength: 3 }),
        round: fc.nat(1000),
        delay: fc.nat(10_000_000),
      })
      .map(({ txs, voters, round, delay }): BlockRecord => {
        const block = nextBlock(genesis, txs, genesis.timestamp + delay);
        return { block, cert: certify(block, voters, round) };
      })
      .filter(({ block }) => new Set(block.txs.map((tx) => tx.id)).size === block.txs.length);
    const withBit = recordArb.chain((record) =>
      fc.tuple(fc.constant(record), fc.nat(blockRecordCodec.encode(record).length * 8 - 1)),
    );
    fc.assert(
      fc.property(withBit, ([record, bit]) => {
        validateRecord(record);
        expect(
          outcomeOfFlip(blockRecordCodec, blockRecordCodec.encode(record), bit, validateRecord),
        ).not.toBe('accepted');
      }),
      { numRuns: 400 },
    );
  });
});

describe('why the decoder must be strict', () => {
  it('a flipped base64 padding bit in a signature passes validation when the tx skips the strict decoder', () => {
    const tx = makeTx('1');
    const bytes = txCodec.encode(tx);
    const lastSignatureChar = Buffer.from(txCodec.encodeText(tx)).indexOf('=="') - 1;
    const harmless = [0, 1, 2, 3, 4, 5, 6, 7]
      .map((b) => lastSignatureChar * 8 + b)
      .filter((bit) => {
        const text = Buffer.from(flip(bytes, bit)).toString('utf8');
        const signature = /"signature":"([^"]*)"/.exec(text)?.[1] ?? '';
        return (
          signature !== tx.signature &&
          Buffer.from(signature, 'base64').equals(Buffer.from(tx.signature, 'base64'))
        );
      });
    expect(harmless.length).toBeGreaterThan(0);
    for (const bit of harmless) {
      const flipped = flip(bytes, bit);
      // JSON.parse plus validation alone: the signature bytes are unchanged, so it verifies...
      expect(() => validateTx(JSON.parse(Buffer.from(flipped).toString('utf8')))).not.toThrow();
      // ...so only the strict decoder notices the stored bytes changed.
      expect(() => txCodec.decode(flipped)).toThrow(ValidationError);
    }
  });
});
