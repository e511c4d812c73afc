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
 *
 * Every vote in it must count: a certificate is evidence, assembled by a node from votes it verified,
 * so one that carries a forged, foreign, duplicated or mismatched vote is refused as a whole, even if
 * the rest would make a quorum. Skipping such votes instead would let bits of a stored surplus vote rot
 * unnoticed, and would make "valid certificate" depend on which votes a reader chooses to ignore.
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
  const needed = quorumSize(validators.length);
  // Cheap count first: too few votes are refused before any signature is checked.
  if (cert.precommits.length < needed) {
    fail(
      'precommits',
      `${cert.precommits.length} PreCommits, ${needed} needed (quorum of ${validators.length})`,
    );
  }
  const members = new Set(validators);
  const signers = new Set<NodeId>();
  for (const [i, vote] of cert.precommits.entries()) {
    const at = `precommits[${i}]`;
    if (vote.type !== 'precommit') fail(`${at}.type`, `a ${vote.type} is not a PreCommit`);
    if (vote.networkId !== expected.networkId)
      fail(`${at}.networkId`, `vote is for network ${vote.networkId}`);
    if (vote.height !== cert.height) fail(`${at}.height`, `vote is for height ${vote.height}`);
    if (vote.round !== cert.round) fail(`${at}.round`, `vote is for round ${vote.round}, not ${cert.round}`);
    if (vote.blockHash !== cert.blockHash) fail(`${at}.blockHash`, 'vote is for another block');
    if (!members.has(vote.voter)) fail(`${at}.voter`, `${vote.voter} is not a validator`);
    if (signers.has(vote.voter)) fail(`${at}.voter`, `${vote.voter} votes twice`);
    signers.add(vote.voter);
  }
  // Signatures last: the checks above are cheap, a verification is not (~100 µs).
  for (const [i, vote] of cert.precommits.entries()) {
    if (!keys.verify(vote.voter, voteSigningBytes(vote), vote.signature)) {
      fail(`precommits[${i}].signature`, `signature of ${vote.voter} does not verify`);
    }
  }
}
