// fast-check generators of well-formed domain objects, signed with the fixture validators' keys.

import fc from 'fast-check';
import { type Block, buildBlock } from '../../domain/block.ts';
import type { BlockRecord } from '../../domain/block-record.ts';
import type { Canonical } from '../../domain/canonical.ts';
import type { CommitCertificate } from '../../domain/commit-certificate.ts';
import type { GenesisFile } from '../../domain/genesis.ts';
import { signerOf } from '../../domain/identity.ts';
import { signTransaction, type Transaction, TX_KINDS } from '../../domain/transaction.ts';
import { signVote, type Vote } from '../../domain/vote.ts';
import { genesisFile, validators } from './fixtures.ts';

const hexDigit = fc.constantFrom(...'0123456789abcdef');
export const hash = fc.string({ unit: hexDigit, minLength: 64, maxLength: 64 });
export const nodeIdArb = fc.string({ unit: hexDigit, minLength: 40, maxLength: 40 });

/** Any UTF-16 code unit, lone surrogates and control characters included. */
export const codeUnit = fc.integer({ min: 0, max: 0xffff }).map((c) => String.fromCharCode(c));

const tokenChar = fc.integer({ min: 0x21, max: 0x7e }).filter((c) => c !== 0x22 && c !== 0x5c);
export const token = fc.string({
  unit: tokenChar.map((c) => String.fromCharCode(c)),
  minLength: 1,
  maxLength: 24,
});

export const count = fc.maxSafeNat();

/** JSON the canonical encoding accepts: safe integers, any strings, no `__proto__` key. */
export const jsonArg: fc.Arbitrary<Canonical> = fc.letrec<{ value: Canonical }>((tie) => ({
  value: fc.oneof(
    { depthSize: 'small', maxDepth: 4 },
    fc.constant(null),
    fc.boolean(),
    fc.maxSafeInteger(),
    fc.string({ unit: codeUnit, maxLength: 12 }),
    fc.array(tie('value'), { maxLength: 4 }),
    fc.dictionary(
      fc.string({ unit: codeUnit, maxLength: 6 }).filter((k) => k !== '__proto__'),
      tie('value'),
      { maxKeys: 4, noNullPrototype: true },
    ),
  ),
})).value;

const identity = fc.constantFrom(...validators);

export const transaction: fc.Arbitrary<Transaction> = fc
  .record({
    kind: fc.constantFrom(...TX_KINDS),
    icodeId: token,
    function: token,
    args: fc.array(jsonArg, { maxLength: 4 }),
    timestamp: count,
    nonce: token,
    signer: identity,
  })
  .map(({ signer, ...body }) => signTransaction({ ...body, signer: signer.nodeId }, signerOf(signer)));

export const block: fc.Arbitrary<Block> = fc
  .record({
    height: count,
    prevSeal: hash,
    stateRoot: hash,
    timestamp: count,
    creator: nodeIdArb,
    txs: fc.array(transaction, { maxLength: 4 }),
  })
  .map((draft) => buildBlock(draft));

export const vote: fc.Arbitrary<Vote> = fc
  .record({
    type: fc.constantFrom('prevote' as const, 'precommit' as const),
    networkId: token,
    height: count,
    round: count,
    blockHash: fc.option(hash, { nil: null }),
    voter: identity,
  })
  .map(({ voter, ...rest }) => signVote({ ...rest, voter: voter.nodeId }, signerOf(voter)));

export const certificate: fc.Arbitrary<CommitCertificate> = fc.record({
  height: count,
  round: count,
  blockHash: hash,
  precommits: fc.array(vote, { maxLength: 4 }),
});

export const blockRecord: fc.Arbitrary<BlockRecord> = fc.record({
  block,
  cert: fc.option(certificate, { nil: null }),
});

function hasNoControlCharacter(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x20 || c === 0x7f) return false;
  }
  return true;
}

export const genesis: fc.Arbitrary<GenesisFile> = fc.record({
  organization: fc.string({ unit: codeUnit, minLength: 1, maxLength: 40 }).filter(hasNoControlCharacter),
  networkId: token,
  creator: nodeIdArb,
  timestamp: count,
  caCertificate: fc.constant(genesisFile.caCertificate),
  validators: fc.shuffledSubarray(genesisFile.validators, { minLength: 1 }),
});
