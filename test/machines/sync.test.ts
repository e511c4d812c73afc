// Sync with block pool (SPEC §4), rule by rule: the sync machine driven through createActor against a
// real chain (real blocks, real commit certificates signed by four validators), with the host's
// isVerifiedBlock checking seals and certificates for real. Time is the `now` stamped on each event.
// The last test checks that these tests together reach every state and transition of the machine.

import { describe, expect, it } from 'vitest';
import { type AnyStateMachine, createActor } from 'xstate';
import { type Block, sealOf, txRootOf } from '../../domain/block.ts';
import { type CommitCertificate, verifyCommitCertificate } from '../../domain/commit-certificate.ts';
import type { CertifiedBlock } from '../../machines/block-pool.ts';
import { type SyncEffect, type SyncEvent, type SyncInput, syncMachine } from '../../machines/sync.ts';
import { createChainFixture } from '../support/chain-fixture.ts';
import { MachineCoverage } from '../support/machine-coverage.ts';

const fixture = createChainFixture();
const CHAIN = fixture.extend(fixture.genesis, 12, 1);
const [A, B, C] = fixture.validatorIds as [string, string, string];
const coverage = new MachineCoverage(syncMachine);

/** The host's check: seal and txRoot recompute, and 2f+1 validators PreCommitted this very block. */
function isCertified(block: Block, cert: CommitCertificate): boolean {
  if (sealOf(block) !== block.seal || txRootOf(block.txs) !== block.txRoot) return false;
  try {
    verifyCommitCertificate(
      cert,
      { height: block.height, blockHash: block.seal, networkId: fixture.networkId },
      fixture.validatorIds,
      fixture.keys,
    );
    return true;
  } catch {
    return false;
  }
}

const verifiedSync = syncMachine.provide({
  guards: { isVerifiedBlock: (_, { block, cert }) => isCertified(block, cert) },
});

function certified(height: number): CertifiedBlock {
  const block = CHAIN.blocks[height - 1];
  const cert = CHAIN.certs[height - 1];
  if (!block || !cert) throw new Error(`no block ${height} in the test chain`);
  return { block, cert };
}

function range(from: number, to: number): CertifiedBlock[] {
  return Array.from({ length: to - from + 1 }, (_, i) => certified(from + i));
}

/** The same block with a certificate only two of four validators signed: no quorum. */
function underCertified(height: number): CertifiedBlock {
  const { block } = certified(height);
  return { block, cert: fixture.certify(block, { signers: [0, 1] }) };
}

type Stamped = SyncEvent extends infer E ? (E extends SyncEvent ? Omit<E, 'now'> : never) : never;

function startSync(input: Partial<SyncInput> = {}, machine: AnyStateMachine = verifiedSync) {
  const actor = createActor(machine as typeof syncMachine, {
    input: { height: 0, batchSize: 4, ...input },
    inspect: coverage.inspect,
  });
  const effects: SyncEffect[] = [];
  actor.on('*', (effect) => effects.push(effect));
  actor.start();
  let now = 0;
  const host = {
    actor,
    effects,
    at(ms: number) {
      now = ms;
      return host;
    },
    send(event: Stamped) {
      actor.send({ ...event, now } as SyncEvent);
      return host;
    },
    emitted<T extends SyncEffect['type']>(type: T): Extract<SyncEffect, { type: T }>[] {
      return effects.filter((e): e is Extract<SyncEffect, { type: T }> => e.type === type);
    },
    lastRequest() {
      const requests = host.emitted('blocks.request');
      const last = requests[requests.length - 1];
      if (!last) throw new Error('no blocks.request emitted');
      return last;
    },
    /** Answers the last blocks request with the chain's blocks (or the ones given). */
    answer(blocks?: CertifiedBlock[]) {
      const { peer, requestId, from, to } = host.lastRequest();
      return host.send({ type: 'BLOCKS_RECEIVED', peer, requestId, blocks: blocks ?? range(from, to) });
    },
    /** Plays the host's store: answers every block.apply with BLOCK_APPLIED until none is waiting. */
    applyAll() {
      for (let answered = 0; answered < host.emitted('block.apply').length; answered++) {
        const apply = host.emitted('block.apply')[answered];
        if (apply && actor.getSnapshot().context.applying === apply.block.height) {
          host.send({ type: 'BLOCK_APPLIED', height: apply.block.height });
        }
      }
      return host;
    },
    applied() {
      return host.emitted('block.apply').map((e) => e.block.height);
    },
    state() {
      return actor.getSnapshot().value;
    },
    height() {
      return actor.getSnapshot().context.height;
    },
    clear() {
      effects.length = 0;
      return host;
    },
  };
  return host;
}

