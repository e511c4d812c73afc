/**
 * Leader election (RAFT-based) as a pure XState v5 statechart: follower → candidate → leader.
 *
 * The leader is the node that proposes blocks in round 0 of every height (see pbft-round.ts). This
 * machine only decides who that is, term by term; it never touches a clock, a socket or a disk.
 *
 * EFFECT STYLE (the same in pbft-round.ts): everything the machine wants done leaves as an XState
 * `emit`. The host subscribes with `actor.on('*', …)` BEFORE `actor.start()` (the entry of the first
 * state already emits) and handles each effect in the order it arrives. Persist-before-send: an effect
 * list that changes the durable record emits `election.persist` first; the host writes it durably
 * before it sends any message that follows.
 *
 * ── Events in ──────────────────────────────────────────────────────────────────────────────────────
 *   ELECTION_TIMEOUT                   the election timer fired (armed by timer.arm 'election')
 *   HEARTBEAT_TIMEOUT                  the leader's heartbeat timer fired (timer.arm 'heartbeat')
 *   LEADER_STALLED {term}              host: the leader of `term` made no progress while txs wait
 *                                      (e.g. pbft.roundStarted with round ≥ 1, or no commit in time)
 *   REQUEST_VOTE {message}             RequestVote from a peer — or this node's own, looped back
 *   VOTE {message}                     a signed Vote (signature checked by the host), own ones too
 *   UPDATE_LEADER {message}            UpdateLeader / heartbeat with its leader certificate
 *                                      (host checked every vote's signature in message.votes)
 *   BLOCK_COMMITTED {height}           the node's committed height grew (so it votes more strictly)
 *   VALIDATORS_CHANGED {validators}    the representative set changed (membership)
 *
 * ── Effects out (emitted) ──────────────────────────────────────────────────────────────────────────
 *   election.persist {term, votedFor}  write durably, before sending anything that follows
 *   election.broadcast {message}       RequestVote | UpdateLeader to EVERY validator, this node
 *                                      included: the host loops its own copy back as an event
 *   election.send {to, message}        an unsigned Vote for `to` (may be this node): the host signs
 *                                      it (electionVoteSigningBytes) and delivers it as a VOTE event
 *   timer.arm {timer}                  (re)start 'election' — the HOST picks a random duration in
 *                                      [min, max] from its seeded RNG — or 'heartbeat' (fixed period)
 *   timer.cancel {timer}               stop that timer
 *   leader.updated {term, leader}      this node now knows the leader of `term`
 *   leader.deleted {term, leader}      this node no longer follows `leader` (election / new term)
 *
 * ── Rules (guards) ─────────────────────────────────────────────────────────────────────────────────
 *   isFromValidator      only representatives take part; anything else is ignored
 *   hasHigherTerm        a message from a later term makes any node step down to follower first,
 *                        then the message is handled again in the new term
 *   canGrantVote         one vote per term (votedFor is persisted before the Vote leaves), and only for
 *                        a candidate whose committed height is ≥ this node's own
 *   answersMyCandidacy   a Vote counts only for the term and candidate it was cast for
 *   hasQuorumOfVotes     a candidate wins with quorumSize(n) = 2f+1 distinct granted votes, its own
 *                        included — not with all n, so an election succeeds with f nodes down; two
 *                        quorums share an honest node, so there is at most one leader per term
 *   hasLeaderCertificate UpdateLeader counts only with 2f+1 granted votes for that leader and term, so
 *                        a Byzantine node cannot declare itself leader
 *   isAboutCurrentLeader LEADER_STALLED is about the leader this node follows now (not a stale report);
 *                        only followers act on it — a leader does not depose itself
 *   isValidator          only a representative starts elections
 *
 * Stale RequestVotes (lower term) are ignored rather than refused, so a Vote always answers exactly the
 * (term, candidate) it names. Known limit (as in plain Raft without pre-vote): a node that keeps
 * raising its term can force elections; it cannot break safety, and PBFT rounds rotate proposers anyway.
 */
