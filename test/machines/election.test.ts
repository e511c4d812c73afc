// The election rules of SPEC §4, one test per rule, driving a real machine and reading its effects.
import { describe, expect, it } from 'vitest';
import type { ElectionEffect } from '../../machines/election.ts';
import { isLeaderCertificate } from '../../machines/election-messages.ts';
import {
  driveElection,
  ElectionCluster,
  NETWORK,
  requestVote,
  updateLeader,
  voteEvent,
} from './election-harness.ts';

const [N1, N2, N3, N4] = ['n1', 'n2', 'n3', 'n4'] as const;
const FOUR = [N1, N2, N3, N4];

/** One effect in a compact form: 'persist t1 n1', 'broadcast RequestVote t1', 'send n2 Vote t1 yes'… */
function line(e: ElectionEffect): string {
  switch (e.type) {
    case 'election.persist':
      return `persist t${e.term} ${e.votedFor ?? '-'}`;
    case 'election.broadcast':
      return `broadcast ${e.message.kind} t${e.message.term}`;
    case 'election.send':
      return `send ${e.to} Vote t${e.message.term} ${e.message.granted ? 'yes' : 'no'}`;
    case 'timer.arm':
      return `arm ${e.timer}`;
    case 'timer.cancel':
      return `cancel ${e.timer}`;
    case 'leader.updated':
      return `leader t${e.term} ${e.leader}`;
    case 'leader.deleted':
      return `no leader t${e.term} (was ${e.leader})`;
  }
}

const brief = (effects: readonly ElectionEffect[]): string[] => effects.map(line);

describe('election: follower', () => {
  it('a follower arms its election timer on start and does nothing else', () => {
    const node = driveElection({ self: N1, validators: FOUR });
    expect(node.state()).toBe('follower');
    expect(brief(node.take())).toEqual(['arm election']);
  });

  it('an election timeout starts an election: new term, own vote persisted before the RequestVote', () => {
    const node = driveElection({ self: N1, validators: FOUR, committedHeight: 7 });
    node.take();
    node.send({ type: 'ELECTION_TIMEOUT' });
    expect(node.state()).toBe('candidate');
    expect(brief(node.take())).toEqual(['persist t1 n1', 'broadcast RequestVote t1', 'arm election']);
    expect(node.context().term).toBe(1);
  });

  it('votes once per term', () => {
    const node = driveElection({ self: N1, validators: FOUR });
    node.take();
    node.send(requestVote(N2, 1));
    node.send(requestVote(N3, 1));
    node.send(requestVote(N2, 1)); // the same candidate asking again gets the same answer
    expect(brief(node.take())).toEqual([
      'persist t1 -', // the higher term is adopted first
      'arm election',
      'persist t1 n2',
      'send n2 Vote t1 yes',
      'arm election',
      'send n3 Vote t1 no',
      'send n2 Vote t1 yes',
      'arm election',
    ]);
  });

  it('persist is emitted before send: the vote is durable before it leaves', () => {
    const node = driveElection({ self: N1, validators: FOUR, persisted: { term: 4, votedFor: null } });
    node.take();
    node.send(requestVote(N3, 4));
    const effects = brief(node.take());
    expect(effects.indexOf('persist t4 n3')).toBeGreaterThanOrEqual(0);
    expect(effects.indexOf('persist t4 n3')).toBeLessThan(effects.indexOf('send n3 Vote t4 yes'));
  });

  it('a restarted node keeps its persisted vote: still one vote per term', () => {
    const node = driveElection({ self: N1, validators: FOUR, persisted: { term: 3, votedFor: N2 } });
    node.take();
    node.send(requestVote(N3, 3));
    expect(brief(node.take())).toEqual(['send n3 Vote t3 no']);
  });

  it('refuses a candidate with a lower committed height', () => {
    const node = driveElection({ self: N1, validators: FOUR, committedHeight: 10 });
    node.take();
    node.send(requestVote(N2, 1, 9));
    expect(brief(node.take())).toEqual(['persist t1 -', 'arm election', 'send n2 Vote t1 no']);
    node.send(requestVote(N3, 1, 10)); // equal height is enough
    expect(brief(node.take())).toContain('send n3 Vote t1 yes');
  });

  it('a committed block raises the bar for candidates', () => {
    const node = driveElection({ self: N1, validators: FOUR, committedHeight: 2 });
    node.send({ type: 'BLOCK_COMMITTED', height: 5 });
    node.take();
    node.send(requestVote(N2, 1, 4));
    expect(brief(node.take())).toContain('send n2 Vote t1 no');
  });

  it('ignores a RequestVote from a stale term and from a non-validator', () => {
    const node = driveElection({ self: N1, validators: FOUR, persisted: { term: 5, votedFor: null } });
    node.take();
    node.send(requestVote(N2, 4));
    node.send(requestVote('stranger', 6));
    expect(node.take()).toEqual([]);
    expect(node.context().term).toBe(5);
  });

  it('leader heartbeats reset the follower election timer', () => {
    const node = driveElection({ self: N1, validators: FOUR });
    node.take();
    node.send(updateLeader(N2, 1, [N2, N3, N4]));
    expect(brief(node.take())).toEqual(['persist t1 -', 'leader t1 n2', 'arm election']);
    node.send(updateLeader(N2, 1, [N2, N3, N4]));
    expect(brief(node.take())).toEqual(['arm election']);
    expect(node.context().leader).toBe(N2);
  });

  it('an UpdateLeader without a quorum certificate is ignored: nobody crowns itself', () => {
    const node = driveElection({ self: N1, validators: FOUR });
    node.take();
    node.send(updateLeader(N4, 9, [N4])); // only its own vote
    node.send(updateLeader(N4, 9, [N4, N4, N4])); // the same voter three times
    node.send(updateLeader(N4, 9, [N4, 'x', 'y'])); // voters outside the set
    expect(node.take()).toEqual([]);
    expect(node.context()).toMatchObject({ term: 0, leader: null });
  });

  it('LEADER_STALLED starts an election for a new term', () => {
    const node = driveElection({ self: N1, validators: FOUR });
    node.send(updateLeader(N2, 3, [N2, N3, N4]));
    node.take();
    node.send({ type: 'LEADER_STALLED', term: 3 });
    expect(node.state()).toBe('candidate');
    expect(brief(node.take())).toEqual([
      'no leader t3 (was n2)',
      'persist t4 n1',
      'broadcast RequestVote t4',
      'arm election',
    ]);
  });

  it('a LEADER_STALLED about an earlier term is ignored', () => {
    const node = driveElection({ self: N1, validators: FOUR });
    node.send(updateLeader(N2, 3, [N2, N3, N4]));
    node.take();
    node.send({ type: 'LEADER_STALLED', term: 2 });
    expect(node.state()).toBe('follower');
    expect(node.take()).toEqual([]);
  });

  it('a node outside the validator set never starts an election', () => {
    const node = driveElection({ self: 'observer', validators: FOUR });
    node.take();
    node.send({ type: 'ELECTION_TIMEOUT' });
    expect(node.state()).toBe('follower');
    expect(node.take()).toEqual([]);
    node.send({ type: 'VALIDATORS_CHANGED', validators: [...FOUR, 'observer'] });
    expect(brief(node.take())).toEqual(['arm election']);
  });
});

