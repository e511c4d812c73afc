/**
 * The PBFT round (Propose → PreVote → PreCommit → commit) as a pure XState v5 statechart, with
 * Tendermint's locking (Buchman, Kwon, Milosevic 2018, "The latest gossip on BFT consensus",
 * Algorithm 1; the line numbers below are that algorithm's). One long-lived machine walks height by
 * height; `height` and `round` live in its context.
 *
 *   resuming → idle → round [ propose → prevote → precommit ] → committed → START_HEIGHT → idle …
 *                      round ↺ round + 1 on PRECOMMIT_TIMEOUT; ↺ a later round on f+1 messages from it
 *   resuming: after a restart the node re-enters the step it last signed in (never signs it twice);
 *   START_HEIGHT moves to a later height from any state (after a commit, or after a sync).
 *
 * EFFECT STYLE (the same in election.ts): everything the machine wants done leaves as an XState
 * `emit`; the host subscribes with `actor.on('*', …)` BEFORE `actor.start()` and handles effects in
 * order. Persist-before-send is built into the only actions that sign something (broadcastProposal,
 * broadcastPreVote…, broadcastPreCommit…): each emits `pbft.persist` with the updated record first,
 * then the message. The host writes the record durably, then signs, stores the signed message, sends it
 * to every peer and loops it back to this machine as an ordinary PROPOSAL / VOTE event — the node's own
 * vote is counted like any other, once it comes back.
 *
 * ── Events in ──────────────────────────────────────────────────────────────────────────────────────
 *   PROPOSAL {proposal}                a SignedProposal, signature verified by the host (own ones too)
 *   VOTE {vote}                        a signed domain Vote, signature verified by the host (own too)
 *   BLOCK_READY {block}                host's batcher built a block for this height; used only when this
 *                                      node is the proposer of the current round and has not proposed
 *   TXS_WAITING                        host: its pool holds transactions, so start rounds at this height
 *                                      (send it again after each START_HEIGHT while the pool is not empty)
 *   PROPOSE_TIMEOUT {height, round}    timers armed by timer.arm; a timeout for another (height, round)
 *   PREVOTE_TIMEOUT {height, round}      is stale and ignored, so the host never has to cancel timers
 *   PRECOMMIT_TIMEOUT {height, round}
 *   LEADER_CHANGED {leader, term}      the election's leader.updated: round 0's proposer from now on
 *                                      (leader.deleted need not be relayed: rounds keep rotating from
 *                                      the last leader until a new one is elected)
 *   START_HEIGHT {height, validators?} host stored the committed block (or synced): decide `height`
 *                                      next, with this validator set (membership changes take effect here)
 *
 * ── Effects out (emitted) ──────────────────────────────────────────────────────────────────────────
 *   pbft.persist {record}              PbftRecord (round, what was signed in it, lock, valid block):
 *                                      write durably before sending what follows
 *   pbft.broadcastProposal {proposal}  unsigned Proposal: sign (proposalSigningBytes), send, loop back
 *   pbft.broadcastVote {vote}          unsigned domain Vote: sign (signVote), send, loop back
 *   pbft.requestBlock {height, round}  this node proposes now: answer with BLOCK_READY when the batcher
 *                                      has a batch (or let the round time out to the next proposer)
 *   pbft.roundStarted {height, round, proposer}   observation; round ≥ 1 means round 0 timed out under
 *                                      the leader: the host may raise LEADER_STALLED in the election
 *   pbft.commit {height, round, blockHash, block, certificate}
 *                                      decided: 2f+1 PreCommits for blockHash; certificate holds them.
 *                                      block is null if this node never received the proposal: fetch it
 *                                      by hash (the certificate proves it). Then send START_HEIGHT.
 *   pbft.equivocation {voter, height, round, voteType, first, second}   evidence, for logs
 *   pbft.peersAhead {height}           f+1 validators send messages for `height` > ours: sync, then
 *                                      START_HEIGHT
 *   timer.arm {timer, height, round}   'propose' | 'prevote' | 'precommit'; the host picks the duration
 *                                      (it should grow with round so a slow network still converges)
 *
 * ── Rules (guards), as Algorithm 1 reads ───────────────────────────────────────────────────────────
 *   isProposer               proposerOf(validators, leader, round, height): the leader in round 0, then
 *                            the validators in turn by height and round, whatever the leader (a node's
 *                            view of the leader can lag; pbft-messages.ts). Anyone else's proposal is ignored.
 *   hasBlockToPropose        the valid block (re-proposed with its validRound) or the host's new block
 *   hasProposal              the first proposal from this round's proposer has arrived
 *   isProposalJustified      validRound = -1 (line 22), or a polka for it in validRound < round (line 28)
 *   isValidProposal          the HOST's verdict on the block (provide it: createPbftRoundMachine); a node
 *                            never prevotes a block it has not validated
 *   lockAllowsProposal       not locked, or locked on this very block, or lockedRound ≤ validRound: a
 *                            polka at or after the lock releases it (in the lock's own round a polka for
 *                            another block would need f+1 equivocators, so in practice "a later polka")
 *   hasPolkaForProposal      2f+1 PreVotes for the proposal's hash in this round (line 36): lock, PreCommit
 *   hasPolkaForNil           2f+1 PreVotes for nil (line 44): PreCommit nil
 *   hasQuorumOfPreCommits    2f+1 PreCommits for one block in ANY round of this height (line 49): commit
 *   hasSkipAheadQuorum       f+1 validators sent messages for later rounds (line 55): go to the highest
 *                            round that f+1 of them reached, so at least one honest node is there
 *   hasQuorumOfAnyPreCommits 2f+1 precommits of any kind in this round (line 47): arm the precommit
 *                            timer; only its timeout ends the round
 *   isHeightUnderway         leave idle: a proposal from this round's proposer, or f+1 validators active
 *   hasNewerPolkaFromEarlierRound  a polka for a block this node holds, in a round after validRound but
 *                            before this one (relayed to it late): it becomes the valid block, which this
 *                            node re-proposes with that validRound — safe, as every receiver checks the
 *                            polka itself (isProposalJustified) and its lock; without it a node locked on
 *                            a block waits for the one proposer that saw the polka in time (found by the
 *                            simulator: n = 7, two Byzantine proposers in a row, seven rounds)
 *   isTimeoutForCurrentRound a timer event for this (height, round)
 *   Timers: the propose timer starts with the round; the precommit timer, as in Algorithm 1, only once
 *   2f+1 validators precommitted in the round (line 47), so a node can never run rounds ahead of the
 *   others on its own — it waits for them (the simulator found nodes alone rounds ahead of a quorum
 *   that could then never meet). The host must make a waiting node hear the others eventually: the
 *   replica re-sends its current round's messages and relays older rounds' votes to nodes behind it.
 *   One deviation: the prevote timer starts when the prevote step is entered, not after 2f+1 prevotes
 *   (it only leads to a nil precommit, so waiting buys nothing). With no work (idle) no timer runs.
 *
 * An equivocating voter counts for each choice it signed and is reported (quorum.ts). Early messages
 * (later round or height) are buffered per sender, bounded, and replayed (pbft-log.ts).
 */
