// The PBFT round rules of SPEC §4 (Tendermint's Algorithm 1 as the reference), one test per rule: a
// real machine driven event by event, the test playing host and network, assertions on the effects.
import { describe, expect, it } from 'vitest';
import { describeRound, type PbftEffect } from '../../machines/pbft-round.ts';
import {
  blockAt,
  type DrivenNode,
  driveNode,
  type NodeOptions,
  proposal,
  sent,
  vote,
} from './pbft-harness.ts';

const [N1, N2, N3, N4] = ['n1', 'n2', 'n3', 'n4'] as const;
const FOUR = [N1, N2, N3, N4];
const SEVEN = ['n1', 'n2', 'n3', 'n4', 'n5', 'n6', 'n7'];
// At height 1 the proposers are r0 the leader (n1), then r1 n2, r2 n3, r3 n4, r4 n1… whoever leads.
const B = blockAt(1, N1, 'B');
const C = blockAt(1, N2, 'C');

function node(self: string, options: Partial<NodeOptions> = {}): DrivenNode {
  return driveNode({ self, validators: FOUR, leader: N1, ...options });
}

function prevotes(
  n: DrivenNode,
  voters: readonly string[],
  round: number,
  hash: string | null,
  height = 1,
): void {
  for (const voter of voters) n.send({ type: 'VOTE', vote: vote(voter, 'prevote', round, hash, height) });
}

function precommits(
  n: DrivenNode,
  voters: readonly string[],
  round: number,
  hash: string | null,
  height = 1,
): void {
  for (const voter of voters) n.send({ type: 'VOTE', vote: vote(voter, 'precommit', round, hash, height) });
}

/** Times a round out step by step (propose → prevote nil → precommit nil → next round). */
function timeOutRound(n: DrivenNode, round: number, height = 1): void {
  n.send({ type: 'PROPOSE_TIMEOUT', height, round });
  n.send({ type: 'PREVOTE_TIMEOUT', height, round });
  n.send({ type: 'PRECOMMIT_TIMEOUT', height, round });
}

function ofType<T extends PbftEffect['type']>(effects: readonly PbftEffect[], type: T) {
  return effects.filter((e): e is Extract<PbftEffect, { type: T }> => e.type === type);
}

/** n4 locked on `block` in round 0: it saw the proposal and a polka, and precommitted it. */
function lockedOn(block = B): DrivenNode {
  const n = node(N4);
  n.send({ type: 'PROPOSAL', proposal: proposal(N1, block, 0) });
  prevotes(n, [N1, N2, N4], 0, block.seal);
  expect(n.context()).toMatchObject({ lockedRound: 0, lockedBlockHash: block.seal });
  n.send({ type: 'PRECOMMIT_TIMEOUT', height: 1, round: 0 });
  expect(n.context().round).toBe(1);
  n.take();
  return n;
}

