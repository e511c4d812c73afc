/**
 * What a node has heard at the height it is deciding: per round the proposal and the PreVote and
 * PreCommit tallies, plus a bounded buffer of early messages for later rounds and heights.
 *
 * Routing of every incoming proposal or vote:
 *   - from a non-validator, for another network, or for an earlier height → ignored;
 *   - for this height and a round ≤ the current one → recorded (earlier rounds still matter: a commit
 *     may complete in any round, and a proposal's validRound points back at an earlier polka);
 *   - for a later round or a later height → buffered per sender, at most `limit` messages each (the
 *     oldest goes first), and replayed when the node reaches that round or height;
 *   - a proposal counts only from the proposer of its round, and only the first one per round.
 *
 * Pure functions over plain data: the machine keeps a HeightLog in its context.
 */
import type { Block } from '../domain/block.ts';
import type { CommitCertificate } from '../domain/commit-certificate.ts';
import type { NodeId } from '../domain/identity.ts';
import { maxFaulty, quorumSize } from '../domain/quorum.ts';
import type { Vote } from '../domain/vote.ts';
import type { SignedProposal } from './pbft-messages.ts';
import {
  addVote,
  type Choice,
  describeTally,
  emptyTally,
  type VoteOutcome,
  type VoteTally,
  voteOf,
  winningChoice,
} from './quorum.ts';

export type PbftMessage = { kind: 'proposal'; proposal: SignedProposal } | { kind: 'vote'; vote: Vote };

export interface RoundLog {
  /** The first proposal from this round's proposer. */
  proposal: SignedProposal | null;
  prevotes: VoteTally;
  precommits: VoteTally;
  /** The signed PreCommits counted in `precommits`: the raw material of a commit certificate. */
  signedPrecommits: Vote[];
}

export interface HeightLog {
  height: number;
  validators: readonly NodeId[];
  /** Matching votes that decide at this height: quorumSize(validators.length) = 2f+1 (see quorum.ts). */
  quorum: number;
  rounds: Readonly<Record<number, RoundLog>>;
  /** Early messages, per sender, oldest first. */
  buffer: Readonly<Record<NodeId, readonly PbftMessage[]>>;
}

/** What the log needs to know about the node to route a message. */
export interface Hearing {
  networkId: string;
  /** The node's current round at log.height. */
  round: number;
  proposerOf: (round: number) => NodeId;
  /** Buffered messages kept per sender. */
  limit: number;
}

export type HeardOutcome =
  | { kind: 'recorded' | 'buffered' | 'ignored' }
  | { kind: VoteOutcome; vote: Vote; first: Choice | undefined };

const heightOf = (m: PbftMessage): number => (m.kind === 'proposal' ? m.proposal.height : m.vote.height);
const roundOf = (m: PbftMessage): number => (m.kind === 'proposal' ? m.proposal.round : m.vote.round);
const senderOf = (m: PbftMessage): NodeId => (m.kind === 'proposal' ? m.proposal.proposer : m.vote.voter);
const networkOf = (m: PbftMessage): string =>
  m.kind === 'proposal' ? m.proposal.networkId : m.vote.networkId;

function sameMessage(a: PbftMessage, b: PbftMessage): boolean {
  if (a.kind === 'proposal' || b.kind === 'proposal') {
    return (
      a.kind === b.kind &&
      heightOf(a) === heightOf(b) &&
      roundOf(a) === roundOf(b) &&
      senderOf(a) === senderOf(b) &&
      a.kind === 'proposal' &&
      b.kind === 'proposal' &&
      a.proposal.block.seal === b.proposal.block.seal
    );
  }
  const [x, y] = [a.vote, b.vote];
  return (
    x.type === y.type &&
    x.height === y.height &&
    x.round === y.round &&
    x.voter === y.voter &&
    x.blockHash === y.blockHash
  );
}

export function emptyRoundLog(
  validators: readonly NodeId[],
  quorum = quorumSize(validators.length),
): RoundLog {
  return {
    proposal: null,
    prevotes: emptyTally(validators, quorum),
    precommits: emptyTally(validators, quorum),
    signedPrecommits: [],
  };
}

export function emptyHeightLog(
  height: number,
  validators: readonly NodeId[],
  quorum = quorumSize(validators.length),
): HeightLog {
  return { height, validators, quorum, rounds: {}, buffer: {} };
}