describe('election: candidate', () => {
  function candidate() {
    const node = driveElection({ self: N1, validators: FOUR });
    node.send({ type: 'ELECTION_TIMEOUT' });
    node.send(requestVote(N1, 1)); // its own RequestVote, looped back by the host
    return node;
  }

  it('a candidate votes for itself by answering its own RequestVote', () => {
    const node = candidate();
    expect(brief(node.take()).slice(-2)).toEqual(['send n1 Vote t1 yes', 'arm election']);
  });

  it('wins with 2f+1 of 3f+1, not all', () => {
    const node = candidate();
    node.take();
    node.send(voteEvent(N1, N1, 1));
    node.send(voteEvent(N2, N1, 1));
    expect(node.state()).toBe('candidate');
    node.send(voteEvent(N3, N1, 1)); // n4 never answers
    expect(node.state()).toBe('leader');
    const effects = node.take();
    expect(brief(effects)).toEqual([
      'leader t1 n1',
      'cancel election',
      'broadcast UpdateLeader t1',
      'arm heartbeat',
    ]);
    const heartbeat = effects.find((e) => e.type === 'election.broadcast');
    expect(heartbeat?.message.kind === 'UpdateLeader' && heartbeat.message.votes.map((v) => v.voter)).toEqual(
      [N1, N2, N3],
    );
  });

  it('own vote counts: without it two grants are not a quorum of four', () => {
    const node = candidate();
    node.send(voteEvent(N2, N1, 1));
    node.send(voteEvent(N3, N1, 1));
    expect(node.state()).toBe('candidate');
    node.send(voteEvent(N1, N1, 1));
    expect(node.state()).toBe('leader');
  });

  it('a duplicate vote counts once', () => {
    const node = candidate();
    node.send(voteEvent(N1, N1, 1));
    node.send(voteEvent(N2, N1, 1));
    node.send(voteEvent(N2, N1, 1));
    expect(node.state()).toBe('candidate');
  });

  it('a vote counts only for the term and candidate it was cast for', () => {
    const node = candidate();
    node.send(voteEvent(N1, N1, 1));
    node.send(voteEvent(N2, N3, 1)); // a vote for someone else
    node.send(voteEvent(N3, N1, 0)); // an old term's vote
    node.send(voteEvent('stranger', N1, 1));
    expect(node.state()).toBe('candidate');
    expect(node.context().votes.votes).toEqual({ n1: 'n1' });
  });

  it('a grant from a voter that also refused counts, and backs the leader certificate', () => {
    // Regression: votes count as a set (quorum.ts), so a Byzantine voter that refused and granted is
    // counted for the grant; the grant must then be in the certificate, or followers refuse the leader.
    const node = candidate();
    node.send(voteEvent(N1, N1, 1));
    node.send(voteEvent(N2, N1, 1, false));
    node.send(voteEvent(N2, N1, 1, true));
    node.send(voteEvent(N3, N1, 1));
    expect(node.state()).toBe('leader');
    const updates = node
      .take()
      .flatMap((e) =>
        e.type === 'election.broadcast' && e.message.kind === 'UpdateLeader' ? [e.message] : [],
      );
    expect(updates).toHaveLength(1);
    expect(isLeaderCertificate(updates[0]!, FOUR, NETWORK)).toBe(true);
  });

  it('a split vote: the next election timeout retries in a new term', () => {
    const node = candidate();
    node.send(voteEvent(N1, N1, 1));
    node.send(voteEvent(N2, N1, 1, false));
    node.send(voteEvent(N3, N1, 1, false));
    node.take();
    node.send({ type: 'ELECTION_TIMEOUT' });
    expect(node.state()).toBe('candidate');
    expect(brief(node.take())).toEqual(['persist t2 n1', 'broadcast RequestVote t2', 'arm election']);
    expect(node.context().votes.votes).toEqual({});
  });

  it('a candidate follows a leader that proves it won the same term', () => {
    const node = candidate();
    node.take();
    node.send(updateLeader(N2, 1, [N2, N3, N4]));
    expect(node.state()).toBe('follower');
    expect(brief(node.take())).toEqual(['leader t1 n2', 'arm election']);
  });
});