describe('pbft: starting a height', () => {
  it('a node without work stays idle and arms no timer', () => {
    const n = node(N2);
    expect(n.state()).toBe('idle');
    expect(n.take()).toEqual([]);
  });

  it('TXS_WAITING starts round 0: the round is announced and the propose timer armed', () => {
    const n = node(N2);
    n.send({ type: 'TXS_WAITING' });
    expect(n.state()).toEqual({ round: 'propose' });
    expect(n.take()).toEqual([
      { type: 'pbft.roundStarted', height: 1, round: 0, proposer: N1 },
      { type: 'timer.arm', timer: 'propose', height: 1, round: 0 },
    ]);
  });

  it('the proposer asks the host for a block, then proposes it, persisting before sending', () => {
    const n = node(N1);
    n.send({ type: 'TXS_WAITING' });
    expect(ofType(n.take(), 'pbft.requestBlock')).toEqual([
      { type: 'pbft.requestBlock', height: 1, round: 0 },
    ]);
    n.send({ type: 'BLOCK_READY', block: B });
    const effects = n.take();
    expect(effects.map((e) => e.type)).toEqual(['pbft.persist', 'pbft.broadcastProposal']);
    expect(effects[0]).toMatchObject({ record: { height: 1, round: 0, lastSigned: 'proposal' } });
    expect(effects[1]).toMatchObject({
      proposal: { height: 1, round: 0, block: B, validRound: -1, proposer: N1 },
    });
  });

  it('a leader whose batch is ready proposes straight from idle', () => {
    const n = node(N1);
    n.send({ type: 'BLOCK_READY', block: B });
    expect(sent(n.take())).toEqual([`proposal r0 ${B.seal}`]);
  });

  it('BLOCK_READY is ignored when this node is not the proposer, or the block is for another height', () => {
    const n = node(N2);
    n.send({ type: 'BLOCK_READY', block: B });
    const leader = node(N1);
    leader.send({ type: 'BLOCK_READY', block: blockAt(2, N1) });
    expect([n.state(), leader.state()]).toEqual(['idle', 'idle']);
    expect([...n.take(), ...leader.take()]).toEqual([]);
  });

  it('a proposal from the round proposer wakes an idle node, and it prevotes a valid block', () => {
    const n = node(N2);
    n.send({ type: 'PROPOSAL', proposal: proposal(N1, B) });
    expect(n.state()).toEqual({ round: 'prevote' });
    expect(sent(n.take())).toEqual([`prevote r0 ${B.seal}`]);
  });

  it('one other active validator does not wake an idle node; f+1 do', () => {
    const n = node(N2);
    prevotes(n, [N3], 0, null);
    expect(n.state()).toBe('idle');
    prevotes(n, [N4], 0, null);
    expect(n.state()).toEqual({ round: 'propose' });
  });

  it('LEADER_CHANGED moves round 0 to the new leader', () => {
    const n = node(N2);
    n.send({ type: 'LEADER_CHANGED', leader: N3, term: 2 });
    n.send({ type: 'PROPOSAL', proposal: proposal(N1, B) });
    expect(n.state()).toBe('idle');
    n.send({ type: 'PROPOSAL', proposal: proposal(N3, C) });
    expect(sent(n.take())).toEqual([`prevote r0 ${C.seal}`]);
  });
});

describe('pbft: proposals', () => {
  it('proposals from anyone but the round proposer are ignored', () => {
    const n = node(N2);
    n.send({ type: 'TXS_WAITING' });
    n.send({ type: 'PROPOSAL', proposal: proposal(N3, C) });
    n.send({ type: 'PROPOSAL', proposal: { ...proposal('stranger', C) } });
    expect(n.state()).toEqual({ round: 'propose' });
    expect(sent(n.take())).toEqual([]);
  });

  it('the machine never prevotes a block the host has not validated: it prevotes nil', () => {
    const n = node(N2, { isValidBlock: () => false });
    n.send({ type: 'PROPOSAL', proposal: proposal(N1, B) });
    expect(sent(n.take())).toEqual(['prevote r0 nil']);
  });

  it('only the first proposal of a round counts: an equivocating proposer gets one prevote', () => {
    const n = node(N2);
    n.send({ type: 'TXS_WAITING' });
    n.send({ type: 'PROPOSAL', proposal: proposal(N1, B) });
    n.send({ type: 'PROPOSAL', proposal: proposal(N1, C) });
    expect(sent(n.take())).toEqual([`prevote r0 ${B.seal}`]);
  });

  it('a proposal justified by a validRound waits for that polka before it is prevoted', () => {
    const n = node(N4);
    n.send({ type: 'TXS_WAITING' });
    timeOutRound(n, 0);
    n.send({ type: 'PROPOSAL', proposal: proposal(N2, B, 1, 0) }); // claims a polka in round 0
    expect(n.state()).toEqual({ round: 'propose' });
    prevotes(n, [N1, N2, N3], 0, B.seal); // the polka arrives (round 0 is past: recorded)
    expect(sent(n.take()).at(-1)).toBe(`prevote r1 ${B.seal}`);
  });
});