export function roundLog(log: HeightLog, round: number): RoundLog {
  return log.rounds[round] ?? emptyRoundLog(log.validators, log.quorum);
}

function withRound(log: HeightLog, round: number, entry: RoundLog): HeightLog {
  return { ...log, rounds: { ...log.rounds, [round]: entry } };
}

function bufferMessage(log: HeightLog, message: PbftMessage, limit: number): HeightLog {
  const sender = senderOf(message);
  const queue = log.buffer[sender] ?? [];
  if (queue.some((m) => sameMessage(m, message))) return log;
  const kept = [...queue, message].slice(-Math.max(1, limit));
  return { ...log, buffer: { ...log.buffer, [sender]: kept } };
}

function recordProposal(
  log: HeightLog,
  proposal: SignedProposal,
  hearing: Hearing,
): [HeightLog, HeardOutcome] {
  const entry = roundLog(log, proposal.round);
  if (entry.proposal !== null || proposal.proposer !== hearing.proposerOf(proposal.round)) {
    return [log, { kind: 'ignored' }];
  }
  return [withRound(log, proposal.round, { ...entry, proposal }), { kind: 'recorded' }];
}

function recordVote(log: HeightLog, vote: Vote): [HeightLog, HeardOutcome] {
  const entry = roundLog(log, vote.round);
  const before = vote.type === 'prevote' ? entry.prevotes : entry.precommits;
  const first = voteOf(before, vote.voter);
  const { tally, outcome } = addVote(before, vote.voter, vote.blockHash);
  // An equivocator's new choice counts too (quorum.ts), so its signed PreCommit is kept like any other.
  if (outcome !== 'counted' && (outcome !== 'equivocation' || tally === before)) {
    return [log, { kind: outcome, vote, first }];
  }
  const next: RoundLog =
    vote.type === 'prevote'
      ? { ...entry, prevotes: tally }
      : { ...entry, precommits: tally, signedPrecommits: [...entry.signedPrecommits, vote] };
  return [withRound(log, vote.round, next), { kind: outcome, vote, first }];
}

/** Routes one message (see the header): ignore, record, or buffer for later. */
export function hear(log: HeightLog, message: PbftMessage, hearing: Hearing): [HeightLog, HeardOutcome] {
  if (!log.validators.includes(senderOf(message)) || networkOf(message) !== hearing.networkId) {
    return [log, { kind: 'ignored' }];
  }
  const height = heightOf(message);
  const round = roundOf(message);
  if (height < log.height || round < 0 || !Number.isSafeInteger(round)) return [log, { kind: 'ignored' }];
  if (height > log.height || round > hearing.round) {
    return [bufferMessage(log, message, hearing.limit), { kind: 'buffered' }];
  }
  return message.kind === 'proposal'
    ? recordProposal(log, message.proposal, hearing)
    : recordVote(log, message.vote);
}

/** Records every buffered message that is no longer early (this height, round ≤ hearing.round). */
export function replayBuffered(log: HeightLog, hearing: Hearing): HeightLog {
  const due: PbftMessage[] = [];
  const buffer: Record<NodeId, readonly PbftMessage[]> = {};
  for (const [sender, queue] of Object.entries(log.buffer)) {
    const later = queue.filter((m) => heightOf(m) > log.height || roundOf(m) > hearing.round);
    due.push(...queue.filter((m) => heightOf(m) === log.height && roundOf(m) <= hearing.round));
    if (later.length > 0) buffer[sender] = later;
  }
  let next: HeightLog = { ...log, buffer };
  for (const message of due) [next] = hear(next, message, hearing);
  return next;
}

/** A fresh log for `height`, keeping the buffered messages that are not stale, replayed for round 0. */
export function moveToHeight(
  log: HeightLog,
  height: number,
  validators: readonly NodeId[],
  hearing: Hearing,
  quorum = quorumSize(validators.length),
): HeightLog {
  const buffer: Record<NodeId, readonly PbftMessage[]> = {};
  for (const [sender, queue] of Object.entries(log.buffer)) {
    const kept = queue.filter((m) => heightOf(m) >= height);
    if (kept.length > 0) buffer[sender] = kept;
  }
  return replayBuffered({ height, validators, quorum, rounds: {}, buffer }, hearing);
}

