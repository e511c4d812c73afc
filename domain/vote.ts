import { canonicalBytes } from './canonical.ts';
import { type Identity, type NodeId, signBytes } from './identity.ts';

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

export function signVote(vote: UnsignedVote, identity: Identity): Vote {
  return { ...vote, signature: signBytes(identity, voteSigningBytes(vote)) };
}