describe('pbft: quorums', () => {
  function prevoted(): DrivenNode {
    const n = node(N2);
    n.send({ type: 'PROPOSAL', proposal: proposal(N1, B) });
    n.take();
    return n;
  }

  it('PreCommit needs 2f+1 distinct signers for the same hash', () => {
    const n = prevoted();
    prevotes(n, [N1, N3], 0, B.seal);
    expect(n.state()).toEqual({ round: 'prevote' });
    prevotes(n, [N4], 0, C.seal);
    expect(n.state()).toEqual({ round: 'prevote' });
    prevotes(n, [N2], 0, B.seal); // its own, looped back: the third for B
    expect(n.state()).toEqual({ round: 'precommit' });
    expect(sent(n.take())).toEqual([`precommit r0 ${B.seal}`]);
  });

  it('a duplicate vote from one signer counts once', () => {
    const n = prevoted();
    prevotes(n, [N1, N1, N1, N3, N3], 0, B.seal);
    expect(n.state()).toEqual({ round: 'prevote' });
    expect(sent(n.take())).toEqual([]);
  });

  it('own vote counts: it completes the quorum like any other', () => {
    const n = prevoted();
    prevotes(n, [N2, N1], 0, B.seal);
    expect(n.state()).toEqual({ round: 'prevote' });
    prevotes(n, [N3], 0, B.seal);
    expect(n.state()).toEqual({ round: 'precommit' });
  });

  it('an equivocating voter counts once and is reported', () => {
    const n = prevoted();
    prevotes(n, [N1], 0, B.seal);
    prevotes(n, [N1], 0, C.seal);
    expect(ofType(n.take(), 'pbft.equivocation')).toEqual([
      {
        type: 'pbft.equivocation',
        voter: N1,
        height: 1,
        round: 0,
        voteType: 'prevote',
        first: B.seal,
        second: C.seal,
      },
    ]);
    prevotes(n, [N3], 0, C.seal);
    expect(n.state()).toEqual({ round: 'prevote' }); // n1's second vote does not make a polka for C
  });

  it('describeRound draws the proposal and both ballots of a round', () => {
    const n = prevoted();
    prevotes(n, [N1, N2], 0, B.seal);
    prevotes(n, [N3], 0, null);
    const picture = describeRound(n.context().log, 0);
    expect(picture).toContain(`height 1 round 0, proposal ${B.seal.slice(0, 8)} from n1 (validRound -1)`);
    expect(picture).toContain(`prevotes: quorum 3 of 4`);
    expect(picture).toContain(`${B.seal.slice(0, 8)} xx_?  2/3 pending`);
    expect(picture).toContain('precommits: quorum 3 of 4');
  });

  it('votes from non-validators or another network are ignored', () => {
    const n = prevoted();
    prevotes(n, ['stranger', 'x'], 0, B.seal);
    n.send({ type: 'VOTE', vote: { ...vote(N3, 'prevote', 0, B.seal), networkId: 'elsewhere' } });
    prevotes(n, [N1], 0, B.seal);
    expect(n.state()).toEqual({ round: 'prevote' });
  });

  it('a polka for nil makes the node precommit nil', () => {
    const n = prevoted();
    prevotes(n, [N1, N3, N4], 0, null);
    expect(sent(n.take())).toEqual(['precommit r0 nil']);
    expect(n.context().lockedRound).toBe(-1);
  });

  it('a precommit needs a polka: without one the prevote timeout precommits nil', () => {
    const n = prevoted();
    prevotes(n, [N1, N2], 0, B.seal);
    prevotes(n, [N3, N4], 0, null);
    expect(n.state()).toEqual({ round: 'prevote' });
    n.send({ type: 'PREVOTE_TIMEOUT', height: 1, round: 0 });
    expect(sent(n.take())).toEqual(['precommit r0 nil']);
  });

  it('commits on 2f+1 PreCommits for the block, with them as its commit certificate', () => {
    const n = prevoted();
    prevotes(n, [N1, N2, N3], 0, B.seal);
    precommits(n, [N1, N2], 0, B.seal);
    precommits(n, [N4], 0, null);
    expect(n.state()).toEqual({ round: 'precommit' });
    precommits(n, [N3], 0, B.seal);
    expect(n.state()).toBe('committed');
    const [commit] = ofType(n.take(), 'pbft.commit');
    expect(commit).toMatchObject({ height: 1, round: 0, blockHash: B.seal, block: B });
    expect(commit?.certificate).toMatchObject({ height: 1, round: 0, blockHash: B.seal });
    expect(commit?.certificate.precommits.map((v) => v.voter)).toEqual([N1, N2, N3]);
  });

  it('commits on 2f+1 PreCommits from an earlier round of the height', () => {
    const n = node(N2);
    n.send({ type: 'PROPOSAL', proposal: proposal(N1, B) });
    timeOutRound(n, 0);
    timeOutRound(n, 1);
    expect(n.context().round).toBe(2);
    precommits(n, [N1, N3, N4], 0, B.seal); // round 0's precommits, late
    expect(ofType(n.take(), 'pbft.commit')[0]).toMatchObject({ round: 0, blockHash: B.seal, block: B });
  });

  it('a commit whose proposal never arrived carries block null: the certificate proves the hash', () => {
    const n = node(N2);
    precommits(n, [N1, N3, N4], 0, B.seal);
    expect(ofType(n.take(), 'pbft.commit')[0]).toMatchObject({ blockHash: B.seal, block: null });
  });

  it('the node waits in committed until the host starts the next height', () => {
    const n = node(N2);
    precommits(n, [N1, N3, N4], 0, B.seal);
    n.send({ type: 'PRECOMMIT_TIMEOUT', height: 1, round: 0 });
    n.send({ type: 'START_HEIGHT', height: 1 });
    expect(n.state()).toBe('committed');
    n.take();
    n.send({ type: 'START_HEIGHT', height: 2 });
    expect(n.state()).toBe('idle');
    expect(n.context()).toMatchObject({ height: 2, round: 0, lockedRound: -1, lastSigned: 'none' });
    expect(n.take()).toEqual([]);
  });
});