describe('election: leader', () => {
  function leader() {
    const node = driveElection({ self: N1, validators: FOUR });
    node.send({ type: 'ELECTION_TIMEOUT' });
    for (const voter of [N1, N2, N3]) node.send(voteEvent(voter, N1, 1));
    node.take();
    return node;
  }

  it('the leader heartbeats on its heartbeat timer, with its certificate', () => {
    const node = leader();
    node.send({ type: 'HEARTBEAT_TIMEOUT' });
    expect(brief(node.take())).toEqual(['broadcast UpdateLeader t1', 'arm heartbeat']);
    node.send({ type: 'ELECTION_TIMEOUT' }); // a stale timer: leaders do not run elections
    expect(node.state()).toBe('leader');
  });

  it('a higher term makes a leader step down', () => {
    const node = leader();
    node.send(requestVote(N3, 2));
    expect(node.state()).toBe('follower');
    expect(brief(node.take())).toEqual([
      'cancel heartbeat',
      'no leader t1 (was n1)',
      'persist t2 -',
      'arm election',
      'persist t2 n3',
      'send n3 Vote t2 yes',
      'arm election',
    ]);
  });

  it('a vote from a higher term also makes a node step down', () => {
    const node = leader();
    node.send(voteEvent(N4, N4, 6, false));
    expect(node.state()).toBe('follower');
    expect(node.context()).toMatchObject({ term: 6, votedFor: null, leader: null });
  });

  it('its own heartbeat coming back changes nothing', () => {
    const node = leader();
    node.send(updateLeader(N1, 1, [N1, N2, N3]));
    expect(node.state()).toBe('leader');
    expect(node.take()).toEqual([]);
  });
});

describe('election: four nodes in-process', () => {
  it('an election succeeds with f nodes down', () => {
    const cluster = new ElectionCluster(FOUR);
    const down = new Set([N4]);
    cluster.fire(N2, 'election');
    cluster.settle(down);
    expect(cluster.state(N2)).toBe('leader');
    for (const id of [N1, N3]) expect(cluster.context(id)).toMatchObject({ term: 1, leader: N2 });
  });

  it('with two nodes down (more than f) nobody is elected', () => {
    const cluster = new ElectionCluster(FOUR);
    cluster.fire(N1, 'election');
    cluster.settle(new Set([N3, N4]));
    expect(cluster.state(N1)).toBe('candidate');
  });

  it('a candidate behind the others cannot win; one that is up to date can', () => {
    const cluster = new ElectionCluster(FOUR, { n1: 3, n2: 5, n3: 5, n4: 5 });
    cluster.fire(N1, 'election');
    cluster.settle();
    expect(cluster.state(N1)).toBe('candidate');
    cluster.fire(N3, 'election');
    cluster.settle();
    expect(cluster.state(N3)).toBe('leader');
    expect(cluster.context(N1)).toMatchObject({ term: 2, leader: N3 });
  });

  it('a partitioned old leader steps down when it hears the new leader', () => {
    const cluster = new ElectionCluster(FOUR);
    cluster.fire(N1, 'election');
    cluster.settle();
    expect(cluster.state(N1)).toBe('leader');
    cluster.fire(N2, 'election'); // n1 is cut off while n2, n3, n4 elect n2
    cluster.settle(new Set([N1]));
    expect(cluster.state(N2)).toBe('leader');
    cluster.fire(N2, 'heartbeat'); // the partition heals
    cluster.settle();
    expect(cluster.state(N1)).toBe('follower');
    expect(cluster.context(N1)).toMatchObject({ term: 2, leader: N2 });
  });
});
