import { describe, expect, it } from 'vitest';
import { quorumSize } from '../../domain/quorum.ts';
import {
  addVote,
  type Choice,
  choicesOf,
  countFor,
  describeTally,
  emptyTally,
  hasQuorumOfAnyVotes,
  MAX_CHOICES_PER_VOTER,
  type VoteTally,
  voteResult,
  winningChoice,
} from '../../machines/quorum.ts';

const FOUR = ['n1', 'n2', 'n3', 'n4'];
const A = 'aaaaaaaa11111111';
const B = 'bbbbbbbb22222222';

/** Applies a script of "voter:choice" (choice: a hash letter, or "nil"). */
function tallyOf(validators: readonly string[], script: string): VoteTally {
  let tally = emptyTally(validators);
  for (const entry of script.split(' ').filter(Boolean)) {
    const [voter, choice] = entry.split(':') as [string, string];
    tally = addVote(tally, voter, choice === 'nil' ? null : choice === 'A' ? A : B).tally;
  }
  return tally;
}

describe('VoteTally (machines/quorum.ts)', () => {
  it('PreCommit needs 2f+1 distinct signers for the same hash', () => {
    // script → result for hash A, n = 4 (f = 1, quorum 3)
    const table: [string, 'won' | 'pending' | 'lost'][] = [
      ['', 'pending'],
      ['n1:A', 'pending'],
      ['n1:A n2:A', 'pending'],
      ['n1:A n2:A n3:A', 'won'],
      ['n1:A n2:A n3:B', 'pending'], // n4 may still vote A
      ['n1:A n2:A n3:B n4:nil', 'lost'], // 2 for A, every signer has voted
      ['n1:A n2:B n3:nil', 'lost'], // even with n4, A reaches 2
      ['n1:A n2:A n3:A n4:B', 'won'],
    ];
    for (const [script, expected] of table) {
      expect(voteResult(tallyOf(FOUR, script), A), script).toBe(expected);
    }
  });

  it('a duplicate vote from one signer counts once', () => {
    const once = addVote(emptyTally(FOUR), 'n1', A);
    const twice = addVote(once.tally, 'n1', A);
    expect(twice.outcome).toBe('duplicate');
    expect(twice.tally).toBe(once.tally);
    expect(voteResult(tallyOf(FOUR, 'n1:A n1:A n1:A n2:A'), A)).toBe('pending');
  });

  it('an equivocating signer is recorded and counts for each choice it signed', () => {
    const first = addVote(emptyTally(FOUR), 'n1', A);
    const second = addVote(first.tally, 'n1', B);
    expect(second.outcome).toBe('equivocation');
    expect(second.tally.equivocators).toEqual(['n1']);
    expect(countFor(second.tally, A)).toBe(1);
    expect(countFor(second.tally, B)).toBe(1);
    expect(addVote(second.tally, 'n1', B).outcome).toBe('duplicate');
    // The tally is the set of signed votes: the same votes in any order give the same result.
    expect(voteResult(tallyOf(FOUR, 'n1:A n2:B n3:B n1:B'), B)).toBe('won');
    expect(voteResult(tallyOf(FOUR, 'n1:B n2:B n3:B n1:A'), B)).toBe('won');
  });

  it('with at most f equivocators two choices never both win (two quorums share an honest voter)', () => {
    for (const n of [4, 7, 10]) {
      const validators = Array.from({ length: n }, (_, i) => `n${i + 1}`);
      const f = Math.floor((n - 1) / 3);
      let tally = emptyTally(validators);
      // f equivocators vote both ways; the honest split as evenly as they can
      for (const v of validators.slice(0, f)) tally = addVote(addVote(tally, v, A).tally, v, B).tally;
      validators.slice(f).forEach((v, i) => {
        tally = addVote(tally, v, i % 2 === 0 ? A : B).tally;
      });
      const winners = [A, B].filter((c) => voteResult(tally, c) === 'won');
      expect(winners.length, `n=${n}`).toBeLessThanOrEqual(1);
    }
  });

  it('one voter adds at most MAX_CHOICES_PER_VOTER choices: a flood of votes cannot grow a ballot', () => {
    let tally = emptyTally(FOUR);
    for (let i = 0; i < 20; i++) tally = addVote(tally, 'n1', `hash${i}`).tally;
    expect(choicesOf(tally, 'n1')).toHaveLength(MAX_CHOICES_PER_VOTER);
  });

  it('votes from outside the validator set do not count', () => {
    const result = addVote(emptyTally(FOUR), 'stranger', A);
    expect(result.outcome).toBe('not-a-validator');
    expect(voteResult(tallyOf(FOUR, 'n1:A n2:A'), A)).toBe('pending');
  });

  it('own vote counts like any other', () => {
    // the node itself is n1: its own vote completes the quorum
    expect(voteResult(tallyOf(FOUR, 'n2:A n3:A'), A)).toBe('pending');
    expect(voteResult(tallyOf(FOUR, 'n2:A n3:A n1:A'), A)).toBe('won');
  });

  it('wins at exactly quorumSize(n) = floor(2n/3)+1 for every n', () => {
    for (const n of [1, 2, 3, 4, 5, 6, 7, 10, 13]) {
      const validators = Array.from({ length: n }, (_, i) => `n${i + 1}`);
      let tally = emptyTally(validators);
      for (let i = 0; i < n; i++) {
        const expected = i + 1 >= quorumSize(n) ? 'won' : 'pending';
        tally = addVote(tally, validators[i]!, A).tally;
        expect(voteResult(tally, A), `n=${n}, ${i + 1} votes`).toBe(expected);
      }
    }
  });

  it('nil is a choice of its own: 2f+1 nil votes win nil, never a block', () => {
    const tally = tallyOf(FOUR, 'n1:nil n2:nil n3:nil');
    expect(voteResult(tally, null)).toBe('won');
    expect(winningChoice(tally)).toBeNull();
    expect(voteResult(tally, A)).toBe('lost');
  });

  it('2f+1 votes of any kind are a quorum of votes without a winner', () => {
    const split = tallyOf(FOUR, 'n1:A n2:B n3:nil');
    expect(hasQuorumOfAnyVotes(split)).toBe(true);
    expect(winningChoice(split)).toBeUndefined();
    expect(hasQuorumOfAnyVotes(tallyOf(FOUR, 'n1:A n2:B'))).toBe(false);
  });

  it('describeTally draws one line per validator and one per choice', () => {
    const tally = tallyOf(FOUR, 'n1:A n2:A n3:nil n3:A');
    expect(describeTally(tally, 'precommit h1 r0')).toBe(
      [
        'precommit h1 r0: quorum 3 of 4',
        'n1       aaaaaaaa',
        'n2       aaaaaaaa',
        'n3       nil !',
        'n4       ?',
        'aaaaaaaa xxx?  3/3 won',
        'nil      __x?  1/3 lost',
      ].join('\n'),
    );
  });

  it('the tally is immutable: adding a vote returns a new tally', () => {
    const empty = emptyTally(FOUR);
    const choice: Choice = A;
    addVote(empty, 'n1', choice);
    expect(empty.votes).toEqual({});
  });
});