describe('pbft: rounds and timeouts', () => {
  it('round timeouts advance rounds: prevote nil, precommit nil, then the next proposer', () => {
    const n = node(N2);
    n.send({ type: 'TXS_WAITING' });
    n.take();
    n.send({ type: 'PROPOSE_TIMEOUT', height: 1, round: 0 });
    expect(sent(n.take())).toEqual(['prevote r0 nil']);
    n.send({ type: 'PREVOTE_TIMEOUT', height: 1, round: 0 });
    expect(sent(n.take())).toEqual(['precommit r0 nil']);
    n.send({ type: 'PRECOMMIT_TIMEOUT', height: 1, round: 0 });
    expect(n.take()).toEqual([
      { type: 'pbft.roundStarted', height: 1, round: 1, proposer: N2 },
      { type: 'timer.arm', timer: 'propose', height: 1, round: 1 },
      { type: 'pbft.requestBlock', height: 1, round: 1 },
    ]);
  });

  it('each step arms its own timer for this (height, round); the precommit timer waits for 2f+1 precommits', () => {
    const n = node(N2);
    n.send({ type: 'TXS_WAITING' });
    n.send({ type: 'PROPOSE_TIMEOUT', height: 1, round: 0 });
    n.send({ type: 'PREVOTE_TIMEOUT', height: 1, round: 0 });
    precommits(n, [N1, N3, N4], 0, null);
    n.send({ type: 'PRECOMMIT_TIMEOUT', height: 1, round: 0 });
    expect(ofType(n.take(), 'timer.arm').map((t) => `${t.timer} r${t.round}`)).toEqual([
      'propose r0',
      'prevote r0',
      'precommit r0',
      'propose r1',
    ]);
  });

  it('a node alone in a round stays there: no precommit timer before 2f+1 precommits (line 47)', () => {
    // Regression (found by the simulator): the precommit timer used to start on entering the step, so
    // a node cut off from the others ran rounds ahead on its own timeouts, and once the network healed
    // the others, a round behind, could not form a quorum with it for seconds.
    const n = node(N2);
    n.send({ type: 'TXS_WAITING' });
    n.send({ type: 'PROPOSE_TIMEOUT', height: 1, round: 0 });
    n.send({ type: 'PREVOTE_TIMEOUT', height: 1, round: 0 });
    precommits(n, [N1], 0, null);
    expect(ofType(n.take(), 'timer.arm').map((t) => t.timer)).toEqual(['propose', 'prevote']);
    expect(n.state()).toEqual({ round: 'precommit' });
    precommits(n, [N3], 0, null);
    expect(n.take()).toEqual([]);
    precommits(n, [N4], 0, 'some-block'); // 2f+1 precommits, whatever they are for
    expect(ofType(n.take(), 'timer.arm')).toEqual([
      { type: 'timer.arm', timer: 'precommit', height: 1, round: 0 },
    ]);
  });

  it('a stale timeout (another height or round) is ignored', () => {
    const n = node(N2);
    n.send({ type: 'TXS_WAITING' });
    n.take();
    n.send({ type: 'PROPOSE_TIMEOUT', height: 1, round: 3 });
    n.send({ type: 'PROPOSE_TIMEOUT', height: 0, round: 0 });
    n.send({ type: 'PREVOTE_TIMEOUT', height: 1, round: 0 }); // not in the prevote step: nothing to do
    expect(n.state()).toEqual({ round: 'propose' });
    expect(n.take()).toEqual([]);
  });

  it('from round 1 on every node names the same proposer, whichever leader it follows', () => {
    // Regression (found by the simulator): later rounds used to rotate from each node's own view of the
    // leader, so nodes that learned of a new leader at different times disagreed on a round's proposer.
    const a = node(N3, { leader: N1 });
    const b = node(N4, { leader: N3 });
    for (const n of [a, b]) {
      n.send({ type: 'TXS_WAITING' });
      timeOutRound(n, 0);
    }
    const proposers = (n: DrivenNode) => ofType(n.take(), 'pbft.roundStarted').map((e) => e.proposer);
    expect(proposers(a)).toEqual([N1, N2]);
    expect(proposers(b)).toEqual([N3, N2]);
    b.send({ type: 'LEADER_CHANGED', leader: N4, term: 3 }); // mid-round: round 1 keeps its proposer
    b.send({ type: 'PROPOSAL', proposal: proposal(N2, C, 1) });
    expect(sent(b.take())).toEqual([`prevote r1 ${C.seal}`]);
  });

  it('n rounds in a row visit every validator as proposer', () => {
    const n = node(N3);
    n.send({ type: 'TXS_WAITING' });
    for (let round = 0; round < 4; round++) timeOutRound(n, round);
    expect(ofType(n.take(), 'pbft.roundStarted').map((e) => e.proposer)).toEqual([N1, N2, N3, N4, N1]);
  });
});