import { and, assign, emit, enqueueActions, setup } from 'xstate';
import type { Block } from '../domain/block.ts';
import type { CommitCertificate } from '../domain/commit-certificate.ts';
import type { NodeId } from '../domain/identity.ts';
import { quorumSize } from '../domain/quorum.ts';
import type { UnsignedVote, Vote, VoteType } from '../domain/vote.ts';
import {
  activeValidators,
  blockWithHash,
  certificateFor,
  decision,
  emptyHeightLog,
  type Hearing,
  type HeightLog,
  hear,
  heightReachedByOneHonest,
  laterRoundWithOneHonest,
  moveToHeight,
  newestPolkaBetween,
  type PbftMessage,
  replayBuffered,
  roundLog,
} from './pbft-log.ts';
import type { Proposal, SignedProposal } from './pbft-messages.ts';
import { proposerOf } from './pbft-messages.ts';
import {
  type Choice,
  hasOneHonestVoter,
  hasQuorumOfAnyVotes,
  type QuorumRule,
  voteResult,
} from './quorum.ts';

export { describeRound } from './pbft-log.ts';
export type { Proposal, SignedProposal } from './pbft-messages.ts';
export { proposalSigningBytes, proposerOf } from './pbft-messages.ts';

/** What this node signed in its current round, in order. */
export type SignedStep = 'none' | 'proposal' | 'prevote' | 'precommit';