/** Started, with the given peers having answered the status request. */
function syncingWith(peers: Record<string, number>, input: Partial<SyncInput> = {}) {
  const host = startSync(input).send({ type: 'SYNC_START' });
  for (const [peer, height] of Object.entries(peers)) host.send({ type: 'PEER_STATUS', peer, height });
  return host;
}

describe('sync: comparing heights', () => {
  it('a node starts by asking its peers for their heights, with a status timeout', () => {
    const host = startSync({ height: 3 }).send({ type: 'SYNC_START' });
    expect(host.effects).toEqual([
      { type: 'sync.started', height: 3, target: 3 },
      { type: 'status.request' },
      { type: 'timer.arm', timer: 'status', ms: 2_000 },
    ]);
    expect(host.state()).toBe('comparing');
  });

  it('a node at the height of every peer that answered is synced when the status timeout passes', () => {
    const host = startSync({ height: 5 }).send({ type: 'SYNC_START' });
    host.send({ type: 'PEER_STATUS', peer: A, height: 5 }).send({ type: 'PEER_STATUS', peer: B, height: 4 });
    host.clear().send({ type: 'STATUS_TIMEOUT' });
    expect(host.state()).toBe('synced');
    expect(host.effects).toEqual([
      { type: 'timer.cancel', timer: 'status' },
      { type: 'sync.completed', height: 5 },
    ]);
  });

  it('a peer that claims more blocks starts the fetching at once', () => {
    const host = syncingWith({ [A]: 10 });
    expect(host.state()).toBe('fetching');
    expect(host.lastRequest()).toEqual({ type: 'blocks.request', peer: A, requestId: 1, from: 1, to: 4 });
  });

  it('a block announced while comparing is applied when it is the next one', () => {
    const host = startSync({ height: 0 }).send({ type: 'SYNC_START' });
    host.send({ type: 'COMMITTED_ELSEWHERE', peer: A, ...certified(1) });
    expect(host.applied()).toEqual([1]);
  });
});

describe('sync: fetching in batches', () => {
  it('fetches the missing blocks in batches of batchSize and applies them in order', () => {
    const host = syncingWith({ [A]: 10 });
    for (let i = 0; i < 3; i++) host.answer().applyAll();
    expect(host.emitted('blocks.request').map((r) => [r.from, r.to])).toEqual([
      [1, 4],
      [5, 8],
      [9, 10],
    ]);
    expect(host.applied()).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    expect(host.state()).toBe('synced');
    expect(host.emitted('sync.completed')).toEqual([{ type: 'sync.completed', height: 10 }]);
  });

  it('applies one block at a time: the next block.apply waits for BLOCK_APPLIED', () => {
    const host = syncingWith({ [A]: 4 });
    host.answer();
    expect(host.applied()).toEqual([1]);
    expect(host.state()).toBe('applying');
    host.send({ type: 'BLOCK_APPLIED', height: 1 });
    expect(host.applied()).toEqual([1, 2]);
  });

  it('asks a peer only for blocks up to the height it claims', () => {
    const host = syncingWith({ [A]: 2 }, { batchSize: 64 });
    expect(host.lastRequest()).toMatchObject({ peer: A, from: 1, to: 2 });
  });

  it('rotates requests among the peers that claim the height', () => {
    const host = syncingWith({ [A]: 12, [B]: 12 });
    const first = host.lastRequest().peer;
    host.answer().applyAll();
    const second = host.lastRequest().peer;
    expect(new Set([first, second])).toEqual(new Set([A, B]));
  });

  it('passes over an unresponsive peer for the next one when the fetch timeout fires', () => {
    const host = syncingWith({ [A]: 8, [B]: 8 }, { fetchTimeoutMs: 500 });
    const silent = host.lastRequest().peer;
    expect(host.emitted('timer.arm')).toContainEqual({ type: 'timer.arm', timer: 'fetch', ms: 500 });
    host.send({ type: 'FETCH_TIMEOUT' });
    const next = host.lastRequest();
    expect(next.peer).not.toBe(silent);
    expect(next).toMatchObject({ from: 1, to: 4 });
  });

  it('drops a peer that stays silent maxPeerTimeouts times; its claim no longer counts', () => {
    const host = syncingWith({ [A]: 8 }, { maxPeerTimeouts: 2 });
    host.send({ type: 'FETCH_TIMEOUT' });
    expect(host.lastRequest()).toMatchObject({ peer: A, requestId: 2 });
    host.send({ type: 'FETCH_TIMEOUT' });
    expect(host.emitted('peer.dropped')).toEqual([
      { type: 'peer.dropped', peer: A, reason: 'no answer to 2 requests' },
    ]);
    // As in Tendermint's block pool, a peer that failed does not count toward the target, so a peer
    // that lies about its height cannot hold the node back. Its next status starts a new sync.
    expect(host.state()).toBe('synced');
    host.send({ type: 'PEER_STATUS', peer: A, height: 8 });
    expect(host.lastRequest()).toMatchObject({ peer: A, requestId: 3, from: 1 });
  });

  it('uses a late answer from a peer it passed over', () => {
    const host = syncingWith({ [A]: 4, [B]: 4 });
    const late = host.lastRequest();
    host.send({ type: 'FETCH_TIMEOUT' });
    host.send({ type: 'BLOCKS_RECEIVED', peer: late.peer, requestId: late.requestId, blocks: range(1, 4) });
    expect(host.state()).toBe('fetching');
    host.answer([]).applyAll();
    expect(host.applied()).toEqual([1, 2, 3, 4]);
  });

  it('stops asking a peer that disconnects, and moves a request to it elsewhere at once', () => {
    const host = syncingWith({ [A]: 8, [B]: 8 });
    const asked = host.lastRequest().peer;
    const other = asked === A ? B : A;
    host.send({ type: 'PEER_DISCONNECTED', peer: asked });
    expect(host.lastRequest()).toMatchObject({ peer: other, from: 1 });
    host.send({ type: 'PEER_DISCONNECTED', peer: C });
    expect(host.actor.getSnapshot().context.peers.has(asked)).toBe(false);
    expect(host.state()).toBe('fetching');
  });
});