import { and, assign, emit, enqueueActions, not, raise, setup } from 'xstate';
import type { NodeId } from '../domain/identity.ts';
import {
  type ElectionVote,
  isLeaderCertificate,
  type RequestVote,
  type SignedElectionVote,
  type UpdateLeader,
} from './election-messages.ts';
import { addVote, emptyTally, type VoteTally, voteResult } from './quorum.ts';

export type {
  ElectionMessage,
  ElectionVote,
  RequestVote,
  SignedElectionVote,
  UpdateLeader,
} from './election-messages.ts';

/** The durable part of the election: restored on restart, written before the messages that need it. */
export interface ElectionRecord {
  term: number;
  votedFor: NodeId | null;
}

export interface ElectionInput {
  self: NodeId;
  /** Representatives, in validator order. */
  validators: readonly NodeId[];
  networkId: string;
  /** Height of the node's last committed block. */
  committedHeight: number;
  /** The record persisted before a restart, if any. */
  persisted?: ElectionRecord | null;
}

export interface ElectionContext {
  self: NodeId;
  validators: readonly NodeId[];
  networkId: string;
  committedHeight: number;
  term: number;
  votedFor: NodeId | null;
  /** The leader of `term` as far as this node knows. */
  leader: NodeId | null;
  /** Answers to this node's own candidacy in `term`. */
  votes: VoteTally;
  /** The signed granted votes counted in `votes`: the leader certificate once they reach 2f+1. */
  grants: SignedElectionVote[];
}

export type ElectionEvent =
  | { type: 'ELECTION_TIMEOUT' }
  | { type: 'HEARTBEAT_TIMEOUT' }
  | { type: 'LEADER_STALLED'; term: number }
  | { type: 'REQUEST_VOTE'; message: RequestVote }
  | { type: 'VOTE'; message: SignedElectionVote }
  | { type: 'UPDATE_LEADER'; message: UpdateLeader }
  | { type: 'BLOCK_COMMITTED'; height: number }
  | { type: 'VALIDATORS_CHANGED'; validators: readonly NodeId[] };

export type ElectionTimer = 'election' | 'heartbeat';

export type ElectionEffect =
  | { type: 'election.persist'; term: number; votedFor: NodeId | null }
  | { type: 'election.broadcast'; message: RequestVote | UpdateLeader }
  | { type: 'election.send'; to: NodeId; message: ElectionVote }
  | { type: 'timer.arm'; timer: ElectionTimer }
  | { type: 'timer.cancel'; timer: ElectionTimer }
  | { type: 'leader.updated'; term: number; leader: NodeId }
  | { type: 'leader.deleted'; term: number; leader: NodeId };

type PeerMessage = RequestVote | SignedElectionVote | UpdateLeader;

/** The peer message an event carries, if it carries one. */
function messageOf(event: ElectionEvent): PeerMessage | undefined {
  switch (event.type) {
    case 'REQUEST_VOTE':
    case 'VOTE':
    case 'UPDATE_LEADER':
      return event.message;
    default:
      return undefined;
  }
}

function senderOf(message: PeerMessage): NodeId {
  switch (message.kind) {
    case 'RequestVote':
      return message.candidate;
    case 'Vote':
      return message.voter;
    case 'UpdateLeader':
      return message.leader;
  }
}

function voteAnswer(context: ElectionContext, request: RequestVote, granted: boolean): ElectionVote {
  return {
    kind: 'Vote',
    networkId: context.networkId,
    term: request.term,
    candidate: request.candidate,
    voter: context.self,
    granted,
  };
}