/** The durable part of the round: written before every message it signs, restored after a restart. */
export interface PbftRecord {
  height: number;
  round: number;
  lastSigned: SignedStep;
  lockedRound: number;
  lockedBlockHash: string | null;
  validRound: number;
  validBlockHash: string | null;
}

export interface PbftInput {
  self: NodeId;
  networkId: string;
  /** Representatives for `height`, in validator order. */
  validators: readonly NodeId[];
  /** The height to decide: last committed height + 1. */
  height: number;
  /** The last elected leader, if known. */
  leader?: NodeId | null;
  /** The record persisted before a restart; used only if it is for `height`. */
  restored?: PbftRecord | null;
  /**
   * Bodies of the restored record's locked and valid blocks, when the host kept them. The record
   * holds only their hashes; without the body a restarted proposer cannot re-propose the block it is
   * locked on, and if f+1 honest nodes are locked on it and restarted, no other block can win either.
   */
  restoredBlocks?: readonly Block[];
  /** Early messages kept per sender (default 64). */
  maxBufferedPerSender?: number;
  /**
   * Matching votes that decide, per validator count. Default quorumSize: 2f+1, the protocol's rule.
   * An explicit hook for the simulator's buggy-variant tests (the original's ⌊n/3⌋+1), never set by
   * the node.
   */
  quorum?: QuorumRule;
}

export interface PbftContext {
  self: NodeId;
  networkId: string;
  validators: readonly NodeId[];
  leader: NodeId | null;
  height: number;
  round: number;
  lastSigned: SignedStep;
  lockedRound: number;
  lockedBlockHash: string | null;
  /** The locked block's body, when this node has it (after a restart: if the host kept it, restoredBlocks). */
  lockedBlock: Block | null;
  validRound: number;
  validBlockHash: string | null;
  validBlock: Block | null;
  /** The host's block for this round (BLOCK_READY). */
  readyBlock: Block | null;
  requestedBlock: boolean;
  /** The precommit timer of this round is armed (after 2f+1 precommits of any kind). */
  precommitTimerArmed: boolean;
  log: HeightLog;
  maxBufferedPerSender: number;
  /** Matching votes that decide, per validator count (quorumSize unless a test says otherwise). */
  quorum: QuorumRule;
  /** Highest height already reported with pbft.peersAhead. */
  reportedPeersAhead: number;
}

export type PbftTimer = 'propose' | 'prevote' | 'precommit';

export type PbftEvent =
  | { type: 'PROPOSAL'; proposal: SignedProposal }
  | { type: 'VOTE'; vote: Vote }
  | { type: 'BLOCK_READY'; block: Block }
  | { type: 'TXS_WAITING' }
  | { type: 'PROPOSE_TIMEOUT'; height: number; round: number }
  | { type: 'PREVOTE_TIMEOUT'; height: number; round: number }
  | { type: 'PRECOMMIT_TIMEOUT'; height: number; round: number }
  | { type: 'LEADER_CHANGED'; leader: NodeId; term: number }
  | { type: 'START_HEIGHT'; height: number; validators?: readonly NodeId[] };

