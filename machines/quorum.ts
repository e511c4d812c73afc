/**
 * Vote counting for both protocols, in one small place (etcd's quorum/majority.go is the model).
 *
 * A VoteTally holds the votes of ONE ballot — one (height, round, PreVote|PreCommit) in the PBFT round,
 * one term's candidacy in the election — keyed by voter, so a voter counts at most once per choice:
 *
 *   - a vote is a Choice: a block hash (or a candidate's node ID), or null for nil ("nothing");
 *   - only validators count; anybody else is ignored;
 *   - the same vote twice is a duplicate and changes nothing;
 *   - a second, different vote from one voter is equivocation: the voter is recorded as evidence, and
 *     the vote counts for its choice too (at most MAX_CHOICES_PER_VOTER choices per voter). The tally is
 *     the SET of signed votes received, whatever their order, so a polka relayed with a re-proposal is
 *     seen the same on every node. (It used to count only the first vote: an honest node that got an
 *     equivocator's nil first could never see the polka the proposer saw — found by the simulator as a
 *     height stuck for seconds.) Safe with at most f equivocators: two choices can both reach 2f+1 only
 *     if f+1 voters back both, so two quorums still share an honest node, as in Tendermint's proof;
 *   - the node's own vote is a vote like any other (the host loops it back as a normal vote).
 *
 * voteResult(tally, choice) answers for one choice: 'won' once tally.quorum distinct validators voted
 * for it — quorumSize(n) = 2f+1 unless the tally was made with another quorum on purpose (the
 * simulator's buggy-variant tests make one with the original's ⌊n/3⌋+1 to show the checker catches it);
 * 'lost' once it can no longer get there even if every silent validator votes for it (an equivocator
 * could still add it: evidence of a fault, not a prediction); otherwise 'pending'. describeTally()
 * prints the ballot as a small text picture for debugging.
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
  /** Each voter's first vote. */
  readonly votes: Readonly<Record<NodeId, Choice>>;
  /** Voters seen voting for two different choices in this ballot. */
  readonly equivocators: readonly NodeId[];
  /** An equivocator's other choices, in the order they arrived (they count too). */
  readonly otherChoices: Readonly<Record<NodeId, readonly Choice[]>>;
  /** Distinct matching votes that win: quorumSize(validators.length) = 2f+1 unless made otherwise. */
  readonly quorum: number;
}

/** How many matching votes of n validators decide. The protocol's rule is quorumSize (2f+1). */
export type QuorumRule = (validatorCount: number) => number;

/**
 * A ballot with nobody's vote yet. `quorum` is an explicit hook for the simulator's buggy-variant tests
 * (e.g. the original's ⌊n/3⌋+1); every protocol path uses the default, quorumSize(n) = 2f+1.
 */
export function emptyTally(validators: readonly NodeId[], quorum = quorumSize(validators.length)): VoteTally {
  return { validators, votes: {}, equivocators: [], otherChoices: {}, quorum };
}

export function hasVoted(tally: VoteTally, voter: NodeId): boolean {
  return Object.hasOwn(tally.votes, voter);
}

/** The first vote of a voter, or undefined when it has not voted. */
export function voteOf(tally: VoteTally, voter: NodeId): Choice | undefined {
  return hasVoted(tally, voter) ? tally.votes[voter] : undefined;
}

/** Choices one equivocator may add to a ballot: enough for any real fault, bounded against a flood. */
export const MAX_CHOICES_PER_VOTER = 4;

/** Every choice a voter made in this ballot (none when it has not voted). */
export function choicesOf(tally: VoteTally, voter: NodeId): readonly Choice[] {
  if (!hasVoted(tally, voter)) return [];
  return [tally.votes[voter] ?? null, ...(tally.otherChoices[voter] ?? [])];
}

/**
 * Adds one vote; the tally is unchanged unless the outcome is 'counted' or 'equivocation' (a new
 * choice of a voter that already voted: recorded as evidence, and counted for that choice).
 */
export function addVote(
  tally: VoteTally,
  voter: NodeId,
  choice: Choice,
): { tally: VoteTally; outcome: VoteOutcome } {
  if (!tally.validators.includes(voter)) return { tally, outcome: 'not-a-validator' };
  if (!hasVoted(tally, voter)) {
    return { tally: { ...tally, votes: { ...tally.votes, [voter]: choice } }, outcome: 'counted' };
  }
  const choices = choicesOf(tally, voter);
  if (choices.includes(choice)) return { tally, outcome: 'duplicate' };
  const equivocators = tally.equivocators.includes(voter)
    ? tally.equivocators
    : [...tally.equivocators, voter];
  if (choices.length >= MAX_CHOICES_PER_VOTER)
    return { tally: { ...tally, equivocators }, outcome: 'equivocation' };
  const otherChoices = { ...tally.otherChoices, [voter]: [...(tally.otherChoices[voter] ?? []), choice] };
  return { tally: { ...tally, equivocators, otherChoices }, outcome: 'equivocation' };
}

/** Distinct validators that voted for `choice` (an equivocator counts for each of its choices). */
export function votersFor(tally: VoteTally, choice: Choice): NodeId[] {
  return tally.validators.filter((v) => choicesOf(tally, v).includes(choice));
}

export function countFor(tally: VoteTally, choice: Choice): number {
  return votersFor(tally, choice).length;
}

/** Distinct validators that voted at all, for anything. */
export function voterCount(tally: VoteTally): number {
  return tally.validators.filter((v) => hasVoted(tally, v)).length;
}

/** won: tally.quorum (2f+1) distinct validators chose it; lost: it cannot get there any more; else pending. */
export function voteResult(tally: VoteTally, choice: Choice): VoteResult {
  const needed = tally.quorum;
  const count = countFor(tally, choice);
  if (count >= needed) return 'won';
  const silent = tally.validators.length - voterCount(tally);
  return count + silent < needed ? 'lost' : 'pending';
}

/** Every choice anyone voted for in this ballot, first votes' choices first. */
function allChoices(tally: VoteTally): Choice[] {
  const choices = new Set<Choice>(Object.values(tally.votes));
  for (const others of Object.values(tally.otherChoices)) for (const c of others) choices.add(c);
  return [...choices];
}

/**
 * The choice that won this ballot, if any (nil included: null means "a quorum voted nil"); undefined
 * while none has. At most one choice can win when at most f voters equivocate.
 */
export function winningChoice(tally: VoteTally): Choice | undefined {
  for (const choice of allChoices(tally)) if (voteResult(tally, choice) === 'won') return choice;
  return undefined;
}

/** 2f+1 distinct validators voted, whatever for (Tendermint's "2f+1 ⟨PREVOTE, h, r, ∗⟩"). */
export function hasQuorumOfAnyVotes(tally: VoteTally): boolean {
  return voterCount(tally) >= tally.quorum;
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
  const needed = tally.quorum;
  const lines = [`${title ? `${title}: ` : ''}quorum ${needed} of ${tally.validators.length}`];
  for (const v of tally.validators) {
    const vote = hasVoted(tally, v) ? label(tally.votes[v] ?? null) : '?';
    lines.push(`${short(v).padEnd(8)} ${vote}${tally.equivocators.includes(v) ? ' !' : ''}`);
  }
  for (const choice of allChoices(tally)) {
    const marks = tally.validators
      .map((v) => (!hasVoted(tally, v) ? '?' : choicesOf(tally, v).includes(choice) ? 'x' : '_'))
      .join('');
    lines.push(
      `${label(choice).padEnd(8)} ${marks}  ${countFor(tally, choice)}/${needed} ${voteResult(tally, choice)}`,
    );
  }
  return lines.join('\n');
}
