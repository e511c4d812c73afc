/**
 * The leader election's wire messages, and the leader certificate that makes UpdateLeader trustworthy.
 *
 * RequestVote and UpdateLeader are authenticated by the transport (signed envelopes between peers).
 * A Vote is additionally signed on its own by the voter (the host signs what the machine emits), because
 * a granted Vote travels on: the winner puts 2f+1 of them into every UpdateLeader as its certificate,
 * so any node can check that the leader really won its term and a Byzantine node cannot crown itself.
 */
import { canonicalBytes } from '../domain/canonical.ts';
import type { NodeId } from '../domain/identity.ts';
import { quorumSize } from '../domain/quorum.ts';

/** A candidate asks for votes in its term. Broadcast to every validator. */
export interface RequestVote {
  kind: 'RequestVote';
  term: number;
  candidate: NodeId;
  /** The candidate's last committed block height: nobody votes for a candidate behind itself. */
  lastCommittedHeight: number;
}

/** A voter's answer to one candidate in one term, as the machine emits it (unsigned). */
export interface ElectionVote {
  kind: 'Vote';
  networkId: string;
  term: number;
  candidate: NodeId;
  voter: NodeId;
  granted: boolean;
}

/** A vote after the host signed it: what arrives in VOTE events and in leader certificates. */
export interface SignedElectionVote extends ElectionVote {
  signature: string;
}

/** The leader announces itself; repeated as its heartbeat. `votes` is its leader certificate. */
export interface UpdateLeader {
  kind: 'UpdateLeader';
  term: number;
  leader: NodeId;
  votes: SignedElectionVote[];
}

export type ElectionMessage = RequestVote | ElectionVote | UpdateLeader;

/** The bytes a voter signs: domain-separated and bound to one network, like PBFT votes. */
export function electionVoteSigningBytes(vote: ElectionVote): Uint8Array {
  const { networkId, term, candidate, voter, granted } = vote;
  return canonicalBytes({ domain: 'itchain/election-vote/v1', networkId, term, candidate, voter, granted });
}

/**
 * True when `votes` holds granted votes for `leader` in `term` on this network from a quorum (2f+1) of
 * distinct validators. Signatures are the host's job: it verifies each vote before the message becomes
 * an event, so here only the counting is checked.
 */
export function isLeaderCertificate(
  update: Pick<UpdateLeader, 'term' | 'leader' | 'votes'>,
  validators: readonly NodeId[],
  networkId: string,
): boolean {
  if (!validators.includes(update.leader)) return false;
  const voters = new Set<NodeId>();
  for (const vote of update.votes) {
    if (vote.kind !== 'Vote' || !vote.granted || vote.networkId !== networkId) continue;
    if (vote.term !== update.term || vote.candidate !== update.leader) continue;
    if (validators.includes(vote.voter)) voters.add(vote.voter);
  }
  return voters.size >= quorumSize(validators.length);
}