export type PbftEffect =
  | { type: 'pbft.persist'; record: PbftRecord }
  | { type: 'pbft.broadcastProposal'; proposal: Proposal }
  | { type: 'pbft.broadcastVote'; vote: UnsignedVote }
  | { type: 'pbft.requestBlock'; height: number; round: number }
  | { type: 'pbft.roundStarted'; height: number; round: number; proposer: NodeId }
  | {
      type: 'pbft.commit';
      height: number;
      round: number;
      blockHash: string;
      block: Block | null;
      certificate: CommitCertificate;
    }
  | {
      type: 'pbft.equivocation';
      voter: NodeId;
      height: number;
      round: number;
      voteType: VoteType;
      first: Choice;
      second: Choice;
    }
  | { type: 'pbft.peersAhead'; height: number }
  | { type: 'timer.arm'; timer: PbftTimer; height: number; round: number };

// ── helpers over the context ─────────────────────────────────────────────────────────────────────

function hearingOf(context: PbftContext, round = context.round): Hearing {
  return {
    networkId: context.networkId,
    round,
    proposerOf: (r) => proposerOf(context.validators, context.leader, r, context.height),
    limit: context.maxBufferedPerSender,
  };
}

export function proposerOfRound(context: PbftContext): NodeId {
  return proposerOf(context.validators, context.leader, context.round, context.height);
}

export function currentProposal(context: PbftContext): SignedProposal | null {
  return roundLog(context.log, context.round).proposal;
}

function proposalBlock(context: PbftContext): Block {
  const proposal = currentProposal(context);
  if (proposal === null) throw new Error('no proposal in this round: guard order is wrong');
  return proposal.block;
}

function hasPolka(context: PbftContext, round: number, blockHash: Choice): boolean {
  return voteResult(roundLog(context.log, round).prevotes, blockHash) === 'won';
}

export function recordOf(context: PbftContext): PbftRecord {
  const { height, round, lastSigned, lockedRound, lockedBlockHash, validRound, validBlockHash } = context;
  return { height, round, lastSigned, lockedRound, lockedBlockHash, validRound, validBlockHash };
}

/** Moves to `round` of the current height: fresh per-round state, early messages for it replayed. */
function enterRound(context: PbftContext, round: number): Partial<PbftContext> {
  return {
    round,
    lastSigned: 'none',
    readyBlock: null,
    requestedBlock: false,
    precommitTimerArmed: false,
    log: replayBuffered(context.log, hearingOf(context, round)),
  };
}

function unsignedVote(context: PbftContext, type: VoteType, blockHash: string | null): UnsignedVote {
  return {
    type,
    networkId: context.networkId,
    height: context.height,
    round: context.round,
    blockHash,
    voter: context.self,
  };
}

function initialContext(input: PbftInput): PbftContext {
  const restored = input.restored?.height === input.height ? input.restored : null;
  const quorum = input.quorum ?? quorumSize;
  const body = (hash: string | null | undefined): Block | null =>
    (hash && input.restoredBlocks?.find((b) => b.seal === hash && b.height === input.height)) || null;
  return {
    self: input.self,
    networkId: input.networkId,
    validators: input.validators,
    leader: input.leader ?? null,
    height: input.height,
    round: restored?.round ?? 0,
    lastSigned: restored?.lastSigned ?? 'none',
    lockedRound: restored?.lockedRound ?? -1,
    lockedBlockHash: restored?.lockedBlockHash ?? null,
    lockedBlock: body(restored?.lockedBlockHash),
    validRound: restored?.validRound ?? -1,
    validBlockHash: restored?.validBlockHash ?? null,
    validBlock: body(restored?.validBlockHash),
    readyBlock: null,
    requestedBlock: false,
    precommitTimerArmed: false,
    log: emptyHeightLog(input.height, input.validators, quorum(input.validators.length)),
    maxBufferedPerSender: input.maxBufferedPerSender ?? 64,
    quorum,
    reportedPeersAhead: input.height,
  };
}

/** Signing something: record it, persist the record, then emit the message (persist-before-send). */
function signing(context: PbftContext, step: SignedStep): { lastSigned: SignedStep; effect: PbftEffect } {
  return {
    lastSigned: step,
    effect: { type: 'pbft.persist', record: { ...recordOf(context), lastSigned: step } },
  };
}

