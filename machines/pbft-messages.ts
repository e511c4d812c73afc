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
 * Who proposes in `round` of any height: round 0 is the elected leader's; every round after a timeout
 * moves to the next validator after the leader, in validator order. So a round that times out changes
 * the proposer at once — a new leader for this height even before the election replaces the old one —
 * and n rounds in a row visit every validator, so f silent or faulty proposers cannot stall a height.
 * Before any leader is known the first validator plays the leader's part.
 */
export function proposerOf(validators: readonly NodeId[], leader: NodeId | null, round: number): NodeId {
  if (validators.length === 0) throw new Error('proposerOf: the validator set is empty');
  const leaderIndex = leader === null ? 0 : Math.max(0, validators.indexOf(leader));
  return validators[(leaderIndex + round) % validators.length]!;
}
