// Tx batching (SPEC §4): the TxPool side of a node and the leader's batcher, as one pure statechart.
//
// Every node keeps the valid txs it is given in its pool until a block carrying them commits. A member
// forwards them to the leader; the leader's batcher cuts a batch when `maxBatchTxs` txs wait or when
// `batchIntervalMs` has passed since txs started waiting. A tx leaves the pool only when it commits (the
// 2018 original dropped it at proposal), so txs of a round that fails are simply proposed again.
//
// One batch is in flight at a time: PBFT decides one height at a time, so a second batch could only
// queue; leaving its txs in the pool lets them fill a bigger batch instead, and "never in two
// in-flight batches" holds by construction.
//
// Events in (the host sends them):
//   TX_SUBMITTED     {tx, verdict, origin?}  a tx from a client of this node (no origin) or forwarded
//                                            by member `origin`. `verdict` is the host's validation
//                                            (signature, id, size, not already on chain).
//   LEADER_CHANGED   {leader, term?}         the election's answer: a node ID, or null while there is none.
//   BATCH_TIMEOUT    {}                      the batch timer this machine armed has run out.
//   BLOCK_COMMITTED  {height, txIds}         a block committed (by any leader); its txs leave the pool.
//                                            Concludes the batch in flight: PBFT decided that height.
//   BATCH_FAILED     {batchId}               the round for that batch ended without committing it.
//
// Effects out (emitted; the host subscribes with actor.on(type, ...)):
//   tx.accepted   {id, origin}          stored in the pool (the API answers 202).
//   tx.duplicate  {id, origin}          already pending here: ignored, the pool is unchanged.
//   tx.rejected   {id, reason, origin}  refused: the verdict's reason, or POOL_FULL ('pool full').
//   tx.forward    {to, txs}             a member hands txs to the leader (all of them on a leader change;
//                                       never a tx back to the leader that sent it).
//   batch.ready   {batchId, txs}        the leader's next block content; the host proposes it.
//   pool.changed  {size, waiting}       the pool's size after a change (for /status and metrics).
//   work.pending  {size}                the pool became non-empty: txs wait, a leader must make progress.
//   work.done     {}                    the pool became empty again.
//   timer.arm     {timer: 'batch', ms}  start (or restart) the batch timer.
//   timer.cancel  {timer: 'batch'}      stop it; the host must not deliver its BATCH_TIMEOUT afterwards.

import { and, enqueueActions, not, setup } from 'xstate';
import type { NodeId } from '../domain/identity.ts';
import type { Transaction } from '../domain/transaction.ts';
import {
  addTx,
  EMPTY_TX_POOL,
  hasTx,
  pooledTxs,
  poolSize,
  releaseProposed,
  removeTxs,
  type TxPool,
  takeBatch,
  waitingCount,
} from './tx-pool.ts';

export const POOL_FULL = 'pool full';

export type TxVerdict = { ok: true } | { ok: false; reason: string };

export interface BatchingInput {
  self: NodeId;
  /** The leader known at start, if any. */
  leader?: NodeId | null;
  maxBatchTxs: number;
  batchIntervalMs: number;
  maxPoolTxs: number;
}

export interface BatchingContext {
  self: NodeId;
  leader: NodeId | null;
  maxBatchTxs: number;
  batchIntervalMs: number;
  maxPoolTxs: number;
  pool: TxPool;
  /** Id of the batch in flight, null when none. */
  batchInFlight: number | null;
  /** Last batch id handed out; ids only grow, so a late BATCH_FAILED cannot hit a newer batch. */
  lastBatchId: number;
}

export type BatchingEvent =
  | { type: 'TX_SUBMITTED'; tx: Transaction; verdict: TxVerdict; origin?: NodeId }
  | { type: 'LEADER_CHANGED'; leader: NodeId | null; term?: number }
  | { type: 'BATCH_TIMEOUT' }
  | { type: 'BLOCK_COMMITTED'; height: number; txIds: readonly string[] }
  | { type: 'BATCH_FAILED'; batchId: number };

export type BatchingEffect =
  | { type: 'tx.accepted'; id: string; origin: NodeId | null }
  | { type: 'tx.duplicate'; id: string; origin: NodeId | null }
  | { type: 'tx.rejected'; id: string; reason: string; origin: NodeId | null }
  | { type: 'tx.forward'; to: NodeId; txs: Transaction[] }
  | { type: 'batch.ready'; batchId: number; txs: Transaction[] }
  | { type: 'pool.changed'; size: number; waiting: number }
  | { type: 'work.pending'; size: number }
  | { type: 'work.done' }
  | { type: 'timer.arm'; timer: 'batch'; ms: number }
  | { type: 'timer.cancel'; timer: 'batch' };

type Submitted = Extract<BatchingEvent, { type: 'TX_SUBMITTED' }>;

