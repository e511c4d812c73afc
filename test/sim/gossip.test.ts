import { describe, expect, it } from 'vitest';
import { Gossip, voteKey } from '../../actors/replica/gossip.ts';
import type { Vote } from '../../domain/vote.ts';

// The replica's gossip bookkeeping (actors/replica/gossip.ts): what reaches the PBFT machine once, who
// gets help, and what it refuses to keep. The simulation tests show the help makes lost messages
// harmless; these pin down its limits.

const settings = { intervalMs: 250, announceWindowMs: 2000 };

function vote(voter: string, height: number, round: number, blockHash: string | null = 'a'.repeat(64)): Vote {
  return { type: 'prevote', networkId: 'net', height, round, blockHash, voter, signature: `sig:${voter}` };
}

describe('gossip', () => {
  it('each distinct message reaches the machine once, and none for a height already stored', () => {
    const g = new Gossip(settings, 4);
    const v = vote('n1', 5, 0);
    expect(g.firstDelivery(5, voteKey(v))).toBe(true);
    expect(g.firstDelivery(5, voteKey(v))).toBe(false);
    expect(g.firstDelivery(5, voteKey(vote('n1', 5, 1)))).toBe(true);
    expect(g.firstDelivery(4, voteKey(vote('n1', 4, 0)))).toBe(false);
  });

  it('keeps nothing for heights far ahead: a flood of future votes cannot grow it', () => {
    const g = new Gossip(settings, 0);
    for (let h = 100; h < 200; h++) g.addVote(vote('n1', h, 0));
    expect(g.votesAt(150, 0)).toEqual([]);
    g.addVote(vote('n1', 3, 0));
    expect(g.votesAt(3, 0)).toHaveLength(1);
  });

  it('a validator in an earlier round of this height is helped with that round, once per interval', () => {
    const g = new Gossip(settings, 0);
    expect(g.relayDue('n2', 1, 0, 1, 2, 1000)).toBe(true);
    expect(g.relayDue('n2', 1, 0, 1, 2, 1100)).toBe(false);
    expect(g.relayDue('n2', 1, 1, 1, 2, 1100)).toBe(true); // a newer round of it: help at once
    expect(g.relayDue('n2', 1, 1, 1, 2, 1400)).toBe(true);
    expect(g.relayDue('n3', 1, 2, 1, 2, 1400)).toBe(false); // same round as ours: nothing to relay
  });

  it('a block is pushed to a validator still deciding a stored height, not to a vote that crossed the commit', () => {
    const g = new Gossip(settings, 0);
    g.storedHeight(1, 1000);
    expect(g.pushDue('n2', 1, 1100)).toBe(false); // its vote was on the wire when we committed
    expect(g.pushDue('n2', 1, 1300)).toBe(true);
    expect(g.pushDue('n2', 1, 1400)).toBe(false);
    expect(g.pushDue('n2', 2, 1400)).toBe(false); // not stored here yet
  });

  it('after a block is stored, nothing of its height is kept', () => {
    const g = new Gossip(settings, 0);
    g.addVote(vote('n1', 1, 0));
    g.addVote(vote('n1', 2, 0));
    g.storedHeight(1, 0);
    expect(g.votesAt(1, 0)).toEqual([]);
    expect(g.votesAt(2, 0)).toHaveLength(1);
  });

  it('peers that asked for status or blocks are sent new blocks for announceWindowMs', () => {
    const g = new Gossip(settings, 0);
    g.noteSyncing('n3', 1000);
    expect(g.syncingPeers(2500)).toEqual(['n3']);
    expect(g.syncingPeers(3500)).toEqual([]);
  });
});
