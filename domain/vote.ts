import { canonicalBytes } from './canonical.ts';
import type { NodeId, Signer } from './identity.ts';

export type VoteType = 'prevote' | 'precommit';

/** A signed PBFT vote. blockHash null is a vote for nothing (nil) in that round. */
export interface Vote {
  type: VoteType;
  networkId: string;
  height: number;
  round: number;
  blockHash: string | null;
  voter: NodeId;
  signature: string;
}

export type UnsignedVote = Omit<Vote, 'signature'>;

/** Domain-separated and bound to one network, so a vote can't be replayed elsewhere. */
export function voteSigningBytes(vote: UnsignedVote): Uint8Array {
  const { type, networkId, height, round, blockHash, voter } = vote;
  return canonicalBytes({ domain: 'itchain/vote/v1', type, networkId, height, round, blockHash, voter });
}

export function signVote(vote: UnsignedVote, signer: Signer): Vote {
  return { ...vote, signature: signer.sign(voteSigningBytes(vote)) };
}