describe('sync: verification by commit certificate', () => {
  it('a block that fails verification is refetched from another peer, and its sender is dropped', () => {
    const host = syncingWith({ [A]: 4, [B]: 4 });
    const bad = host.lastRequest().peer;
    const good = bad === A ? B : A;
    host.answer([certified(1), underCertified(2), certified(3), certified(4)]).applyAll();
    expect(host.applied()).toEqual([1]);
    expect(host.emitted('peer.dropped')).toEqual([
      { type: 'peer.dropped', peer: bad, reason: 'block 2 failed verification' },
    ]);
    // Every block the bad peer sent is discarded, and fetched again from the other peer.
    expect(host.lastRequest()).toMatchObject({ peer: good, from: 2, to: 4 });
    host.answer().applyAll();
    expect(host.applied()).toEqual([1, 2, 3, 4]);
  });

  it('a block with a tampered header fails verification', () => {
    const host = syncingWith({ [A]: 1 });
    const { block, cert } = certified(1);
    host.answer([{ block: { ...block, creator: B }, cert }]);
    expect(host.applied()).toEqual([]);
    expect(host.emitted('peer.dropped')).toHaveLength(1);
  });

  it('without a provided isVerifiedBlock nothing is applied: the guard fails closed', () => {
    const host = startSync({}, syncMachine).send({ type: 'SYNC_START' });
    host.send({ type: 'PEER_STATUS', peer: A, height: 2 }).answer();
    expect(host.applied()).toEqual([]);
    expect(host.emitted('peer.dropped')[0]).toMatchObject({ peer: A, reason: 'block 1 failed verification' });
  });

  it('a peer that answers without the blocks it claims is dropped and another is asked', () => {
    const host = syncingWith({ [A]: 4, [B]: 4 });
    const empty = host.lastRequest().peer;
    host.answer([]);
    expect(host.emitted('peer.dropped')).toEqual([
      { type: 'peer.dropped', peer: empty, reason: 'answered without block 1, which it claims to have' },
    ]);
    expect(host.lastRequest().peer).not.toBe(empty);
  });

  it('a block the host refuses to store is dropped with its sender and fetched again', () => {
    const host = syncingWith({ [A]: 2, [B]: 2 });
    const sender = host.lastRequest().peer;
    host.answer();
    host.send({ type: 'BLOCK_APPLY_FAILED', height: 1, reason: 'link: does not point at block 0' });
    expect(host.emitted('peer.dropped')).toEqual([
      { type: 'peer.dropped', peer: sender, reason: 'block 1: link: does not point at block 0' },
    ]);
    expect(host.lastRequest()).toMatchObject({ from: 1 });
    expect(host.lastRequest().peer).not.toBe(sender);
  });

  it('with blocks parked above a gap and no peer to fetch it from, a node asks for heights again', () => {
    const host = syncingWith({ [A]: 8 });
    host.send({ type: 'COMMITTED_ELSEWHERE', peer: B, ...certified(6) });
    host.send({ type: 'PEER_DISCONNECTED', peer: B }).send({ type: 'PEER_DISCONNECTED', peer: A });
    expect(host.state()).toBe('comparing');
    host.clear().send({ type: 'STATUS_TIMEOUT' });
    expect(host.state()).toBe('comparing');
    expect(host.emitted('status.request')).toHaveLength(1);
    host.send({ type: 'PEER_STATUS', peer: C, height: 8 });
    expect(host.lastRequest()).toMatchObject({ peer: C, from: 1, to: 4 });
  });
});