describe('pbft: locking', () => {
  it('locked node prevotes its locked block after a round change', () => {
    const n = lockedOn(B);
    n.send({ type: 'PROPOSAL', proposal: proposal(N2, B, 1, 0) });
    expect(sent(n.take())).toEqual([`prevote r1 ${B.seal}`]);
  });

  it('locked node prevotes nil for a different block without a later polka', () => {
    const n = lockedOn(B);
    n.send({ type: 'PROPOSAL', proposal: proposal(N2, C, 1) });
    expect(sent(n.take())).toEqual(['prevote r1 nil']);
  });

  it('lock released only by a later polka', () => {
    const n = lockedOn(B); // locked on B in round 0
    n.send({ type: 'PROPOSAL', proposal: proposal(N2, C, 1) });
    n.send({ type: 'PREVOTE_TIMEOUT', height: 1, round: 1 });
    prevotes(n, [N1, N2, N3], 1, C.seal); // a polka for C in round 1, seen after n4 precommitted nil
    expect(n.context()).toMatchObject({ lockedBlockHash: B.seal, validRound: 1, validBlockHash: C.seal });
    n.send({ type: 'PRECOMMIT_TIMEOUT', height: 1, round: 1 });
    n.take();
    n.send({ type: 'PROPOSAL', proposal: proposal(N3, C, 2, 1) }); // re-proposed with validRound 1
    expect(sent(n.take())).toEqual([`prevote r2 ${C.seal}`]);
  });

  it('a polka from before the lock does not release it', () => {
    const n = lockedOn(C); // a polka for C in round 0, locked on C
    n.send({ type: 'PROPOSAL', proposal: proposal(N2, B, 1) });
    prevotes(n, [N1, N2, N3], 1, B.seal); // polka for B in round 1: the lock moves to B (line 36)
    expect(n.context()).toMatchObject({ lockedRound: 1, lockedBlockHash: B.seal });
    n.send({ type: 'PRECOMMIT_TIMEOUT', height: 1, round: 1 });
    n.take();
    n.send({ type: 'PROPOSAL', proposal: proposal(N3, C, 2, 0) }); // justified by round 0's polka only
    expect(sent(n.take())).toEqual(['prevote r2 nil']);
  });

  it('the lock is persisted before the PreCommit that creates it is sent', () => {
    const n = node(N4);
    n.send({ type: 'PROPOSAL', proposal: proposal(N1, B) });
    n.take();
    prevotes(n, [N1, N2, N4], 0, B.seal);
    const effects = n.take();
    expect(effects.map((e) => e.type).slice(0, 2)).toEqual(['pbft.persist', 'pbft.broadcastVote']);
    expect(effects[0]).toMatchObject({
      record: { round: 0, lastSigned: 'precommit', lockedRound: 0, lockedBlockHash: B.seal },
    });
  });

  it('a polka of an earlier round, seen only after that round (relayed), becomes the valid block', () => {
    // Regression (found by the simulator): the valid block only followed polkas of the current round,
    // so a node that learned of a polka late never re-proposed it, and the nodes locked on it refused
    // every fresh block until the one proposer that had seen the polka in time came round.
    const n = node(N2);
    n.send({ type: 'PROPOSAL', proposal: proposal(N1, B) });
    n.send({ type: 'PREVOTE_TIMEOUT', height: 1, round: 0 });
    precommits(n, [N1, N3, N4], 0, null);
    n.send({ type: 'PRECOMMIT_TIMEOUT', height: 1, round: 0 });
    expect(ofType(n.take(), 'pbft.requestBlock')).toEqual([
      { type: 'pbft.requestBlock', height: 1, round: 1 },
    ]);
    prevotes(n, [N1, N3, N4], 0, B.seal); // round 0's polka, relayed after n2 left the round
    expect(n.context()).toMatchObject({ validRound: 0, validBlockHash: B.seal, lockedRound: -1 });
    expect(ofType(n.take(), 'pbft.broadcastProposal')[0]?.proposal).toMatchObject({
      round: 1,
      block: B,
      validRound: 0,
    });
  });

  it('a proposer re-proposes its valid block with its validRound', () => {
    const n = node(N2);
    n.send({ type: 'PROPOSAL', proposal: proposal(N1, B) });
    prevotes(n, [N1, N2, N3], 0, B.seal);
    n.send({ type: 'PRECOMMIT_TIMEOUT', height: 1, round: 0 });
    const effects = n.take();
    expect(ofType(effects, 'pbft.requestBlock')).toEqual([]);
    expect(ofType(effects, 'pbft.broadcastProposal')[0]?.proposal).toMatchObject({
      round: 1,
      block: B,
      validRound: 0,
    });
  });
});