/**
 * The highest later round of this height that f+1 distinct validators have reached (each counted at the
 * highest round it sent something for): at least one honest node is at that round or beyond, so this
 * node may skip ahead to it (Tendermint's line 55, counting the f+1 across rounds: three nodes at
 * rounds 1, 2 and 5 take a node at round 0 to round 2, not nowhere).
 */
export function laterRoundWithOneHonest(log: HeightLog, round: number): number | undefined {
  const highest: number[] = [];
  for (const queue of Object.values(log.buffer)) {
    let top = -1;
    for (const m of queue)
      if (heightOf(m) === log.height && roundOf(m) > round) top = Math.max(top, roundOf(m));
    if (top > round) highest.push(top);
  }
  const needed = maxFaulty(log.validators.length) + 1;
  if (highest.length < needed) return undefined;
  highest.sort((a, b) => b - a);
  return highest[needed - 1];
}

/**
 * The highest height that f+1 distinct validators have sent messages for, when above this log's height:
 * at least one honest node has moved on, so this node is behind and should sync. Else undefined.
 */
export function heightReachedByOneHonest(log: HeightLog): number | undefined {
  const highest: number[] = [];
  for (const queue of Object.values(log.buffer)) {
    const top = Math.max(...queue.map(heightOf));
    if (top > log.height) highest.push(top);
  }
  highest.sort((a, b) => b - a);
  const needed = maxFaulty(log.validators.length) + 1;
  return highest.length >= needed ? highest[needed - 1] : undefined;
}

/** Distinct validators heard from at this height, in any round (recorded or buffered). */
export function activeValidators(log: HeightLog): number {
  const senders = new Set<NodeId>();
  for (const entry of Object.values(log.rounds)) {
    if (entry.proposal) senders.add(entry.proposal.proposer);
    for (const tally of [entry.prevotes, entry.precommits])
      for (const voter of Object.keys(tally.votes)) senders.add(voter);
  }
  for (const [sender, queue] of Object.entries(log.buffer)) {
    if (queue.some((m) => heightOf(m) === log.height)) senders.add(sender);
  }
  return senders.size;
}

/**
 * The newest round r with after < r < before in which 2f+1 PreVotes agree on a block (not nil) whose
 * body this log holds, with that block — a polka this node saw only after it left that round.
 */
export function newestPolkaBetween(
  log: HeightLog,
  after: number,
  before: number,
): { round: number; block: Block } | undefined {
  const rounds = Object.keys(log.rounds)
    .map(Number)
    .filter((r) => r > after && r < before)
    .sort((a, b) => b - a);
  for (const round of rounds) {
    const choice = winningChoice(roundLog(log, round).prevotes);
    if (typeof choice !== 'string') continue;
    const block = blockWithHash(log, choice);
    if (block !== undefined) return { round, block };
  }
  return undefined;
}

/** The first round in which 2f+1 PreCommits agree on a block (not nil), and that block's hash. */
export function decision(log: HeightLog): { round: number; blockHash: string } | undefined {
  const rounds = Object.keys(log.rounds)
    .map(Number)
    .sort((a, b) => a - b);
  for (const round of rounds) {
    const choice = winningChoice(roundLog(log, round).precommits);
    if (typeof choice === 'string') return { round, blockHash: choice };
  }
  return undefined;
}

/** Any proposed block with this seal heard at this height. */
export function blockWithHash(log: HeightLog, blockHash: string): Block | undefined {
  for (const entry of Object.values(log.rounds)) {
    if (entry.proposal?.block.seal === blockHash) return entry.proposal.block;
  }
  return undefined;
}

/** The signed PreCommits for `blockHash` in `round`, one per validator. */
export function certificateFor(log: HeightLog, round: number, blockHash: string): CommitCertificate {
  const precommits = roundLog(log, round).signedPrecommits.filter((v) => v.blockHash === blockHash);
  return { height: log.height, round, blockHash, precommits };
}

/** A text picture of one round for traces: the proposal, then the PreVote and PreCommit ballots. */
export function describeRound(log: HeightLog, round: number): string {
  const entry = roundLog(log, round);
  const proposal = entry.proposal
    ? `${entry.proposal.block.seal.slice(0, 8)} from ${entry.proposal.proposer.slice(0, 8)} (validRound ${entry.proposal.validRound})`
    : 'none';
  return [
    `height ${log.height} round ${round}, proposal ${proposal}`,
    describeTally(entry.prevotes, 'prevotes'),
    describeTally(entry.precommits, 'precommits'),
  ].join('\n');
}