describe('sync: the block pool', () => {
  it('blocks committed during sync are parked and applied in order', () => {
    const host = syncingWith({ [A]: 8 });
    host.send({ type: 'COMMITTED_ELSEWHERE', peer: B, ...certified(10) });
    host.send({ type: 'COMMITTED_ELSEWHERE', peer: B, ...certified(9) });
    host.send({ type: 'COMMITTED_ELSEWHERE', peer: C, ...certified(11) });
    for (let i = 0; i < 2; i++) host.answer().applyAll();
    expect(host.applied()).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]);
    expect(host.height()).toBe(11);
  });

  it('fetches only up to the first parked block', () => {
    const host = syncingWith({ [A]: 12 });
    host.send({ type: 'COMMITTED_ELSEWHERE', peer: B, ...certified(7) });
    host.answer().applyAll();
    expect(host.lastRequest()).toMatchObject({ from: 5, to: 6 });
  });

  it('ignores announced blocks at or below its height', () => {
    const host = startSync({ height: 5 }).send({ type: 'SYNC_START' });
    host.clear().send({ type: 'COMMITTED_ELSEWHERE', peer: A, ...certified(5) });
    expect(host.effects).toEqual([]);
    expect(host.actor.getSnapshot().context.pool.byHeight.size).toBe(0);
  });

  it("the node's own commits move its height and drop parked blocks at or below it", () => {
    const host = startSync({ height: 0 }).send({ type: 'SYNC_START' });
    host.send({ type: 'STATUS_TIMEOUT' });
    expect(host.state()).toBe('synced');
    host.send({ type: 'BLOCK_COMMITTED', height: 3 });
    expect(host.height()).toBe(3);
  });
});

describe('sync: after catching up', () => {
  it('a synced node that sees a peer ahead syncs again', () => {
    const host = startSync({ height: 4 }).send({ type: 'SYNC_START' }).send({ type: 'STATUS_TIMEOUT' });
    host.clear().send({ type: 'PEER_STATUS', peer: A, height: 6 });
    expect(host.emitted('sync.started')).toEqual([{ type: 'sync.started', height: 4, target: 6 }]);
    expect(host.lastRequest()).toMatchObject({ peer: A, from: 5, to: 6 });
  });

  it('a synced node that missed a block applies it from the announcement', () => {
    const host = startSync({ height: 4 }).send({ type: 'SYNC_START' }).send({ type: 'STATUS_TIMEOUT' });
    host
      .clear()
      .send({ type: 'COMMITTED_ELSEWHERE', peer: A, ...certified(5) })
      .applyAll();
    expect(host.applied()).toEqual([5]);
    expect(host.emitted('sync.completed')).toEqual([{ type: 'sync.completed', height: 5 }]);
  });

  it('a synced node asked to sync again compares heights again', () => {
    const host = startSync({ height: 2 }).send({ type: 'SYNC_START' }).send({ type: 'STATUS_TIMEOUT' });
    host.send({ type: 'PEER_DISCONNECTED', peer: A });
    host.clear().send({ type: 'SYNC_START' });
    expect(host.state()).toBe('comparing');
    expect(host.emitted('status.request')).toHaveLength(1);
  });
});

describe('sync: progress', () => {
  it('reports blocks per second and ETA from the time stamped on events, not a clock', () => {
    const host = startSync({ height: 0 }).at(10_000).send({ type: 'SYNC_START' });
    host.send({ type: 'PEER_STATUS', peer: A, height: 10 }).answer();
    host.at(11_000).send({ type: 'BLOCK_APPLIED', height: 1 });
    host.at(12_000).send({ type: 'BLOCK_APPLIED', height: 2 });
    expect(host.emitted('sync.progress')).toEqual([
      { type: 'sync.progress', height: 1, target: 10, blocksPerSecond: 1, etaMs: 9_000 },
      { type: 'sync.progress', height: 2, target: 10, blocksPerSecond: 1, etaMs: 8_000 },
    ]);
  });

  it('reports no rate before any virtual time has passed', () => {
    const host = syncingWith({ [A]: 3 })
      .answer()
      .applyAll();
    expect(host.emitted('sync.progress')[0]).toEqual({ type: 'sync.progress', height: 1, target: 3 });
  });
});

it('every state and transition of the sync machine is reached by these tests', () => {
  const report = coverage.report();
  console.info(coverage.describe());
  expect(report.states.missing).toEqual([]);
  expect(report.transitions.missing).toEqual([]);
});