export const pbftRoundMachine = setup({
  types: {
    context: {} as PbftContext,
    events: {} as PbftEvent,
    input: {} as PbftInput,
    emitted: {} as PbftEffect,
  },
  guards: {
    // Resuming after a restart: never sign a second, different message in the restored round.
    signedPreCommitBeforeRestart: ({ context }) => context.lastSigned === 'precommit',
    signedPreVoteBeforeRestart: ({ context }) => context.lastSigned === 'prevote',
    signedProposalBeforeRestart: ({ context }) => context.lastSigned === 'proposal',

    isProposer: ({ context }) => proposerOfRound(context) === context.self,
    hasNotProposed: ({ context }) => context.lastSigned === 'none',
    hasBlockToPropose: ({ context }) =>
      context.validBlock !== null ||
      (context.readyBlock !== null && context.readyBlock.height === context.height),
    hasNotRequestedBlock: ({ context }) => !context.requestedBlock,
    isBlockForCurrentHeight: ({ context, event }) =>
      event.type === 'BLOCK_READY' && event.block.height === context.height,

    hasProposal: ({ context }) => currentProposal(context) !== null,
    isProposalJustified: ({ context }) => {
      const proposal = currentProposal(context);
      if (proposal === null) return false;
      const vr = proposal.validRound;
      return vr === -1 || (vr >= 0 && vr < context.round && hasPolka(context, vr, proposal.block.seal));
    },
    /** The host's verdict: plug it in with createPbftRoundMachine. This default checks only the height. */
    isValidProposal: ({ context }) => currentProposal(context)?.block.height === context.height,
    lockAllowsProposal: ({ context }) => {
      const proposal = currentProposal(context);
      if (proposal === null) return false;
      return (
        context.lockedRound === -1 ||
        context.lockedBlockHash === proposal.block.seal ||
        (proposal.validRound >= 0 && context.lockedRound <= proposal.validRound)
      );
    },
    hasPolkaForProposal: ({ context }) => {
      const proposal = currentProposal(context);
      return proposal !== null && hasPolka(context, context.round, proposal.block.seal);
    },
    hasPolkaForNil: ({ context }) => hasPolka(context, context.round, null),
    hasNewerPolkaFromEarlierRound: ({ context }) =>
      newestPolkaBetween(context.log, context.validRound, context.round) !== undefined,
    isNotYetValidBlock: ({ context }) =>
      !(
        context.validRound === context.round &&
        context.validBlockHash === currentProposal(context)?.block.seal
      ),
    hasQuorumOfPreCommits: ({ context }) => decision(context.log) !== undefined,
    hasSkipAheadQuorum: ({ context }) => laterRoundWithOneHonest(context.log, context.round) !== undefined,
    hasQuorumOfAnyPreCommits: ({ context }) =>
      hasQuorumOfAnyVotes(roundLog(context.log, context.round).precommits),
    hasNotArmedPrecommitTimer: ({ context }) => !context.precommitTimerArmed,
    isHeightUnderway: ({ context }) =>
      currentProposal(context) !== null ||
      hasOneHonestVoter(activeValidators(context.log), context.validators.length),
    isTimeoutForCurrentRound: ({ context, event }) =>
      (event.type === 'PROPOSE_TIMEOUT' ||
        event.type === 'PREVOTE_TIMEOUT' ||
        event.type === 'PRECOMMIT_TIMEOUT') &&
      event.height === context.height &&
      event.round === context.round,
    isLaterHeight: ({ context, event }) => event.type === 'START_HEIGHT' && event.height > context.height,
    hasPeersAhead: ({ context }) => (heightReachedByOneHonest(context.log) ?? 0) > context.reportedPeersAhead,
  },
  actions: {
    acceptProposal: assign(({ context, event }) => {
      if (event.type !== 'PROPOSAL') return {};
      const [log] = hear(context.log, { kind: 'proposal', proposal: event.proposal }, hearingOf(context));
      return { log };
    }),
    acceptVote: enqueueActions(({ context, event, enqueue }) => {
      if (event.type !== 'VOTE') return;
      const message: PbftMessage = { kind: 'vote', vote: event.vote };
      const [log, outcome] = hear(context.log, message, hearingOf(context));
      enqueue.assign({ log });
      if (outcome.kind === 'equivocation' && outcome.first !== undefined) {
        const { voter, height, round, type, blockHash } = outcome.vote;
        enqueue.emit({
          type: 'pbft.equivocation',
          voter,
          height,
          round,
          voteType: type,
          first: outcome.first,
          second: blockHash,
        });
      }
    }),
    followLeader: assign(({ event }) => (event.type === 'LEADER_CHANGED' ? { leader: event.leader } : {})),
    enterHeight: assign(({ context, event }) => {
      if (event.type !== 'START_HEIGHT') return {};
      const validators = event.validators ?? context.validators;
      const next = { ...context, height: event.height, validators, round: 0 };
      return {
        height: event.height,
        validators,
        round: 0,
        lastSigned: 'none' as const,
        lockedRound: -1,
        lockedBlockHash: null,
        lockedBlock: null,
        validRound: -1,
        validBlockHash: null,
        validBlock: null,
        readyBlock: null,
        requestedBlock: false,
        precommitTimerArmed: false,
        log: moveToHeight(
          context.log,
          event.height,
          validators,
          hearingOf(next, 0),
          context.quorum(validators.length),
        ),
        reportedPeersAhead: Math.max(context.reportedPeersAhead, event.height),
      };
    }),
    rememberReadyBlock: assign(({ event }) =>
      event.type === 'BLOCK_READY' ? { readyBlock: event.block } : {},
    ),
    requestBlock: enqueueActions(({ context, enqueue }) => {
      enqueue.assign({ requestedBlock: true });
      enqueue.emit({ type: 'pbft.requestBlock', height: context.height, round: context.round });
    }),
    /** Tendermint: propose the valid block (with its validRound) if there is one, else a new block. */
    broadcastProposal: enqueueActions(({ context, enqueue }) => {
      const block = context.validBlock ?? context.readyBlock;
      if (block === null) return;
      const validRound = context.validBlock !== null ? context.validRound : -1;
      const { lastSigned, effect } = signing(context, 'proposal');
      enqueue.assign({ lastSigned });
      enqueue.emit(effect);
      enqueue.emit({
        type: 'pbft.broadcastProposal',
        proposal: {
          kind: 'Proposal',
          networkId: context.networkId,
          height: context.height,
          round: context.round,
          block,
          validRound,
          proposer: context.self,
        },
      });
    }),
    broadcastPreVoteForProposal: enqueueActions(({ context, enqueue }) => {
      const { lastSigned, effect } = signing(context, 'prevote');
      enqueue.assign({ lastSigned });
      enqueue.emit(effect);
      enqueue.emit({
        type: 'pbft.broadcastVote',
        vote: unsignedVote(context, 'prevote', proposalBlock(context).seal),
      });
    }),
    broadcastPreVoteNil: enqueueActions(({ context, enqueue }) => {
      const { lastSigned, effect } = signing(context, 'prevote');
      enqueue.assign({ lastSigned });
      enqueue.emit(effect);
      enqueue.emit({ type: 'pbft.broadcastVote', vote: unsignedVote(context, 'prevote', null) });
    }),
    /** Line 36: after a polka for the proposal, lock on it and remember it as the valid block. */
    lockOnBlock: assign(({ context }) => {
      const block = proposalBlock(context);
      return {
        lockedRound: context.round,
        lockedBlockHash: block.seal,
        lockedBlock: block,
        validRound: context.round,
        validBlockHash: block.seal,
        validBlock: block,
      };
    }),
    /** A polka of an earlier round, newer than the valid block, seen late (relayed): the new valid block. */
    adoptNewerValidBlock: assign(({ context }) => {
      const polka = newestPolkaBetween(context.log, context.validRound, context.round);
      if (polka === undefined) return {};
      return { validRound: polka.round, validBlockHash: polka.block.seal, validBlock: polka.block };
    }),
    rememberValidBlock: assign(({ context }) => {
      const block = proposalBlock(context);
      return { validRound: context.round, validBlockHash: block.seal, validBlock: block };
    }),
    broadcastPreCommitForProposal: enqueueActions(({ context, enqueue }) => {
      const { lastSigned, effect } = signing(context, 'precommit');
      enqueue.assign({ lastSigned });
      enqueue.emit(effect);
      enqueue.emit({
        type: 'pbft.broadcastVote',
        vote: unsignedVote(context, 'precommit', proposalBlock(context).seal),
      });
    }),
    broadcastPreCommitNil: enqueueActions(({ context, enqueue }) => {
      const { lastSigned, effect } = signing(context, 'precommit');
      enqueue.assign({ lastSigned });
      enqueue.emit(effect);
      enqueue.emit({ type: 'pbft.broadcastVote', vote: unsignedVote(context, 'precommit', null) });
    }),
    startNextRound: assign(({ context }) => enterRound(context, context.round + 1)),
    skipToLaterRound: assign(({ context }) =>
      enterRound(context, laterRoundWithOneHonest(context.log, context.round) ?? context.round),
    ),
    announceRound: emit(({ context }) => ({
      type: 'pbft.roundStarted' as const,
      height: context.height,
      round: context.round,
      proposer: proposerOfRound(context),
    })),
    armProposeTimer: emit(({ context }) => ({
      type: 'timer.arm' as const,
      timer: 'propose' as const,
      height: context.height,
      round: context.round,
    })),
    armPrevoteTimer: emit(({ context }) => ({
      type: 'timer.arm' as const,
      timer: 'prevote' as const,
      height: context.height,
      round: context.round,
    })),
    armPrecommitTimer: enqueueActions(({ context, enqueue }) => {
      enqueue.assign({ precommitTimerArmed: true });
      enqueue.emit({ type: 'timer.arm', timer: 'precommit', height: context.height, round: context.round });
    }),
    commitBlock: emit(({ context }) => {
      const decided = decision(context.log);
      if (decided === undefined) throw new Error('commitBlock without a decision: guard order is wrong');
      const { round, blockHash } = decided;
      const block =
        blockWithHash(context.log, blockHash) ??
        (context.validBlock?.seal === blockHash ? context.validBlock : null) ??
        (context.lockedBlock?.seal === blockHash ? context.lockedBlock : null);
      return {
        type: 'pbft.commit' as const,
        height: context.height,
        round,
        blockHash,
        block,
        certificate: certificateFor(context.log, round, blockHash),
      };
    }),
    reportPeersAhead: enqueueActions(({ context, enqueue }) => {
      const height = heightReachedByOneHonest(context.log);
      if (height === undefined) return;
      enqueue.assign({ reportedPeersAhead: height });
      enqueue.emit({ type: 'pbft.peersAhead', height });
    }),
  },
}).createMachine({
  id: 'pbft',
  context: ({ input }) => initialContext(input),
  initial: 'resuming',
  on: {
    PROPOSAL: { actions: 'acceptProposal' },
    VOTE: { actions: 'acceptVote' },
    LEADER_CHANGED: { actions: 'followLeader' },
    START_HEIGHT: { guard: 'isLaterHeight', target: '.idle', actions: 'enterHeight' },
  },
  always: { guard: 'hasPeersAhead', actions: 'reportPeersAhead' },
  states: {
    resuming: {
      always: [
        { guard: 'signedPreCommitBeforeRestart', target: 'round.precommit' },
        { guard: 'signedPreVoteBeforeRestart', target: 'round.prevote' },
        { guard: 'signedProposalBeforeRestart', target: 'round.propose' },
        { target: 'idle' },
      ],
    },
    idle: {
      // Nothing to decide yet: no timers run until there is work.
      on: {
        TXS_WAITING: { target: 'round' },
        BLOCK_READY: {
          guard: and(['isProposer', 'isBlockForCurrentHeight']),
          target: 'round',
          actions: 'rememberReadyBlock',
        },
      },
      always: [
        { guard: 'hasSkipAheadQuorum', target: 'round', actions: 'skipToLaterRound' },
        { guard: 'isHeightUnderway', target: 'round' },
      ],
    },
    round: {
      initial: 'propose',
      entry: 'announceRound',
      on: {
        PRECOMMIT_TIMEOUT: {
          guard: 'isTimeoutForCurrentRound',
          target: '.propose',
          reenter: true,
          actions: 'startNextRound',
        },
      },
      always: [
        { guard: 'hasQuorumOfPreCommits', target: 'committed' },
        { guard: 'hasSkipAheadQuorum', target: '.propose', reenter: true, actions: 'skipToLaterRound' },
        // Line 47: the round may end only once 2f+1 validators precommitted in it, whatever for.
        {
          guard: and(['hasQuorumOfAnyPreCommits', 'hasNotArmedPrecommitTimer']),
          actions: 'armPrecommitTimer',
        },
        // The valid block follows the newest polka this node knows of, even one of an earlier round.
        { guard: 'hasNewerPolkaFromEarlierRound', actions: 'adoptNewerValidBlock' },
      ],
      states: {
        propose: {
          entry: 'armProposeTimer',
          on: {
            BLOCK_READY: {
              guard: and(['isProposer', 'hasNotProposed', 'isBlockForCurrentHeight']),
              actions: 'rememberReadyBlock',
            },
            PROPOSE_TIMEOUT: {
              guard: 'isTimeoutForCurrentRound',
              target: 'prevote',
              actions: 'broadcastPreVoteNil',
            },
          },
          always: [
            // StartRound: the proposer proposes (the valid block if it has one), or asks the host for a block.
            {
              guard: and(['isProposer', 'hasNotProposed', 'hasBlockToPropose']),
              actions: 'broadcastProposal',
            },
            { guard: and(['isProposer', 'hasNotProposed', 'hasNotRequestedBlock']), actions: 'requestBlock' },
            // Lines 22 and 28: prevote the proposal if it is justified, valid and the lock allows it…
            {
              guard: and(['hasProposal', 'isProposalJustified', 'lockAllowsProposal', 'isValidProposal']),
              target: 'prevote',
              actions: 'broadcastPreVoteForProposal',
            },
            // …and nil if it is justified but invalid or forbidden by the lock.
            {
              guard: and(['hasProposal', 'isProposalJustified']),
              target: 'prevote',
              actions: 'broadcastPreVoteNil',
            },
          ],
        },
        prevote: {
          entry: 'armPrevoteTimer',
          on: {
            PREVOTE_TIMEOUT: {
              guard: 'isTimeoutForCurrentRound',
              target: 'precommit',
              actions: 'broadcastPreCommitNil',
            },
          },
          always: [
            {
              guard: and(['hasProposal', 'hasPolkaForProposal', 'isValidProposal']),
              target: 'precommit',
              actions: ['lockOnBlock', 'broadcastPreCommitForProposal'],
            },
            { guard: 'hasPolkaForNil', target: 'precommit', actions: 'broadcastPreCommitNil' },
          ],
        },
        precommit: {
          always: {
            // Line 36 once already precommitted: a polka seen late still makes the block the valid one.
            guard: and(['hasProposal', 'hasPolkaForProposal', 'isNotYetValidBlock', 'isValidProposal']),
            actions: 'rememberValidBlock',
          },
        },
      },
    },
    committed: {
      // Decided; the host stores the block and answers with START_HEIGHT for the next height.
      entry: 'commitBlock',
    },
  },
});

export type PbftRoundMachine = typeof pbftRoundMachine;

export interface PbftRoundOptions {
  /** The host's full check of a proposed block for `height` (domain/validation.ts validateNextBlock). */
  isValidBlock: (block: Block, height: number) => boolean;
}

/** The machine with the host's block validation plugged in as the isValidProposal guard. */
export function createPbftRoundMachine(options: PbftRoundOptions): PbftRoundMachine {
  return pbftRoundMachine.provide({
    guards: {
      isValidProposal: ({ context }) => {
        const proposal = currentProposal(context);
        return proposal !== null && options.isValidBlock(proposal.block, context.height);
      },
    },
  });
}
