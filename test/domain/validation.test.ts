import { describe, expect, it } from 'vitest';
import { buildBlock } from '../../domain/block.ts';
import { ValidationError } from '../../domain/errors.ts';
import { sha256Hex } from '../../domain/hash.ts';
import { KeyRing, signerOf } from '../../domain/identity.ts';
import { DEFAULT_LIMITS, validateNextBlock, validateTransaction } from '../../domain/validation.ts';
import {
  certify,
  contextAfter,
  genesis,
  keyRing,
  makeTx,
  nextBlock,
  outsider,
  precommit,
  T0,
  validators,
} from './fixtures.ts';

/** The ValidationError that `check` throws; fails the test if it throws nothing or something else. */
function refusal(check: () => void): ValidationError {
  try {
    check();
  } catch (err) {
    if (err instanceof ValidationError) return err;
    throw err;
  }
  throw new Error('expected a ValidationError, but the input was accepted');
}

const [v0, v1, v2, v3] = [validators[0]!, validators[1]!, validators[2]!, validators[3]!];

describe('validateTransaction', () => {
  const keys = keyRing();

  it('accepts a tx whose id recomputes and whose signer signed it', () => {
    expect(() => validateTransaction(makeTx('a'), keys)).not.toThrow();
  });

  it('refuses a tx whose body changed after signing (txId)', () => {
    const tx = { ...makeTx('a'), args: ['key-a', 'another value'] };
    expect(refusal(() => validateTransaction(tx, keys))).toMatchObject({ code: 'txId', field: 'id' });
  });

  it('refuses a tx carrying the signature of another tx by the same signer (signature)', () => {
    const original = makeTx('a');
    const resigned = makeTx('b'); // its id recomputes, but the signature is over tx a's id
    expect(
      refusal(() => validateTransaction({ ...resigned, signature: original.signature }, keys)),
    ).toMatchObject({ code: 'signature', field: 'signature' });
  });

  it('refuses a signature made by another key than the signer’s (signature)', () => {
    const tx = makeTx('a', { signer: v1 });
    const forged = { ...tx, signature: signerOf(v2).sign(new TextEncoder().encode('anything')) };
    expect(refusal(() => validateTransaction(forged, keys))).toMatchObject({
      code: 'signature',
      field: 'signature',
    });
  });

  it('refuses a tx from a signer whose key the node does not know (signature, unknown signer)', () => {
    const onlyV0 = new KeyRing();
    onlyV0.add(v0.publicKey);
    expect(refusal(() => validateTransaction(makeTx('a', { signer: v1 }), onlyV0))).toMatchObject({
      code: 'signature',
      field: 'signer',
    });
  });

  it('refuses a tx larger than maxTxBytes (size)', () => {
    const tx = makeTx('a', { args: ['x'.repeat(2000)] });
    expect(refusal(() => validateTransaction(tx, keys, { maxTxBytes: 1000 }))).toMatchObject({
      code: 'size',
      field: 'tx',
    });
    expect(() => validateTransaction(tx, keys, { maxTxBytes: 3000 })).not.toThrow();
  });
});

