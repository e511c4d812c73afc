/**
 * Vote counting for both protocols, in one small place (etcd's quorum/majority.go is the model).
 *
 * A VoteTally holds the votes of ONE ballot — one (height, round, PreVote|PreCommit) in the PBFT round,
 * one term's candidacy in the election — keyed by voter, so a voter is counted at most once:
 *
 *   - a vote is a Choice: a block hash (or a candidate's node ID), or null for nil ("nothing");
 *   - only validators count; anybody else is ignored;
 *   - the same vote twice is a duplicate and changes nothing;
 *   - a second, different vote from one voter is equivocation: it is recorded as evidence, but the
 *     voter's FIRST vote stays the one counted, so an equivocator never counts twice;
 *   - the node's own vote is a vote like any other (the host loops it back as a normal vote).
 *
 * voteResult(tally, choice) answers for one choice: 'won' once quorumSize(n) = 2f+1 distinct validators
 * voted for it; 'lost' once it can no longer get there even if every silent validator votes for it;
 * otherwise 'pending'. describeTally() prints the ballot as a small text picture for debugging.
 *
 * The tally is plain, immutable data (every change returns a new tally), so it can live in a machine's
 * context, be printed in a simulator trace and be compared between runs.
 */
import type { NodeId } from '../domain/identity.ts';
import { maxFaulty, quorumSize } from '../domain/quorum.ts';

/** What a vote is for: a block hash / candidate ID, or null for nil. */
export type Choice = string | null;

export type VoteResult = 'won' | 'pending' | 'lost';

/** What happened to a vote handed to addVote. */
export type VoteOutcome = 'counted' | 'duplicate' | 'equivocation' | 'not-a-validator';

export interface VoteTally {
  /** The voters who count, in validator order (describeTally prints them in this order). */
  readonly validators: readonly NodeId[];
  /** The counted vote of each voter: its first one. */
  readonly votes: Readonly<Record<NodeId, Choice>>;
  /** Voters seen voting for two different choices in this ballot. */
  readonly equivocators: readonly NodeId[];
}

export function emptyTally(validators: readonly NodeId[]): VoteTally {
  return { validators, votes: {}, equivocators: [] };
}

export function hasVoted(tally: VoteTally, voter: NodeId): boolean {
  return Object.hasOwn(tally.votes, voter);
}

/** The counted vote of a voter, or undefined when it has not voted. */
export function voteOf(tally: VoteTally, voter: NodeId): Choice | undefined {
  return hasVoted(tally, voter) ? tally.votes[voter] : undefined;
}

/** Adds one vote; the tally is unchanged unless the outcome is 'counted' or a new 'equivocation'. */
export function addVote(
  tally: VoteTally,
  voter: NodeId,
  choice: Choice,
): { tally: VoteTally; outcome: VoteOutcome } {
  if (!tally.validators.includes(voter)) return { tally, outcome: 'not-a-validator' };
  if (!hasVoted(tally, voter)) {
    return { tally: { ...tally, votes: { ...tally.votes, [voter]: choice } }, outcome: 'counted' };
  }
  if (tally.votes[voter] === choice) return { tally, outcome: 'duplicate' };
  if (tally.equivocators.includes(voter)) return { tally, outcome: 'equivocation' };
  return { tally: { ...tally, equivocators: [...tally.equivocators, voter] }, outcome: 'equivocation' };
}

/** Distinct validators whose counted vote is `choice`. */
export function votersFor(tally: VoteTally, choice: Choice): NodeId[] {
  return tally.validators.filter((v) => hasVoted(tally, v) && tally.votes[v] === choice);
}

export function countFor(tally: VoteTally, choice: Choice): number {
  return votersFor(tally, choice).length;
}

/** Distinct validators that voted at all, for anything. */
export function voterCount(tally: VoteTally): number {
  return tally.validators.filter((v) => hasVoted(tally, v)).length;
}

/** won: 2f+1 distinct validators chose it; lost: it cannot reach 2f+1 any more; else pending. */
export function voteResult(tally: VoteTally, choice: Choice): VoteResult {
  const needed = quorumSize(tally.validators.length);
  const count = countFor(tally, choice);
  if (count >= needed) return 'won';
  const silent = tally.validators.length - voterCount(tally);
  return count + silent < needed ? 'lost' : 'pending';
}

/**
 * The choice that won this ballot, if any (nil included: null means "a quorum voted nil"); undefined
 * while none has. At most one choice can win when at most f voters equivocate.
 */
export function winningChoice(tally: VoteTally): Choice | undefined {
  const choices = new Set(Object.values(tally.votes));
  for (const choice of choices) if (voteResult(tally, choice) === 'won') return choice;
  return undefined;
}

/** 2f+1 distinct validators voted, whatever for (Tendermint's "2f+1 ⟨PREVOTE, h, r, ∗⟩"). */
export function hasQuorumOfAnyVotes(tally: VoteTally): boolean {
  return voterCount(tally) >= quorumSize(tally.validators.length);
}

/** f+1 votes include at least one honest validator's. */
export function hasOneHonestVoter(count: number, validatorCount: number): boolean {
  return count >= maxFaulty(validatorCount) + 1;
}

const short = (id: string): string => id.slice(0, 8);
const label = (choice: Choice): string => (choice === null ? 'nil' : short(choice));

/**
 * A text picture of the ballot, one line per validator, then one line per choice:
 *
 *     quorum 3 of 4
 *     n1       a1b2c3d4
 *     n2       a1b2c3d4
 *     n3       nil
 *     n4       ?            (? = has not voted, ! = equivocated)
 *     a1b2c3d4 xx_?  2/3 pending
 *     nil      __x?  1/3 lost
 */
export function describeTally(tally: VoteTally, title = ''): string {
  const needed = quorumSize(tally.validators.length);
  const lines = [`${title ? `${title}: ` : ''}quorum ${needed} of ${tally.validators.length}`];
  for (const v of tally.validators) {
    const vote = hasVoted(tally, v) ? label(tally.votes[v] ?? null) : '?';
    lines.push(`${short(v).padEnd(8)} ${vote}${tally.equivocators.includes(v) ? ' !' : ''}`);
  }
  const choices = [...new Set(Object.values(tally.votes))];
  for (const choice of choices) {
    const marks = tally.validators
      .map((v) => (!hasVoted(tally, v) ? '?' : tally.votes[v] === choice ? 'x' : '_'))
      .join('');
    lines.push(
      `${label(choice).padEnd(8)} ${marks}  ${countFor(tally, choice)}/${needed} ${voteResult(tally, choice)}`,
    );
  }
  return lines.join('\n');
}
