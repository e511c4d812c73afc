// What replicas say to each other: one union for the four protocols, so a transport carries one
// message type and a trace describes every message in one line. The node's gRPC gateway puts these
// in its signed envelopes; the simulator delivers them as frozen values. Every field is data (no
// classes, no functions), so a message survives structuredClone and a JSON round trip unchanged.
//
// Authentication: the transport tells the replica who sent a message (`from`). Consensus messages
// carry their own signatures on top (PBFT proposals and votes, election votes), because they travel
// on inside other messages (commit certificates, leader certificates) and must stay checkable there.

import type { Block } from '../../domain/block.ts';
import type { CommitCertificate } from '../../domain/commit-certificate.ts';
import type { NodeId } from '../../domain/identity.ts';
import type { Transaction } from '../../domain/transaction.ts';
import type { Vote } from '../../domain/vote.ts';
import type { CertifiedBlock } from '../../machines/block-pool.ts';
import type { RequestVote, SignedElectionVote, UpdateLeader } from '../../machines/election-messages.ts';
import type { SignedProposal } from '../../machines/pbft-messages.ts';

export type PeerMessage =
  // Leader election (machines/election.ts).
  | { type: 'RequestVote'; request: RequestVote }
  | { type: 'ElectionVote'; vote: SignedElectionVote }
  | { type: 'UpdateLeader'; update: UpdateLeader }
  // PBFT round (machines/pbft-round.ts).
  // A re-proposed block (validRound ≥ 0) travels with the 2f+1 prevotes of its polka, so a node that
  // missed them (messages are not re-sent) can still check the proposal is justified.
  | { type: 'Proposal'; proposal: SignedProposal; justification: readonly Vote[] }
  | { type: 'Vote'; vote: Vote }
  // Votes relayed to a peer still in an earlier round of the height (actors/replica/gossip.ts).
  | { type: 'Votes'; votes: readonly Vote[] }
  // Tx batching: a member hands pending txs to the leader or to a round's proposer.
  | { type: 'Txs'; txs: readonly Transaction[] }
  // Sync (machines/sync.ts): heights (a request says the asker's), blocks by range, and committed
  // blocks pushed to a peer that is behind.
  | { type: 'StatusRequest'; height: number }
  | { type: 'Status'; height: number }
  | { type: 'BlocksRequest'; requestId: number; from: number; to: number }
  | { type: 'Blocks'; requestId: number; blocks: readonly CertifiedBlock[] }
  | { type: 'Committed'; block: Block; cert: CommitCertificate };

export type PeerMessageType = PeerMessage['type'];

const shortHash = (hash: string | null): string => (hash === null ? 'nil' : hash.slice(0, 6));

/**
 * One line per message for traces and logs: `prevote h3 r0 9f2c1a by n2`. `name` turns a node ID
 * into something short (the simulator's n0, n1 …); by default the first six hex digits.
 */
export function describePeerMessage(
  message: PeerMessage,
  name: (id: NodeId) => string = (id) => id.slice(0, 6),
): string {
  switch (message.type) {
    case 'RequestVote': {
      const r = message.request;
      return `request-vote t${r.term} for ${name(r.candidate)} (height ${r.lastCommittedHeight})`;
    }
    case 'ElectionVote': {
      const v = message.vote;
      return `election-vote t${v.term} ${v.granted ? 'grants' : 'refuses'} ${name(v.candidate)} by ${name(v.voter)}`;
    }
    case 'UpdateLeader': {
      const u = message.update;
      return `update-leader t${u.term} ${name(u.leader)} (${u.votes.length} votes)`;
    }
    case 'Proposal': {
      const p = message.proposal;
      const vr = p.validRound >= 0 ? ` vr${p.validRound}` : '';
      return `proposal h${p.height} r${p.round}${vr} ${shortHash(p.block.seal)} [${p.block.txs.length} txs] by ${name(p.proposer)}`;
    }
    case 'Vote': {
      const v = message.vote;
      return `${v.type} h${v.height} r${v.round} ${shortHash(v.blockHash)} by ${name(v.voter)}`;
    }
    case 'Votes': {
      const first = message.votes[0];
      return first === undefined
        ? 'votes ×0'
        : `votes ×${message.votes.length} h${first.height} r${first.round}`;
    }
    case 'Txs':
      return `txs ×${message.txs.length}`;
    case 'StatusRequest':
      return `status? (at h${message.height})`;
    case 'Status':
      return `status h${message.height}`;
    case 'BlocksRequest':
      return `blocks? #${message.requestId} h${message.from}..h${message.to}`;
    case 'Blocks': {
      const first = message.blocks[0]?.block.height;
      const last = message.blocks.at(-1)?.block.height;
      const range = first === undefined ? 'none' : `h${first}..h${last}`;
      return `blocks #${message.requestId} ${range}`;
    }
    case 'Committed':
      return `committed h${message.block.height} ${shortHash(message.block.seal)}`;
  }
}