export const electionMachine = setup({
  types: {
    context: {} as ElectionContext,
    events: {} as ElectionEvent,
    input: {} as ElectionInput,
    emitted: {} as ElectionEffect,
  },
  guards: {
    isFromValidator: ({ context, event }) => {
      const message = messageOf(event);
      return message !== undefined && context.validators.includes(senderOf(message));
    },
    hasHigherTerm: ({ context, event }) => (messageOf(event)?.term ?? -1) > context.term,
    isCurrentTerm: ({ context, event }) => messageOf(event)?.term === context.term,
    canGrantVote: ({ context, event }) => {
      if (event.type !== 'REQUEST_VOTE') return false;
      const { term, candidate, lastCommittedHeight } = event.message;
      return (
        term === context.term &&
        (context.votedFor === null || context.votedFor === candidate) &&
        lastCommittedHeight >= context.committedHeight
      );
    },
    answersMyCandidacy: ({ context, event }) =>
      event.type === 'VOTE' &&
      event.message.term === context.term &&
      event.message.candidate === context.self,
    hasQuorumOfVotes: ({ context }) => voteResult(context.votes, context.self) === 'won',
    hasLeaderCertificate: ({ context, event }) =>
      event.type === 'UPDATE_LEADER' &&
      isLeaderCertificate(event.message, context.validators, context.networkId),
    isAboutCurrentLeader: ({ context, event }) =>
      event.type === 'LEADER_STALLED' && event.term === context.term && context.leader !== null,
    isValidator: ({ context }) => context.validators.includes(context.self),
  },
  actions: {
    /** Raft: a higher term is adopted at once, with no vote cast in it yet and no leader known. */
    stepDownToHigherTerm: enqueueActions(({ context, event, enqueue }) => {
      const term = messageOf(event)?.term ?? context.term;
      if (context.leader !== null) {
        enqueue.emit({ type: 'leader.deleted', term: context.term, leader: context.leader });
      }
      enqueue.assign({ term, votedFor: null, leader: null });
      enqueue.emit({ type: 'election.persist', term, votedFor: null });
    }),
    handleAgainInNewTerm: raise(({ event }) => event),
    announceLeaderLost: enqueueActions(({ context, enqueue }) => {
      if (context.leader !== null) {
        enqueue.emit({ type: 'leader.deleted', term: context.term, leader: context.leader });
      }
    }),
    startNewTerm: assign(({ context }) => ({
      term: context.term + 1,
      votedFor: context.self,
      leader: null,
      votes: emptyTally(context.validators),
      grants: [],
    })),
    persistTermAndVote: emit(({ context }) => ({
      type: 'election.persist' as const,
      term: context.term,
      votedFor: context.votedFor,
    })),
    broadcastRequestVote: emit(({ context }) => ({
      type: 'election.broadcast' as const,
      message: {
        kind: 'RequestVote' as const,
        term: context.term,
        candidate: context.self,
        lastCommittedHeight: context.committedHeight,
      },
    })),
    /** Record the vote durably (if it is new), then send it: never two different votes in a term. */
    grantVote: enqueueActions(({ context, event, enqueue }) => {
      if (event.type !== 'REQUEST_VOTE') return;
      const request = event.message;
      if (context.votedFor !== request.candidate) {
        enqueue.assign({ votedFor: request.candidate });
        enqueue.emit({ type: 'election.persist', term: context.term, votedFor: request.candidate });
      }
      enqueue.emit({
        type: 'election.send',
        to: request.candidate,
        message: voteAnswer(context, request, true),
      });
    }),
    refuseVote: emit(({ context, event }) => {
      if (event.type !== 'REQUEST_VOTE') throw new Error('refuseVote answers a REQUEST_VOTE');
      return {
        type: 'election.send' as const,
        to: event.message.candidate,
        message: voteAnswer(context, event.message, false),
      };
    }),
    countVote: assign(({ context, event }) => {
      if (event.type !== 'VOTE') return {};
      const vote = event.message;
      const { tally, outcome } = addVote(context.votes, vote.voter, vote.granted ? vote.candidate : null);
      // Every granted vote the tally counts (an equivocator's too, quorum.ts) backs the leader certificate.
      const counts = outcome === 'counted' || (outcome === 'equivocation' && tally !== context.votes);
      const grants = counts && vote.granted ? [...context.grants, vote] : context.grants;
      return { votes: tally, grants };
    }),
    takeLeadership: assign(({ context }) => ({ leader: context.self })),
    announceLeader: emit(({ context }) => ({
      type: 'leader.updated' as const,
      term: context.term,
      leader: context.self,
    })),
    followLeader: enqueueActions(({ context, event, enqueue }) => {
      if (event.type !== 'UPDATE_LEADER') return;
      const { term, leader } = event.message;
      if (context.leader === leader) return;
      enqueue.assign({ leader });
      enqueue.emit({ type: 'leader.updated', term, leader });
    }),
    broadcastHeartbeat: emit(({ context }) => ({
      type: 'election.broadcast' as const,
      message: {
        kind: 'UpdateLeader' as const,
        term: context.term,
        leader: context.self,
        votes: context.grants,
      },
    })),
    armElectionTimer: emit({ type: 'timer.arm', timer: 'election' }),
    cancelElectionTimer: emit({ type: 'timer.cancel', timer: 'election' }),
    armHeartbeatTimer: emit({ type: 'timer.arm', timer: 'heartbeat' }),
    cancelHeartbeatTimer: emit({ type: 'timer.cancel', timer: 'heartbeat' }),
    adoptCommittedHeight: assign(({ context, event }) =>
      event.type === 'BLOCK_COMMITTED'
        ? { committedHeight: Math.max(context.committedHeight, event.height) }
        : {},
    ),
    adoptValidators: assign(({ event }) =>
      event.type === 'VALIDATORS_CHANGED' ? { validators: event.validators } : {},
    ),
  },
}).createMachine({
  id: 'election',
  context: ({ input }) => ({
    self: input.self,
    validators: input.validators,
    networkId: input.networkId,
    committedHeight: input.committedHeight,
    term: input.persisted?.term ?? 0,
    votedFor: input.persisted?.votedFor ?? null,
    leader: null,
    votes: emptyTally(input.validators),
    grants: [],
  }),
  initial: 'follower',
  on: {
    REQUEST_VOTE: [
      { guard: not('isFromValidator') },
      {
        guard: 'hasHigherTerm',
        target: '.follower',
        actions: ['stepDownToHigherTerm', 'handleAgainInNewTerm'],
      },
      { guard: 'canGrantVote', actions: ['grantVote', 'armElectionTimer'] },
      { guard: 'isCurrentTerm', actions: 'refuseVote' },
    ],
    VOTE: [
      { guard: not('isFromValidator') },
      { guard: 'hasHigherTerm', target: '.follower', actions: 'stepDownToHigherTerm' },
    ],
    UPDATE_LEADER: [
      { guard: not('hasLeaderCertificate') },
      { guard: 'hasHigherTerm', target: '.follower', actions: ['stepDownToHigherTerm', 'followLeader'] },
      { guard: 'isCurrentTerm', target: '.follower', actions: 'followLeader' },
    ],
    BLOCK_COMMITTED: { actions: 'adoptCommittedHeight' },
    VALIDATORS_CHANGED: { actions: 'adoptValidators' },
  },
  states: {
    follower: {
      // Entered again on every valid heartbeat: that re-arms the timer, so a live leader keeps it quiet.
      entry: 'armElectionTimer',
      on: {
        ELECTION_TIMEOUT: { guard: 'isValidator', target: 'candidate' },
        LEADER_STALLED: { guard: and(['isValidator', 'isAboutCurrentLeader']), target: 'candidate' },
        VALIDATORS_CHANGED: { actions: ['adoptValidators', 'armElectionTimer'] },
      },
    },
    candidate: {
      entry: [
        'announceLeaderLost',
        'startNewTerm',
        'persistTermAndVote',
        'broadcastRequestVote',
        'armElectionTimer',
      ],
      on: {
        VOTE: { guard: 'answersMyCandidacy', actions: 'countVote' },
        // A split vote: nobody won before the randomized timer fired, so try again in a new term.
        ELECTION_TIMEOUT: { target: 'candidate', reenter: true },
      },
      always: { guard: 'hasQuorumOfVotes', target: 'leader' },
    },
    leader: {
      entry: [
        'takeLeadership',
        'announceLeader',
        'cancelElectionTimer',
        'broadcastHeartbeat',
        'armHeartbeatTimer',
      ],
      exit: 'cancelHeartbeatTimer',
      on: {
        HEARTBEAT_TIMEOUT: { actions: ['broadcastHeartbeat', 'armHeartbeatTimer'] },
        // Its own heartbeat coming back; a rival with a certificate for this term cannot exist.
        UPDATE_LEADER: { guard: 'isCurrentTerm' },
      },
    },
  },
});

export type ElectionMachine = typeof electionMachine;
