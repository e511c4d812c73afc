/**
 * The PBFT round's wire messages and its one scheduling rule: who proposes in (height, round).
 *
 * Votes are domain/vote.ts `Vote`s (signed by the host with signVote). A Proposal carries the whole
 * block; its signature covers the block's seal, which covers the header and, through txRoot, the txs.
 */
import type { Block } from '../domain/block.ts';
import { canonicalBytes } from '../domain/canonical.ts';
import type { NodeId } from '../domain/identity.ts';

/** ⟨PROPOSAL, height, round, block, validRound⟩ from the round's proposer, as the machine emits it. */
export interface Proposal {
  kind: 'Proposal';
  networkId: string;
  height: number;
  round: number;
  block: Block;
  /**
   * -1 for a fresh block; otherwise the round in which the proposer saw a polka (2f+1 PreVotes) for
   * this block — the justification that lets nodes locked on an older block prevote it (Tendermint's vr).
   */
  validRound: number;
  proposer: NodeId;
}

/** A proposal after the host signed it: what arrives in PROPOSAL events. */
export interface SignedProposal extends Proposal {
  signature: string;
}

/** The bytes a proposer signs: domain-separated, bound to the network, the round and the block's seal. */
export function proposalSigningBytes(proposal: Proposal): Uint8Array {
  const { networkId, height, round, validRound, proposer } = proposal;
  return canonicalBytes({
    domain: 'itchain/proposal/v1',
    networkId,
    height,
    round,
    blockHash: proposal.block.seal,
    validRound,
    proposer,
  });
}

/**
 * Who proposes in (height, round). Round 0 is the elected leader's (before any leader is known, the
 * first validator's). Every later round — a timeout moved past round 0 — rotates through the validator
 * set by height and round alone, validators[(height - 1 + round) mod n], so n rounds in a row visit
 * every validator and f silent or faulty proposers cannot stall a height.
 *
 * Why not "the next validator after the leader", as one might expect: the leader is each node's own
 * view, and views differ while an election settles (a node learns the new leader a message later than
 * another). If later rounds rotated from the leader, every election would move the proposer of the
 * round in progress, differently on different nodes, and a round whose proposer the nodes disagree on
 * can never gather a quorum (found by the simulator: heights stalled for seconds under leader churn).
 * From round 1 on, every honest node names the same proposer whatever it thinks of the leader.
 */
export function proposerOf(
  validators: readonly NodeId[],
  leader: NodeId | null,
  round: number,
  height: number,
): NodeId {
  const n = validators.length;
  if (n === 0) throw new Error('proposerOf: the validator set is empty');
  if (round === 0) return leader !== null && validators.includes(leader) ? leader : validators[0]!;
  return validators[(((height - 1 + round) % n) + n) % n]!;
}