describe('validateNextBlock', () => {
  const tx1 = makeTx('1');
  const tx2 = makeTx('2', { signer: v2 });
  const block = nextBlock(genesis, [tx1, tx2]);

  it('accepts the next block with valid txs, with and without its commit certificate', () => {
    expect(() => validateNextBlock(block, null, contextAfter(genesis))).not.toThrow();
    expect(() => validateNextBlock(block, certify(block), contextAfter(genesis))).not.toThrow();
    const second = nextBlock(block, [makeTx('3')]);
    expect(() => validateNextBlock(second, certify(second), contextAfter(block))).not.toThrow();
  });

  it('refuses a block whose height is not the last height + 1 (height)', () => {
    const skipping = nextBlock(block, []);
    expect(refusal(() => validateNextBlock(skipping, null, contextAfter(genesis)))).toMatchObject({
      code: 'height',
      field: 'height',
    });
    expect(refusal(() => validateNextBlock(block, null, contextAfter(block)))).toMatchObject({
      code: 'height',
    });
  });

  it('refuses a block whose prevSeal is not the last block’s seal (link)', () => {
    const forked = buildBlock({ ...block, prevSeal: sha256Hex('another chain') });
    expect(refusal(() => validateNextBlock(forked, null, contextAfter(genesis)))).toMatchObject({
      code: 'link',
      field: 'prevSeal',
    });
  });

  it('refuses a block whose seal does not recompute over the full header (seal)', () => {
    for (const changed of [
      { ...block, stateRoot: sha256Hex('other state') },
      { ...block, creator: v3.nodeId }, // creator is sealed (the original left it out)
      { ...block, timestamp: block.timestamp + 1 },
      { ...block, seal: sha256Hex('made up') },
    ]) {
      expect(refusal(() => validateNextBlock(changed, null, contextAfter(genesis)))).toMatchObject({
        code: 'seal',
        field: 'seal',
      });
    }
  });

  it('refuses a block whose txs do not match its txRoot (txRoot)', () => {
    for (const txs of [[tx1], [tx2, tx1], [tx1, tx2, makeTx('3')]]) {
      expect(refusal(() => validateNextBlock({ ...block, txs }, null, contextAfter(genesis)))).toMatchObject({
        code: 'txRoot',
        field: 'txRoot',
      });
    }
  });

  it('refuses a block whose timestamp goes back from the last block (timestamp)', () => {
    const backwards = nextBlock(genesis, [], genesis.timestamp - 1);
    expect(refusal(() => validateNextBlock(backwards, null, contextAfter(genesis)))).toMatchObject({
      code: 'timestamp',
      field: 'timestamp',
    });
    expect(() =>
      validateNextBlock(nextBlock(genesis, [], genesis.timestamp), null, contextAfter(genesis)),
    ).not.toThrow();
  });

  it('refuses a block more than maxClockSkewMs ahead of the node’s clock, and only then (timestamp)', () => {
    const now = T0 + 10_000;
    const atLimit = nextBlock(genesis, [], now + DEFAULT_LIMITS.maxClockSkewMs);
    const beyond = nextBlock(genesis, [], now + DEFAULT_LIMITS.maxClockSkewMs + 1);
    expect(() => validateNextBlock(atLimit, null, contextAfter(genesis, { now }))).not.toThrow();
    expect(refusal(() => validateNextBlock(beyond, null, contextAfter(genesis, { now })))).toMatchObject({
      code: 'timestamp',
      field: 'timestamp',
    });
    // Replaying stored blocks (no clock) does not apply the skew rule.
    expect(() => validateNextBlock(beyond, null, contextAfter(genesis))).not.toThrow();
  });

  it('refuses a block larger than maxBlockBytes (size)', () => {
    const limits = { ...DEFAULT_LIMITS, maxBlockBytes: 1000 };
    expect(refusal(() => validateNextBlock(block, null, contextAfter(genesis, { limits })))).toMatchObject({
      code: 'size',
      field: 'block',
    });
  });

  it('refuses a block holding a tx larger than maxTxBytes, naming the tx (size)', () => {
    const big = nextBlock(genesis, [tx1, makeTx('big', { args: ['x'.repeat(3000)] })]);
    const limits = { ...DEFAULT_LIMITS, maxTxBytes: 2000 };
    expect(refusal(() => validateNextBlock(big, null, contextAfter(genesis, { limits })))).toMatchObject({
      code: 'size',
      field: 'txs[1]',
    });
  });

  it('refuses a tx that appears twice in the block or is already on the chain (duplicate)', () => {
    const twice = nextBlock(genesis, [tx1, tx2, tx1]);
    expect(refusal(() => validateNextBlock(twice, null, contextAfter(genesis)))).toMatchObject({
      code: 'duplicate',
      field: 'txs[2]',
    });
    const isCommittedTx = (id: string) => id === tx2.id;
    expect(
      refusal(() => validateNextBlock(block, null, contextAfter(genesis, { isCommittedTx }))),
    ).toMatchObject({
      code: 'duplicate',
      field: 'txs[1]',
    });
  });

  it('refuses a block holding a tx whose body changed after signing (txId)', () => {
    // txRoot covers ids only, so a block built around the changed tx still seals: the id check catches it.
    const changed = { ...tx2, function: 'del' };
    const sneaky = nextBlock(genesis, [tx1, changed]);
    expect(refusal(() => validateNextBlock(sneaky, null, contextAfter(genesis)))).toMatchObject({
      code: 'txId',
      field: 'txs[1].id',
    });
  });

  it('refuses a block holding a tx with a forged signature or an unknown signer (signature)', () => {
    const forged = { ...tx2, signature: tx1.signature };
    expect(
      refusal(() => validateNextBlock(nextBlock(genesis, [tx1, forged]), null, contextAfter(genesis))),
    ).toMatchObject({ code: 'signature', field: 'txs[1].signature' });
    const withoutV2 = new KeyRing();
    for (const v of [v0, v1, v3]) withoutV2.add(v.publicKey);
    expect(
      refusal(() => validateNextBlock(block, null, contextAfter(genesis, { keys: withoutV2 }))),
    ).toMatchObject({
      code: 'signature',
      field: 'txs[1].signer',
    });
  });

  it('checks each tx signature once per node, but a cached tx still needs a matching id', () => {
    const verifiedTxs = new Map<string, string>();
    validateNextBlock(block, null, contextAfter(genesis, { verifiedTxs }));
    expect([...verifiedTxs.entries()]).toEqual([
      [tx1.id, tx1.signature],
      [tx2.id, tx2.signature],
    ]);
    const changed = nextBlock(genesis, [tx1, { ...tx2, args: ['stolen'] }]);
    expect(
      refusal(() => validateNextBlock(changed, null, contextAfter(genesis, { verifiedTxs }))),
    ).toMatchObject({
      code: 'txId',
      field: 'txs[1].id',
    });
  });
});

