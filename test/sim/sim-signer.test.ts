import { describe, expect, it } from 'vitest';
import { verifyCommitCertificate } from '../../domain/commit-certificate.ts';
import { ValidationError } from '../../domain/errors.ts';
import { signTransaction, txSigningBytes } from '../../domain/transaction.ts';
import { validateTransaction } from '../../domain/validation.ts';
import { signVote, voteSigningBytes } from '../../domain/vote.ts';
import { SimKeys } from '../../sim/sim-signer.ts';
import { simNodeId } from '../../sim/simulation.ts';

const ids = [0, 1, 2, 3].map(simNodeId);
const keys = new SimKeys(ids);
const bytes = new TextEncoder().encode('payload');

describe('SimKeys: cheap signatures with the node’s Signer/SignatureVerifier contract', () => {
  it('a signature verifies for its signer and for no other node, and not over other bytes', () => {
    const sig = keys.signerFor(ids[0]!).sign(bytes);
    expect(keys.verify(ids[0]!, bytes, sig)).toBe(true);
    expect(keys.verify(ids[1]!, bytes, sig)).toBe(false);
    expect(keys.verify(ids[0]!, new TextEncoder().encode('payloaD'), sig)).toBe(false);
    expect(keys.verify('f'.repeat(40), bytes, sig)).toBe(false);
    expect(keys.has(ids[3]!)).toBe(true);
    expect(keys.has('f'.repeat(40))).toBe(false);
    expect(() => keys.signerFor('f'.repeat(40))).toThrow();
  });

  it('a vote forged under another node’s ID is refused', () => {
    const forged = signVote(
      { type: 'precommit', networkId: 'net', height: 1, round: 0, blockHash: 'h', voter: ids[1]! },
      keys.signerFor(ids[0]!),
    );
    expect(keys.verify(forged.voter, voteSigningBytes(forged), forged.signature)).toBe(false);
  });

  it('the domain certificate check accepts 2f+1 simulated PreCommits and refuses 2f or a forged one', () => {
    const precommit = (i: number, voter = ids[i]!) =>
      signVote(
        { type: 'precommit', networkId: 'net', height: 3, round: 1, blockHash: 'abc', voter },
        keys.signerFor(ids[i]!),
      );
    const cert = (precommits: ReturnType<typeof precommit>[]) => ({
      height: 3,
      round: 1,
      blockHash: 'abc',
      precommits,
    });
    const expected = { height: 3, blockHash: 'abc', networkId: 'net' };
    expect(() =>
      verifyCommitCertificate(cert([0, 1, 2].map((i) => precommit(i))), expected, ids, keys),
    ).not.toThrow();
    expect(() => verifyCommitCertificate(cert([0, 1].map((i) => precommit(i))), expected, ids, keys)).toThrow(
      ValidationError,
    );
    const withForgery = [precommit(0), precommit(1), precommit(0, ids[2]!)];
    expect(() => verifyCommitCertificate(cert(withForgery), expected, ids, keys)).toThrow(ValidationError);
  });

  it('transactions signed with a simulated key pass the domain tx validation', () => {
    const tx = signTransaction(
      {
        kind: 'invoke',
        icodeId: 'kv',
        function: 'put',
        args: ['k', 'v'],
        timestamp: 1,
        signer: ids[2]!,
        nonce: 'n',
      },
      keys.signerFor(ids[2]!),
    );
    expect(() => validateTransaction(tx, keys)).not.toThrow();
    expect(keys.verify(ids[1]!, txSigningBytes(tx.id), tx.signature)).toBe(false);
  });
});