function submitted(event: BatchingEvent): Submitted {
  if (event.type !== 'TX_SUBMITTED') throw new Error(`expected TX_SUBMITTED, got ${event.type}`);
  return event;
}

/** The effects that say how the pool changed between two versions of it. */
function poolReports(before: TxPool, after: TxPool): BatchingEffect[] {
  const effects: BatchingEffect[] = [];
  if (poolSize(before) === poolSize(after)) return effects;
  effects.push({ type: 'pool.changed', size: poolSize(after), waiting: waitingCount(after) });
  if (poolSize(before) === 0) effects.push({ type: 'work.pending', size: poolSize(after) });
  if (poolSize(after) === 0) effects.push({ type: 'work.done' });
  return effects;
}

export const batchingMachine = setup({
  types: {
    input: {} as BatchingInput,
    context: {} as BatchingContext,
    events: {} as BatchingEvent,
    emitted: {} as BatchingEffect,
  },
  guards: {
    hasInvalidVerdict: ({ event }) => !submitted(event).verdict.ok,
    isAlreadyInPool: ({ context, event }) => hasTx(context.pool, submitted(event).tx.id),
    isPoolFull: ({ context }) => poolSize(context.pool) >= context.maxPoolTxs,
    isAcceptable: and([not('hasInvalidVerdict'), not('isAlreadyInPool'), not('isPoolFull')]),
    isOneTxShortOfBatch: ({ context }) => waitingCount(context.pool) + 1 >= context.maxBatchTxs,
    completesBatch: and(['isAcceptable', 'isOneTxShortOfBatch']),
    hasFullBatchWaiting: ({ context }) => waitingCount(context.pool) >= context.maxBatchTxs,
    hasTxsWaiting: ({ context }) => waitingCount(context.pool) > 0,
    leavesNothingWaiting: ({ context, event }) =>
      event.type === 'BLOCK_COMMITTED' && waitingCount(removeTxs(context.pool, event.txIds)) === 0,
    isBatchInFlight: ({ context, event }) =>
      event.type === 'BATCH_FAILED' && event.batchId === context.batchInFlight,
    selfIsLeader: ({ context }) => context.leader === context.self,
    knowsLeader: ({ context }) => context.leader !== null,
    isSameLeader: ({ context, event }) => event.type === 'LEADER_CHANGED' && event.leader === context.leader,
    namesThisNode: ({ context, event }) => event.type === 'LEADER_CHANGED' && event.leader === context.self,
    namesAnotherNode: ({ event }) => event.type === 'LEADER_CHANGED' && event.leader !== null,
  },
  actions: {
    storeTx: enqueueActions(({ context, event, enqueue }) => {
      const { tx, origin } = submitted(event);
      const pool = addTx(context.pool, tx);
      enqueue.assign({ pool });
      enqueue.emit({ type: 'tx.accepted', id: tx.id, origin: origin ?? null });
      for (const effect of poolReports(context.pool, pool)) enqueue.emit(effect);
    }),
    reportDuplicate: enqueueActions(({ event, enqueue }) => {
      const { tx, origin } = submitted(event);
      enqueue.emit({ type: 'tx.duplicate', id: tx.id, origin: origin ?? null });
    }),
    rejectInvalidTx: enqueueActions(({ event, enqueue }) => {
      const { tx, verdict, origin } = submitted(event);
      const reason = verdict.ok ? 'invalid' : verdict.reason;
      enqueue.emit({ type: 'tx.rejected', id: tx.id, reason, origin: origin ?? null });
    }),
    rejectPoolFull: enqueueActions(({ event, enqueue }) => {
      const { tx, origin } = submitted(event);
      enqueue.emit({ type: 'tx.rejected', id: tx.id, reason: POOL_FULL, origin: origin ?? null });
    }),
    forwardTxToLeader: enqueueActions(({ context, event, enqueue }) => {
      const { tx, origin } = submitted(event);
      // A tx the leader itself handed over (to a round's proposer) is not echoed back to it.
      if (context.leader === null || origin === context.leader) return;
      enqueue.emit({ type: 'tx.forward', to: context.leader, txs: [tx] });
    }),
    forwardPoolToLeader: enqueueActions(({ context, enqueue }) => {
      if (context.leader === null || poolSize(context.pool) === 0) return;
      enqueue.emit({ type: 'tx.forward', to: context.leader, txs: pooledTxs(context.pool) });
    }),
    recordLeader: enqueueActions(({ event, enqueue }) => {
      if (event.type === 'LEADER_CHANGED') enqueue.assign({ leader: event.leader });
    }),
    removeCommittedTxs: enqueueActions(({ context, event, enqueue }) => {
      if (event.type !== 'BLOCK_COMMITTED') return;
      const pool = removeTxs(context.pool, event.txIds);
      enqueue.assign({ pool });
      for (const effect of poolReports(context.pool, pool)) enqueue.emit(effect);
    }),
    cutBatch: enqueueActions(({ context, enqueue }) => {
      const { pool, txs } = takeBatch(context.pool, context.maxBatchTxs);
      const batchId = context.lastBatchId + 1;
      enqueue.assign({ pool, batchInFlight: batchId, lastBatchId: batchId });
      enqueue.emit({ type: 'batch.ready', batchId, txs });
    }),
    returnBatchToPool: enqueueActions(({ context, enqueue }) => {
      enqueue.assign({ pool: releaseProposed(context.pool), batchInFlight: null });
    }),
    armBatchTimer: enqueueActions(({ context, enqueue }) => {
      enqueue.emit({ type: 'timer.arm', timer: 'batch', ms: context.batchIntervalMs });
    }),
    cancelBatchTimer: enqueueActions(({ enqueue }) => {
      enqueue.emit({ type: 'timer.cancel', timer: 'batch' });
    }),
  },
}).createMachine({
  id: 'batching',
  context: ({ input }) => ({
    self: input.self,
    leader: input.leader ?? null,
    maxBatchTxs: input.maxBatchTxs,
    batchIntervalMs: input.batchIntervalMs,
    maxPoolTxs: input.maxPoolTxs,
    pool: EMPTY_TX_POOL,
    batchInFlight: null,
    lastBatchId: 0,
  }),
  initial: 'starting',
  // Handled the same in every role; a role's own transitions for these events are tried first.
  on: {
    TX_SUBMITTED: [
      { guard: 'hasInvalidVerdict', actions: 'rejectInvalidTx' },
      { guard: 'isAlreadyInPool', actions: 'reportDuplicate' },
      { guard: 'isPoolFull', actions: 'rejectPoolFull' },
      { actions: 'storeTx' },
    ],
    BLOCK_COMMITTED: { actions: 'removeCommittedTxs' },
    LEADER_CHANGED: [
      // A re-announced leader (say, a new term, same node) changes nothing here; if its round is
      // abandoned the host says so with BATCH_FAILED.
      { guard: 'isSameLeader' },
      { guard: 'namesThisNode', target: '.leading', actions: 'recordLeader' },
      { guard: 'namesAnotherNode', target: '.following', actions: 'recordLeader' },
      { target: '.leaderless', actions: 'recordLeader' },
    ],
  },
  states: {
    starting: {
      description: 'Picks the role from the leader given as input.',
      always: [
        { guard: 'selfIsLeader', target: 'leading' },
        { guard: 'knowsLeader', target: 'following' },
        { target: 'leaderless' },
      ],
    },
    leaderless: { description: 'No leader known: txs are kept and wait for one.' },
    following: {
      description:
        'Another node leads: each new tx is forwarded to it, and on entry (a new leader) the whole pool.',
      entry: 'forwardPoolToLeader',
      on: {
        TX_SUBMITTED: { guard: 'isAcceptable', actions: ['storeTx', 'forwardTxToLeader'] },
      },
    },
    leading: {
      description: 'This node leads: its batcher cuts batches.',
      initial: 'deciding',
      // Leadership lost: the batch in flight is void here, its txs wait again (and are forwarded).
      exit: 'returnBatchToPool',
      states: {
        deciding: {
          description: 'Cuts a full batch at once, or starts collecting, or idles.',
          always: [
            { guard: 'hasFullBatchWaiting', actions: 'cutBatch', target: 'proposing' },
            { guard: 'hasTxsWaiting', target: 'collecting' },
            { target: 'idle' },
          ],
        },
        idle: {
          description: 'No tx waits.',
          on: {
            TX_SUBMITTED: [
              { guard: 'completesBatch', actions: ['storeTx', 'cutBatch'], target: 'proposing' },
              { guard: 'isAcceptable', actions: 'storeTx', target: 'collecting' },
            ],
          },
        },
        collecting: {
          description:
            'Txs wait and the batch timer runs; the batch is cut when it fills or the timer fires.',
          entry: 'armBatchTimer',
          exit: 'cancelBatchTimer',
          on: {
            TX_SUBMITTED: {
              guard: 'completesBatch',
              actions: ['storeTx', 'cutBatch'],
              target: 'proposing',
            },
            BATCH_TIMEOUT: { actions: 'cutBatch', target: 'proposing' },
            BLOCK_COMMITTED: {
              guard: 'leavesNothingWaiting',
              actions: 'removeCommittedTxs',
              target: 'idle',
            },
          },
        },
        proposing: {
          description: 'A batch is in flight; new txs wait in the pool for the next one.',
          on: {
            BLOCK_COMMITTED: { actions: ['removeCommittedTxs', 'returnBatchToPool'], target: 'deciding' },
            BATCH_FAILED: { guard: 'isBatchInFlight', actions: 'returnBatchToPool', target: 'deciding' },
          },
        },
      },
    },
  },
});
