import { ValidationError } from './errors.ts';
import type { NodeId, SignatureVerifier } from './identity.ts';
import { quorumSize } from './quorum.ts';
import { type Vote, voteSigningBytes } from './vote.ts';

/** The signed PreCommits that committed a block: lets any node trust a block from a single peer. */
export interface CommitCertificate {
  height: number;
  round: number;
  blockHash: string;
  precommits: Vote[];
}

/**
 * Checks that the certificate holds PreCommits for this exact block from a quorum of distinct
 * validators, each signature valid. Throws a ValidationError('certificate') naming what is wrong.
 */
export function verifyCommitCertificate(
  cert: CommitCertificate,
  expected: { height: number; blockHash: string; networkId: string },
  validators: readonly NodeId[],
  keys: SignatureVerifier,
): void {
  const fail = (field: string, message: string): never => {
    throw new ValidationError('certificate', field, message);
  };
  if (cert.height !== expected.height) fail('height', `certificate is for height ${cert.height}`);
  if (cert.blockHash !== expected.blockHash) fail('blockHash', 'certificate is for another block');
  const members = new Set(validators);
  const signers = new Set<NodeId>();
  for (const vote of cert.precommits) {
    if (vote.type !== 'precommit') continue;
    if (vote.height !== cert.height || vote.round !== cert.round) continue;
    if (vote.blockHash !== cert.blockHash || vote.networkId !== expected.networkId) continue;
    if (!members.has(vote.voter) || signers.has(vote.voter)) continue;
    if (!keys.verify(vote.voter, voteSigningBytes(vote), vote.signature)) continue;
    signers.add(vote.voter);
  }
  const needed = quorumSize(validators.length);
  if (signers.size < needed) {
    fail('precommits', `${signers.size} valid distinct PreCommits, ${needed} needed`);
  }
}
