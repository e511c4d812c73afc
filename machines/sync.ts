// Sync with block pool (SPEC §4): how a node that joins or restarts catches up with the chain, as one
// pure statechart.
//
// It asks its peers for their heights, fetches the missing blocks in batches (`batchSize`, 64 by
// default) from any peer that claims them, round-robin, and applies them one at a time in height order.
// Every block, fetched or announced, waits in the block pool (machines/block-pool.ts) until it is the
// next one; right before it is applied it must pass `isVerifiedBlock` (its commit certificate: 2f+1
// PreCommits for this very block), a guard the host provides, because this machine does no crypto. A
// peer that sent a bad block, or answered without the blocks it claims, is dropped for the rest of this
// sync and its blocks are fetched from another. A peer that does not answer in `fetchTimeoutMs` is
// passed over for the next one, and dropped after `maxPeerTimeouts` silences. Blocks the network
// commits meanwhile arrive as COMMITTED_ELSEWHERE and are parked the same way.
//
// Time is what the host stamps on each event (`now`, ms): the rate and ETA in sync.progress come
// from those stamps, never from a clock.
//
// Events in (each carries `now`, the host's time in ms):
//   SYNC_START          {}                         begin: the node joined or restarted.
//   PEER_STATUS         {peer, height}             a peer's committed height (answer or gossip).
//   PEER_DISCONNECTED   {peer}                     the peer is gone; stop asking it.
//   BLOCKS_RECEIVED     {peer, requestId, blocks}  an answer to blocks.request; blocks: {block, cert}[].
//   COMMITTED_ELSEWHERE {peer, block, cert}        a block the network committed, announced by `peer`.
//   BLOCK_APPLIED       {height}                   the host stored the block of block.apply.
//   BLOCK_APPLY_FAILED  {height, reason}           the host refused to store it (link, txs, state).
//   BLOCK_COMMITTED     {height}                   the node's own consensus stored a block.
//   STATUS_TIMEOUT      {}                         the 'status' timer this machine armed ran out.
//   FETCH_TIMEOUT       {}                         the 'fetch' timer this machine armed ran out.
//
// Effects out (emitted; the host subscribes with actor.on(type, ...)):
//   status.request {}                           ask every connected peer for its height.
//   blocks.request {peer, requestId, from, to}  ask one peer for blocks from..to (inclusive).
//   block.apply    {block, cert}                store this block (always the next height), then answer
//                                               BLOCK_APPLIED or BLOCK_APPLY_FAILED. If the node's own
//                                               consensus stored that height meanwhile, answer APPLIED.
//   sync.started   {height, target}             catching up begins.
//   sync.progress  {height, target, blocksPerSecond?, etaMs?}  after each applied block.
//   sync.completed {height}                     caught up with every peer it still trusts.
//   peer.dropped   {peer, reason}               not asked again, its blocks discarded, for this sync.
//   timer.arm      {timer: 'status'|'fetch', ms}  start that timer (replacing a running one).
//   timer.cancel   {timer: 'status'|'fetch'}      stop it; its timeout event must not follow.

import { and, enqueueActions, setup } from 'xstate';
import type { Block } from '../domain/block.ts';
import type { CommitCertificate } from '../domain/commit-certificate.ts';
import type { NodeId } from '../domain/identity.ts';
import {
  type BlockPool,
  type CertifiedBlock,
  dropFromSource,
  dropThrough,
  emptyBlockPool,
  highestParked,
  lowestParkedAbove,
  type ParkedBlock,
  parkBlock,
  parkedAt,
} from './block-pool.ts';

export const SYNC_DEFAULTS = {
  batchSize: 64,
  fetchTimeoutMs: 5_000,
  statusTimeoutMs: 2_000,
  maxPeerTimeouts: 3,
  poolCapacity: 1_024,
};

export interface SyncInput {
  /** Height of the last block this node has stored (0: genesis only). */
  height: number;
  batchSize?: number;
  fetchTimeoutMs?: number;
  statusTimeoutMs?: number;
  maxPeerTimeouts?: number;
  poolCapacity?: number;
}

export interface PeerView {
  /** The height the peer last claimed. */
  height: number;
  /** Requests it left unanswered during this sync. */
  timeouts: number;
}

export interface BlocksRequest {
  id: number;
  peer: NodeId;
  from: number;
  to: number;
}