describe('pbft: early messages', () => {
  it('early messages for a later round are buffered and replayed', () => {
    const n = node(N4);
    n.send({ type: 'TXS_WAITING' });
    n.send({ type: 'PROPOSAL', proposal: proposal(N2, C, 1) }); // round 1, while n4 is in round 0
    expect(n.context().log.rounds[1]).toBeUndefined();
    timeOutRound(n, 0);
    // entering round 1 replays the proposal: n4 prevotes it at once
    expect(sent(n.take()).at(-1)).toBe(`prevote r1 ${C.seal}`);
  });

  it('early messages for a later height are buffered and replayed at START_HEIGHT', () => {
    const n = node(N4);
    const next = blockAt(2, N1, 'next');
    n.send({ type: 'PROPOSAL', proposal: proposal(N1, next, 0) });
    expect(n.state()).toBe('idle');
    precommits(n, [N1, N2, N3], 0, B.seal);
    n.take();
    n.send({ type: 'START_HEIGHT', height: 2 });
    expect(sent(n.take())).toEqual([`prevote r0 ${next.seal}`]);
  });

  it('f+1 validators at different later rounds take a node to the highest round f+1 of them reached', () => {
    const n = driveNode({ self: 'n1', validators: SEVEN, leader: 'n1' }); // f = 2: f+1 = 3
    n.send({ type: 'TXS_WAITING' });
    prevotes(n, ['n2'], 5, null);
    prevotes(n, ['n3'], 1, null);
    expect(n.context().round).toBe(0); // two validators could both be Byzantine
    prevotes(n, ['n4'], 2, null);
    expect(n.context().round).toBe(1); // n2, n3 and n4 are all at round 1 or later
    prevotes(n, ['n5'], 3, null);
    expect(n.context().round).toBe(2); // n2, n4 and n5 are at round 2 or later: one is honest
  });

  it('f+1 later-round messages make a node skip ahead', () => {
    const n = node(N4);
    n.send({ type: 'TXS_WAITING' });
    n.take();
    prevotes(n, [N1], 3, null);
    expect(n.context().round).toBe(0); // f = 1 message could be a Byzantine node's
    prevotes(n, [N2], 3, null);
    expect(n.context().round).toBe(3);
    expect(ofType(n.take(), 'pbft.roundStarted')).toEqual([
      { type: 'pbft.roundStarted', height: 1, round: 3, proposer: N4 },
    ]);
  });

  it('an idle node skips ahead too', () => {
    const n = node(N4);
    precommits(n, [N2, N3], 5, null);
    expect(n.context().round).toBe(5);
    expect(n.state()).toEqual({ round: 'propose' });
  });

  it('the buffer keeps a bounded number of messages per sender, dropping the oldest', () => {
    const n = node(N4, { maxBufferedPerSender: 3 });
    for (let round = 1; round <= 10; round++) prevotes(n, [N1], round, null);
    prevotes(n, [N1], 10, null); // a duplicate is not stored twice
    expect(n.context().log.buffer[N1]?.map((m) => (m.kind === 'vote' ? m.vote.round : -1))).toEqual([
      8, 9, 10,
    ]);
  });

  it('messages for an earlier height are dropped', () => {
    const n = node(N4, { height: 5 });
    prevotes(n, [N1, N2, N3], 0, B.seal, 4);
    expect(n.context().log.buffer).toEqual({});
    expect(n.state()).toBe('idle');
  });

  it('f+1 validators at a later height: the node reports that peers are ahead, once', () => {
    const n = node(N4);
    prevotes(n, [N1], 0, null, 7);
    expect(ofType(n.take(), 'pbft.peersAhead')).toEqual([]);
    prevotes(n, [N2], 0, null, 6);
    prevotes(n, [N3], 1, null, 6);
    expect(ofType(n.take(), 'pbft.peersAhead')).toEqual([{ type: 'pbft.peersAhead', height: 6 }]);
  });
});