describe('commit certificate (via validateNextBlock)', () => {
  const block = nextBlock(genesis, [makeTx('1')]);
  const other = nextBlock(genesis, [makeTx('2')]);
  const check = (cert: ReturnType<typeof certify>) => () =>
    validateNextBlock(block, cert, contextAfter(genesis));

  it('accepts 2f+1 = 3 of 4 valid PreCommits, and all 4', () => {
    expect(check(certify(block))).not.toThrow();
    expect(check(certify(block, validators))).not.toThrow();
  });

  it('refuses fewer than quorumSize(n) PreCommits (too few)', () => {
    expect(refusal(check(certify(block, [v0, v1])))).toMatchObject({
      code: 'certificate',
      field: 'precommits',
    });
    expect(refusal(check(certify(block, [])))).toMatchObject({ code: 'certificate', field: 'precommits' });
  });

  it('counts a validator once: a repeated vote is refused, not counted twice (duplicated)', () => {
    const cert = certify(block, [v0, v1, v1]);
    expect(refusal(check(cert))).toMatchObject({ code: 'certificate', field: 'precommits[2].voter' });
  });

  it('refuses a certificate for another block or height, or holding a vote for another block (wrong hash)', () => {
    expect(refusal(check(certify(other)))).toMatchObject({ code: 'certificate', field: 'blockHash' });
    const wrongHeight = { ...certify(block), height: 2 };
    expect(refusal(check(wrongHeight))).toMatchObject({ code: 'certificate', field: 'height' });
    const cert = certify(block);
    cert.precommits[1] = precommit(other, v1);
    expect(refusal(check(cert))).toMatchObject({ code: 'certificate', field: 'precommits[1].blockHash' });
  });

  it('refuses a vote whose signature does not verify for its voter (forged)', () => {
    const cert = certify(block);
    const real = cert.precommits[2]!;
    cert.precommits[2] = { ...real, signature: precommit(block, v3).signature }; // v3 signed, claims v2
    expect(refusal(check(cert))).toMatchObject({ code: 'certificate', field: 'precommits[2].signature' });
  });

  it('refuses a forged vote even when the other votes make a quorum on their own', () => {
    const cert = certify(block, validators);
    cert.precommits[3] = { ...cert.precommits[3]!, signature: cert.precommits[0]!.signature };
    expect(refusal(check(cert))).toMatchObject({ code: 'certificate', field: 'precommits[3].signature' });
  });

  it('refuses a vote from a known key that is not a validator', () => {
    const cert = certify(block, [v0, v1, outsider]);
    expect(refusal(check(cert))).toMatchObject({ code: 'certificate', field: 'precommits[2].voter' });
  });

  it('refuses a PreVote, a vote of another round and a vote of another network in a certificate', () => {
    const prevote = certify(block);
    prevote.precommits[0] = {
      ...prevote.precommits[0]!,
      type: 'prevote',
    };
    expect(refusal(check(prevote))).toMatchObject({ code: 'certificate', field: 'precommits[0].type' });
    const mixedRounds = certify(block);
    mixedRounds.precommits[1] = precommit(block, v1, 1);
    expect(refusal(check(mixedRounds))).toMatchObject({ code: 'certificate', field: 'precommits[1].round' });
    const foreign = certify(block);
    foreign.precommits[0] = { ...foreign.precommits[0]!, networkId: 'other-net' };
    expect(refusal(check(foreign))).toMatchObject({ code: 'certificate', field: 'precommits[0].networkId' });
  });
});
