// What a replica knows of the heights it has not stored yet, and what it tells peers that are behind.
// This is the gossip layer Tendermint's proofs assume ("every message an honest node sent eventually
// reaches every honest node"): the network loses messages, so a replica
//
//   - keeps every verified proposal and vote above its ledger, and its own signed messages per round;
//   - re-sends its current round's messages while the round lasts (the replica's resend timer);
//   - answers a peer still in an earlier round of this height with the votes (and proposal) of that
//     round — the round the peer needs to finish before it can move on;
//   - pushes a committed block to a peer still deciding that height, and each newly committed block
//     to peers that asked for status or blocks recently (they are syncing);
//   - hands each distinct message to the PBFT machine once (re-sent and relayed copies are dropped).
//
// Plain bookkeeping, no I/O: the replica decides and sends. Everything is bounded (a Byzantine flood
// cannot grow it): a few heights ahead, a cap per height, rate limits per peer.

import type { Block } from '../../domain/block.ts';
import type { NodeId } from '../../domain/identity.ts';
import type { Vote } from '../../domain/vote.ts';
import type { SignedProposal } from '../../machines/pbft-messages.ts';
import type { OwnSigned } from './records.ts';

export interface GossipSettings {
  /** At most one relay of a round (or push of a block) to one peer per this many ms. */
  intervalMs: number;
  /** A peer that asked for status or blocks this recently is sent each block committed here. */
  announceWindowMs: number;
}

interface Proposed {
  proposal: SignedProposal;
  justification: readonly Vote[];
}

interface HeightKnowledge {
  proposals: Map<string, Proposed>;
  votes: Map<string, Vote>;
  own: Map<number, OwnSigned[]>;
  delivered: Set<string>;
}

/** Heights above the ledger kept at once; messages for heights further ahead are not kept. */
const HEIGHTS_AHEAD = 8;
/** Proposals and votes kept per height. */
const MAX_PER_HEIGHT = 2_048;

export const voteKey = (v: Vote): string => `${v.type}/${v.round}/${v.voter}/${v.blockHash}`;
export const proposalKey = (p: SignedProposal): string => `proposal/${p.round}/${p.proposer}/${p.block.seal}`;

export class Gossip {
  private readonly heights = new Map<number, HeightKnowledge>();
  /** Height of the last stored block. */
  private stored: number;
  private readonly relayedTo = new Map<NodeId, { height: number; round: number; at: number }>();
  private readonly pushedTo = new Map<NodeId, { height: number; at: number }>();
  private readonly storedAt = new Map<number, number>();
  private readonly syncing = new Map<NodeId, number>();
  /** The highest (height, round) each validator's own messages showed. */
  private readonly positions = new Map<NodeId, { height: number; round: number }>();

  constructor(
    private readonly settings: GossipSettings,
    storedHeight: number,
  ) {
    this.stored = storedHeight;
  }

  private at(height: number): HeightKnowledge | null {
    if (height <= this.stored || height > this.stored + HEIGHTS_AHEAD) return null;
    let known = this.heights.get(height);
    if (known === undefined) {
      known = { proposals: new Map(), votes: new Map(), own: new Map(), delivered: new Set() };
      this.heights.set(height, known);
    }
    return known;
  }

  /**
   * True the first time a message with this key reaches the machine; false for a copy or a height
   * already stored. Heights too far ahead are not tracked: always true (the machine bounds its buffer).
   */
  firstDelivery(height: number, key: string): boolean {
    if (height <= this.stored) return false;
    const known = this.at(height);
    if (known === null) return true;
    if (known.delivered.has(key)) return false;
    if (known.delivered.size < MAX_PER_HEIGHT * 2) known.delivered.add(key);
    return true;
  }

  addVote(vote: Vote): void {
    const known = this.at(vote.height);
    if (known !== null && known.votes.size < MAX_PER_HEIGHT) known.votes.set(voteKey(vote), vote);
  }

  addProposal(proposal: SignedProposal, justification: readonly Vote[]): void {
    const known = this.at(proposal.height);
    if (known !== null && known.proposals.size < MAX_PER_HEIGHT) {
      known.proposals.set(proposalKey(proposal), { proposal, justification });
    }
  }