export interface SyncContext {
  height: number;
  peers: ReadonlyMap<NodeId, PeerView>;
  /** Peers dropped for this sync (bad blocks, empty answers, silence); cleared once synced. */
  dropped: ReadonlySet<NodeId>;
  pool: BlockPool;
  /** The last blocks request sent; awaited only while fetching. */
  request: BlocksRequest | null;
  lastRequestId: number;
  /** Height handed to the host with block.apply and not yet answered. */
  applying: number | null;
  /** Where and when this sync began, for the rate. */
  episode: { startedAt: number; startHeight: number } | null;
  batchSize: number;
  fetchTimeoutMs: number;
  statusTimeoutMs: number;
  maxPeerTimeouts: number;
}

export type SyncTimer = 'status' | 'fetch';

export type SyncEvent =
  | { type: 'SYNC_START'; now: number }
  | { type: 'PEER_STATUS'; peer: NodeId; height: number; now: number }
  | { type: 'PEER_DISCONNECTED'; peer: NodeId; now: number }
  | { type: 'BLOCKS_RECEIVED'; peer: NodeId; requestId: number; blocks: CertifiedBlock[]; now: number }
  | { type: 'COMMITTED_ELSEWHERE'; peer: NodeId; block: Block; cert: CommitCertificate; now: number }
  | { type: 'BLOCK_APPLIED'; height: number; now: number }
  | { type: 'BLOCK_APPLY_FAILED'; height: number; reason: string; now: number }
  | { type: 'BLOCK_COMMITTED'; height: number; now: number }
  | { type: 'STATUS_TIMEOUT'; now: number }
  | { type: 'FETCH_TIMEOUT'; now: number };

export type SyncEffect =
  | { type: 'status.request' }
  | { type: 'blocks.request'; peer: NodeId; requestId: number; from: number; to: number }
  | { type: 'block.apply'; block: Block; cert: CommitCertificate }
  | { type: 'sync.started'; height: number; target: number }
  | { type: 'sync.progress'; height: number; target: number; blocksPerSecond?: number; etaMs?: number }
  | { type: 'sync.completed'; height: number }
  | { type: 'peer.dropped'; peer: NodeId; reason: string }
  | { type: 'timer.arm'; timer: SyncTimer; ms: number }
  | { type: 'timer.cancel'; timer: SyncTimer };

/** The height to reach: the best of what usable peers claim and what is parked. */
export function targetOf(context: SyncContext): number {
  let target = Math.max(context.height, highestParked(context.pool) ?? 0);
  for (const [peer, view] of context.peers) {
    if (!context.dropped.has(peer)) target = Math.max(target, view.height);
  }
  return target;
}

/** Peers that claim more than we have and are not dropped, in a stable order. */
function usablePeersAhead(context: SyncContext): NodeId[] {
  return [...context.peers]
    .filter(([peer, view]) => view.height > context.height && !context.dropped.has(peer))
    .map(([peer]) => peer)
    .sort();
}

/** Round-robin: the first usable peer after the one asked last, so load and failures rotate. */
function nextPeer(context: SyncContext): NodeId {
  const peers = usablePeersAhead(context);
  const last = context.request?.peer;
  const peer = peers.find((p) => last === undefined || p > last) ?? peers[0];
  if (peer === undefined) throw new Error('fetching with no usable peer ahead');
  return peer;
}

function nextParkedBlock(context: SyncContext): ParkedBlock {
  const entry = parkedAt(context.pool, context.height + 1);
  if (!entry) throw new Error(`no block ${context.height + 1} parked`);
  return entry;
}

function progressOf(context: SyncContext, now: number): Extract<SyncEffect, { type: 'sync.progress' }> {
  const target = targetOf(context);
  const progress: Extract<SyncEffect, { type: 'sync.progress' }> = {
    type: 'sync.progress',
    height: context.height,
    target,
  };
  if (context.episode === null) return progress;
  const elapsedMs = now - context.episode.startedAt;
  const applied = context.height - context.episode.startHeight;
  if (elapsedMs <= 0 || applied <= 0) return progress;
  const perSecond = (applied * 1000) / elapsedMs;
  progress.blocksPerSecond = Math.round(perSecond * 100) / 100;
  progress.etaMs = Math.round(((target - context.height) * 1000) / perSecond);
  return progress;
}

/** The context after dropping a peer for this sync, with every block it sent discarded. */
function withoutPeer(context: SyncContext, peer: NodeId): Pick<SyncContext, 'dropped' | 'pool'> {
  return { dropped: new Set(context.dropped).add(peer), pool: dropFromSource(context.pool, peer) };
}

