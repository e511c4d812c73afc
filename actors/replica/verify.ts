// Checks a replica makes on what arrives from the network before it becomes a machine event. The
// machines do no crypto: a message that reaches them has a valid signature by the node it names,
// for this network. Block contents are checked later, where the height they extend is known
// (validateNextBlock in the PBFT guard and before storing a synced block).

import { sealOf } from '../../domain/block.ts';
import { verifyCommitCertificate } from '../../domain/commit-certificate.ts';
import { ValidationError } from '../../domain/errors.ts';
import type { NodeId, SignatureVerifier } from '../../domain/identity.ts';
import { type Vote, voteSigningBytes } from '../../domain/vote.ts';
import type { CertifiedBlock } from '../../machines/block-pool.ts';
import { electionVoteSigningBytes, type SignedElectionVote } from '../../machines/election-messages.ts';
import { proposalSigningBytes, type SignedProposal } from '../../machines/pbft-messages.ts';

/**
 * Signatures already verified, by signer and signature: a leader's heartbeat carries the same 2f+1
 * election votes every time, and each is checked once. Bounded: it forgets everything when full.
 */
export class VerifiedSignatures {
  private readonly seen = new Set<string>();

  constructor(
    private readonly verifier: SignatureVerifier,
    private readonly capacity = 4_096,
  ) {}

  /** A PBFT vote's signature by its voter (relayed and re-sent copies are checked once). */
  verifyVote(voter: NodeId, signature: string, vote: () => Vote): boolean {
    return this.verify(voter, () => voteSigningBytes(vote()), signature);
  }

  verify(signer: NodeId, bytes: () => Uint8Array, signature: string): boolean {
    const key = `${signer}:${signature}`;
    if (this.seen.has(key)) return true;
    if (!this.verifier.verify(signer, bytes(), signature)) return false;
    if (this.seen.size >= this.capacity) this.seen.clear();
    this.seen.add(key);
    return true;
  }
}

export function isValidElectionVote(
  vote: SignedElectionVote,
  networkId: string,
  signatures: VerifiedSignatures,
): boolean {
  return (
    vote.kind === 'Vote' &&
    vote.networkId === networkId &&
    signatures.verify(vote.voter, () => electionVoteSigningBytes(vote), vote.signature)
  );
}

export function isValidProposal(
  proposal: SignedProposal,
  networkId: string,
  verifier: SignatureVerifier,
): boolean {
  return (
    proposal.kind === 'Proposal' &&
    proposal.networkId === networkId &&
    proposal.block.height === proposal.height &&
    verifier.verify(proposal.proposer, proposalSigningBytes(proposal), proposal.signature)
  );
}

/**
 * A block from a single peer is trusted when its seal recomputes and its certificate holds 2f+1 valid
 * PreCommits for this height and seal from the validators. The reason when it is not, else null.
 */
export function certifiedBlockProblem(
  entry: CertifiedBlock,
  networkId: string,
  validators: readonly NodeId[],
  verifier: SignatureVerifier,
): string | null {
  const { block, cert } = entry;
  if (sealOf(block) !== block.seal) return `block ${block.height}: the seal does not recompute`;
  try {
    verifyCommitCertificate(
      cert,
      { height: block.height, blockHash: block.seal, networkId },
      validators,
      verifier,
    );
    return null;
  } catch (err) {
    if (err instanceof ValidationError) return `block ${block.height}: ${err.message}`;
    throw err;
  }
}