describe('pbft: restart from the persisted record', () => {
  it('a node restarted after its PreVote does not prevote again in that round', () => {
    const restored = {
      height: 1,
      round: 0,
      lastSigned: 'prevote' as const,
      lockedRound: -1,
      lockedBlockHash: null,
      validRound: -1,
      validBlockHash: null,
    };
    const n = node(N2, { restored });
    expect(n.state()).toEqual({ round: 'prevote' });
    n.send({ type: 'PROPOSAL', proposal: proposal(N1, C) });
    expect(sent(n.take())).toEqual([]);
  });

  it('a restarted node keeps its lock', () => {
    const restored = {
      height: 1,
      round: 1,
      lastSigned: 'none' as const,
      lockedRound: 0,
      lockedBlockHash: B.seal,
      validRound: 0,
      validBlockHash: B.seal,
    };
    const n = node(N4, { restored });
    expect(n.state()).toBe('idle');
    n.send({ type: 'PROPOSAL', proposal: proposal(N2, C, 1) });
    expect(sent(n.take())).toEqual(['prevote r1 nil']);
  });

  it('a restarted proposer locked on a block re-proposes it when the host kept the body', () => {
    // Regression: only the locked block's hash was restored, so a restarted proposer proposed a fresh
    // block that every node locked on B refuses; with f+1 such nodes the height could never decide.
    const restored = {
      height: 1,
      round: 1,
      lastSigned: 'none' as const,
      lockedRound: 0,
      lockedBlockHash: B.seal,
      validRound: 0,
      validBlockHash: B.seal,
    };
    const kept = node(N2, { restored, restoredBlocks: [B] });
    kept.send({ type: 'TXS_WAITING' });
    expect(ofType(kept.take(), 'pbft.broadcastProposal')[0]?.proposal).toMatchObject({
      round: 1,
      block: B,
      validRound: 0,
    });
    const forgotten = node(N2, { restored, restoredBlocks: [C] }); // not the locked block: ignored
    forgotten.send({ type: 'TXS_WAITING' });
    expect(ofType(forgotten.take(), 'pbft.requestBlock')).toEqual([
      { type: 'pbft.requestBlock', height: 1, round: 1 },
    ]);
  });

  it('a record for another height is not applied', () => {
    const restored = {
      height: 3,
      round: 4,
      lastSigned: 'precommit' as const,
      lockedRound: 2,
      lockedBlockHash: B.seal,
      validRound: 2,
      validBlockHash: B.seal,
    };
    const n = node(N4, { height: 4, restored });
    expect(n.context()).toMatchObject({ height: 4, round: 0, lockedRound: -1, lastSigned: 'none' });
  });
});