function park(context: SyncContext, peer: NodeId, blocks: readonly CertifiedBlock[]): BlockPool {
  if (context.dropped.has(peer)) return context.pool;
  let pool = context.pool;
  for (const { block, cert } of blocks) {
    pool = parkBlock(pool, { block, cert, source: peer }, context.height).pool;
  }
  return pool;
}

export const syncMachine = setup({
  types: {
    input: {} as SyncInput,
    context: {} as SyncContext,
    events: {} as SyncEvent,
    emitted: {} as SyncEffect,
  },
  guards: {
    /**
     * Provided by the host: the block's seal recomputes and its certificate holds 2f+1 valid PreCommits
     * for this height and seal from the validators of that height. Fails closed when not provided.
     */
    isVerifiedBlock: (_args, _block: CertifiedBlock) => false,
    isAboveHeight: ({ context, event }) =>
      (event.type === 'COMMITTED_ELSEWHERE' && event.block.height > context.height) ||
      (event.type === 'BLOCK_COMMITTED' && event.height > context.height),
    isUsablePeerAhead: ({ context, event }) =>
      event.type === 'PEER_STATUS' && event.height > context.height && !context.dropped.has(event.peer),
    hasUsablePeerAhead: ({ context }) => usablePeersAhead(context).length > 0,
    hasNextBlockParked: ({ context }) => parkedAt(context.pool, context.height + 1) !== undefined,
    isBehindTarget: ({ context }) => targetOf(context) > context.height,
    isAwaitedResponse: ({ context, event }) =>
      event.type === 'BLOCKS_RECEIVED' &&
      event.requestId === context.request?.id &&
      event.peer === context.request.peer,
    deliversFirstRequestedBlock: ({ context, event }) =>
      event.type === 'BLOCKS_RECEIVED' && event.blocks.some((b) => b.block.height === context.request?.from),
    isRequestedPeer: ({ context, event }) =>
      event.type === 'PEER_DISCONNECTED' && event.peer === context.request?.peer,
    isBlockBeingApplied: ({ context, event }) =>
      (event.type === 'BLOCK_APPLIED' || event.type === 'BLOCK_APPLY_FAILED') &&
      event.height === context.applying,
  },
  actions: {
    beginSync: enqueueActions(({ context, event, enqueue }) => {
      const peers = new Map([...context.peers].map(([peer, view]) => [peer, { ...view, timeouts: 0 }]));
      enqueue.assign({
        episode: { startedAt: event.now, startHeight: context.height },
        dropped: new Set(),
        peers,
      });
      enqueue.emit({ type: 'sync.started', height: context.height, target: targetOf(context) });
    }),
    recordPeerStatus: enqueueActions(({ context, event, enqueue }) => {
      if (event.type !== 'PEER_STATUS') return;
      const peers = new Map(context.peers);
      peers.set(event.peer, { height: event.height, timeouts: context.peers.get(event.peer)?.timeouts ?? 0 });
      enqueue.assign({ peers });
    }),
    forgetPeer: enqueueActions(({ context, event, enqueue }) => {
      if (event.type !== 'PEER_DISCONNECTED') return;
      const peers = new Map(context.peers);
      peers.delete(event.peer);
      enqueue.assign({ peers });
    }),
    parkAnnouncedBlock: enqueueActions(({ context, event, enqueue }) => {
      if (event.type !== 'COMMITTED_ELSEWHERE') return;
      // The announcer has that block, so it claims at least that height.
      const peers = new Map(context.peers);
      const view = peers.get(event.peer);
      peers.set(event.peer, {
        height: Math.max(view?.height ?? 0, event.block.height),
        timeouts: view?.timeouts ?? 0,
      });
      enqueue.assign({ peers, pool: park(context, event.peer, [event]) });
    }),
    parkFetchedBlocks: enqueueActions(({ context, event, enqueue }) => {
      if (event.type !== 'BLOCKS_RECEIVED') return;
      enqueue.assign({ pool: park(context, event.peer, event.blocks) });
    }),
    requestStatus: enqueueActions(({ enqueue }) => {
      enqueue.emit({ type: 'status.request' });
    }),
    armStatusTimer: enqueueActions(({ context, enqueue }) => {
      enqueue.emit({ type: 'timer.arm', timer: 'status', ms: context.statusTimeoutMs });
    }),
    cancelStatusTimer: enqueueActions(({ enqueue }) => {
      enqueue.emit({ type: 'timer.cancel', timer: 'status' });
    }),
    requestBlocks: enqueueActions(({ context, enqueue }) => {
      const peer = nextPeer(context);
      const from = context.height + 1;
      const claimed = context.peers.get(peer)?.height ?? from;
      const parked = lowestParkedAbove(context.pool, context.height);
      const room = Math.min(context.batchSize, context.pool.capacity);
      const to = Math.min(from + room - 1, claimed, parked === undefined ? claimed : parked - 1);
      const request = { id: context.lastRequestId + 1, peer, from, to };
      enqueue.assign({ request, lastRequestId: request.id });
      enqueue.emit({ type: 'blocks.request', peer, requestId: request.id, from, to });
    }),
    armFetchTimer: enqueueActions(({ context, enqueue }) => {
      enqueue.emit({ type: 'timer.arm', timer: 'fetch', ms: context.fetchTimeoutMs });
    }),
    cancelFetchTimer: enqueueActions(({ enqueue }) => {
      enqueue.emit({ type: 'timer.cancel', timer: 'fetch' });
    }),
    noteSilentPeer: enqueueActions(({ context, enqueue }) => {
      const peer = context.request?.peer;
      const view = peer === undefined ? undefined : context.peers.get(peer);
      if (peer === undefined || view === undefined) return;
      const timeouts = view.timeouts + 1;
      enqueue.assign({ peers: new Map(context.peers).set(peer, { ...view, timeouts }) });
      if (timeouts < context.maxPeerTimeouts) return;
      enqueue.assign(withoutPeer(context, peer));
      enqueue.emit({ type: 'peer.dropped', peer, reason: `no answer to ${timeouts} requests` });
    }),
    dropPeerWithoutBlocks: enqueueActions(({ context, event, enqueue }) => {
      if (event.type !== 'BLOCKS_RECEIVED') return;
      enqueue.assign(withoutPeer(context, event.peer));
      enqueue.emit({
        type: 'peer.dropped',
        peer: event.peer,
        reason: `answered without block ${context.request?.from}, which it claims to have`,
      });
    }),
    discardUnverifiedBlock: enqueueActions(({ context, enqueue }) => {
      const { block, source } = nextParkedBlock(context);
      enqueue.assign(withoutPeer(context, source));
      enqueue.emit({
        type: 'peer.dropped',
        peer: source,
        reason: `block ${block.height} failed verification`,
      });
    }),
    discardRejectedBlock: enqueueActions(({ context, event, enqueue }) => {
      if (event.type !== 'BLOCK_APPLY_FAILED') return;
      enqueue.assign({ applying: null });
      const entry = parkedAt(context.pool, event.height);
      if (!entry) return;
      enqueue.assign(withoutPeer(context, entry.source));
      enqueue.emit({
        type: 'peer.dropped',
        peer: entry.source,
        reason: `block ${event.height}: ${event.reason}`,
      });
    }),
    applyNextBlock: enqueueActions(({ context, enqueue }) => {
      const { block, cert } = nextParkedBlock(context);
      enqueue.assign({ applying: block.height });
      enqueue.emit({ type: 'block.apply', block, cert });
    }),
    recordAppliedBlock: enqueueActions(({ context, event, enqueue }) => {
      if (event.type !== 'BLOCK_APPLIED') return;
      const height = Math.max(context.height, event.height);
      enqueue.assign({ height, applying: null, pool: dropThrough(context.pool, height) });
    }),
    reportProgress: enqueueActions(({ context, event, enqueue }) => {
      enqueue.emit(progressOf(context, event.now));
    }),
    recordCommittedHeight: enqueueActions(({ context, event, enqueue }) => {
      if (event.type !== 'BLOCK_COMMITTED') return;
      enqueue.assign({ height: event.height, pool: dropThrough(context.pool, event.height) });
    }),
    reportSynced: enqueueActions(({ context, enqueue }) => {
      enqueue.assign({ episode: null, dropped: new Set() });
      enqueue.emit({ type: 'sync.completed', height: context.height });
    }),
  },
}).createMachine({
  id: 'sync',
  context: ({ input }) => ({
    height: input.height,
    peers: new Map(),
    dropped: new Set(),
    pool: emptyBlockPool(input.poolCapacity ?? SYNC_DEFAULTS.poolCapacity),
    request: null,
    lastRequestId: 0,
    applying: null,
    episode: null,
    batchSize: input.batchSize ?? SYNC_DEFAULTS.batchSize,
    fetchTimeoutMs: input.fetchTimeoutMs ?? SYNC_DEFAULTS.fetchTimeoutMs,
    statusTimeoutMs: input.statusTimeoutMs ?? SYNC_DEFAULTS.statusTimeoutMs,
    maxPeerTimeouts: input.maxPeerTimeouts ?? SYNC_DEFAULTS.maxPeerTimeouts,
  }),
  initial: 'idle',
  // Handled the same in every state; a state's own transitions for these events are tried first.
  on: {
    PEER_STATUS: { actions: 'recordPeerStatus' },
    PEER_DISCONNECTED: { actions: 'forgetPeer' },
    // Late answers are still useful: every block is verified before it is applied, whoever sent it.
    BLOCKS_RECEIVED: { actions: 'parkFetchedBlocks' },
    COMMITTED_ELSEWHERE: { guard: 'isAboveHeight', actions: 'parkAnnouncedBlock' },
    BLOCK_COMMITTED: { guard: 'isAboveHeight', actions: 'recordCommittedHeight' },
  },
  states: {
    idle: {
      description: 'Not started yet.',
      on: { SYNC_START: { actions: 'beginSync', target: 'comparing' } },
    },
    comparing: {
      description: 'Asks the peers for their heights and waits one status timeout for one that is ahead.',
      entry: ['requestStatus', 'armStatusTimer'],
      exit: 'cancelStatusTimer',
      on: {
        PEER_STATUS: { guard: 'isUsablePeerAhead', actions: 'recordPeerStatus', target: 'deciding' },
        COMMITTED_ELSEWHERE: {
          guard: 'isAboveHeight',
          actions: 'parkAnnouncedBlock',
          target: 'deciding',
        },
        STATUS_TIMEOUT: [
          // Behind, but nobody usable has the blocks: ask again.
          { guard: 'isBehindTarget', target: 'comparing', reenter: true },
          { target: 'synced' },
        ],
      },
    },
    deciding: {
      description: 'Decides what comes next: verify the next parked block, fetch, ask again, or done.',
      always: [
        { guard: 'hasNextBlockParked', target: 'verifying' },
        { guard: 'hasUsablePeerAhead', target: 'fetching' },
        { guard: 'isBehindTarget', target: 'comparing' },
        { target: 'synced' },
      ],
    },
    fetching: {
      description: "Waits for one peer's answer to a blocks request, up to the fetch timeout.",
      entry: ['requestBlocks', 'armFetchTimer'],
      exit: 'cancelFetchTimer',
      on: {
        BLOCKS_RECEIVED: [
          {
            guard: and(['isAwaitedResponse', 'deliversFirstRequestedBlock']),
            actions: 'parkFetchedBlocks',
            target: 'deciding',
          },
          { guard: 'isAwaitedResponse', actions: 'dropPeerWithoutBlocks', target: 'deciding' },
        ],
        FETCH_TIMEOUT: { actions: 'noteSilentPeer', target: 'deciding' },
        PEER_DISCONNECTED: { guard: 'isRequestedPeer', actions: 'forgetPeer', target: 'deciding' },
      },
    },
    verifying: {
      description: 'Checks the next block against its commit certificate before it goes near storage.',
      always: [
        {
          guard: { type: 'isVerifiedBlock', params: ({ context }) => nextParkedBlock(context) },
          target: 'applying',
        },
        { actions: 'discardUnverifiedBlock', target: 'deciding' },
      ],
    },
    applying: {
      description: 'The host stores the next block; one at a time, in height order.',
      entry: 'applyNextBlock',
      on: {
        BLOCK_APPLIED: {
          guard: 'isBlockBeingApplied',
          actions: ['recordAppliedBlock', 'reportProgress'],
          target: 'deciding',
        },
        BLOCK_APPLY_FAILED: {
          guard: 'isBlockBeingApplied',
          actions: 'discardRejectedBlock',
          target: 'deciding',
        },
      },
    },
    synced: {
      description:
        'Caught up; consensus keeps the node current until a peer ahead or a block above it shows up.',
      entry: 'reportSynced',
      on: {
        SYNC_START: { actions: 'beginSync', target: 'comparing' },
        PEER_STATUS: {
          guard: 'isUsablePeerAhead',
          actions: ['recordPeerStatus', 'beginSync'],
          target: 'deciding',
        },
        COMMITTED_ELSEWHERE: {
          guard: 'isAboveHeight',
          actions: ['parkAnnouncedBlock', 'beginSync'],
          target: 'deciding',
        },
      },
    },
  },
});