  addOwn(message: OwnSigned, height: number, round: number): void {
    const known = this.at(height);
    if (known === null) return;
    known.own.set(round, [...(known.own.get(round) ?? []), message]);
  }

  /** The messages this node signed in (height, round). */
  ownAt(height: number, round: number): readonly OwnSigned[] {
    return this.heights.get(height)?.own.get(round) ?? [];
  }

  /** The messages this node signed in its latest round of `height` that has any. */
  latestOwn(height: number): readonly OwnSigned[] {
    const own = this.heights.get(height)?.own;
    if (own === undefined || own.size === 0) return [];
    return own.get(Math.max(...own.keys())) ?? [];
  }

  votesAt(height: number, round: number): Vote[] {
    const votes: Vote[] = [];
    for (const vote of this.heights.get(height)?.votes.values() ?? [])
      if (vote.round === round) votes.push(vote);
    return votes;
  }

  /** The prevotes held for `seal` in (height, round): its polka, when there are 2f+1. */
  polka(height: number, round: number, seal: string): Vote[] {
    return this.votesAt(height, round).filter((v) => v.type === 'prevote' && v.blockHash === seal);
  }

  proposalsAt(height: number, round?: number): Proposed[] {
    const found: Proposed[] = [];
    for (const p of this.heights.get(height)?.proposals.values() ?? []) {
      if (round === undefined || p.proposal.round === round) found.push(p);
    }
    return found;
  }

  /** A block proposed at some height above the ledger, by its seal. */
  blockBySeal(seal: string): Block | null {
    for (const known of this.heights.values()) {
      for (const { proposal } of known.proposals.values())
        if (proposal.block.seal === seal) return proposal.block;
    }
    return null;
  }

  /** A validator's own message showed it at (height, round). */
  notePosition(peer: NodeId, height: number, round: number): void {
    const known = this.positions.get(peer);
    if (known === undefined || height > known.height || (height === known.height && round > known.round)) {
      this.positions.set(peer, { height, round });
    }
  }

  /** Whether a validator has shown itself working on `height` (or beyond). */
  isActiveAt(peer: NodeId, height: number): boolean {
    return (this.positions.get(peer)?.height ?? 0) >= height;
  }

  /**
   * A peer sent a message for (height, round) while this node is at (ourHeight, ourRound): true when
   * it is in an earlier round of our height and has not been helped with that round recently.
   */
  relayDue(
    peer: NodeId,
    height: number,
    round: number,
    ourHeight: number,
    ourRound: number,
    now: number,
  ): boolean {
    if (height !== ourHeight || round >= ourRound) return false;
    const last = this.relayedTo.get(peer);
    if (last?.height === height && last.round === round && now - last.at < this.settings.intervalMs)
      return false;
    this.relayedTo.set(peer, { height, round, at: now });
    return true;
  }

  /**
   * A peer sent a message for a height this node has stored: true when the block should be pushed to
   * it — not for a vote that merely crossed our commit on the wire, nor twice in a short while.
   */
  pushDue(peer: NodeId, height: number, now: number): boolean {
    if (height > this.stored) return false;
    const storedAt = this.storedAt.get(height);
    if (storedAt !== undefined && now - storedAt < this.settings.intervalMs) return false;
    const last = this.pushedTo.get(peer);
    if (last?.height === height && now - last.at < this.settings.intervalMs) return false;
    this.pushedTo.set(peer, { height, at: now });
    return true;
  }

  /** A peer below this node's height asked for status or blocks: it is syncing. */
  noteSyncing(peer: NodeId, now: number): void {
    this.syncing.set(peer, now);
  }

  /** Peers that are syncing: each block this node stores is announced to them. */
  syncingPeers(now: number): NodeId[] {
    const peers: NodeId[] = [];
    for (const [peer, at] of this.syncing) {
      if (now - at > this.settings.announceWindowMs) this.syncing.delete(peer);
      else peers.push(peer);
    }
    return peers;
  }

  /** A block was stored: forget everything at or below its height. */
  storedHeight(height: number, now: number): void {
    this.stored = Math.max(this.stored, height);
    for (const h of this.heights.keys()) if (h <= this.stored) this.heights.delete(h);
    this.storedAt.set(height, now);
    this.storedAt.delete(height - HEIGHTS_AHEAD);
  }
}
