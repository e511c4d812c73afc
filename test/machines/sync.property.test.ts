// Properties of sync under any schedule: honest peers answering in any order (or not at all), a
// Byzantine peer answering with blocks whose certificates lack a quorum and announcing forged blocks,
// announcements of committed blocks in any order, timeouts, late answers and disconnects. Whatever
// happens, the node applies only genuine blocks, each exactly once, in height order; and once the
// honest peers answer, it reaches the tip.

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createActor } from 'xstate';
import { type Block, sealOf, txRootOf } from '../../domain/block.ts';
import { type CommitCertificate, verifyCommitCertificate } from '../../domain/commit-certificate.ts';
import type { CertifiedBlock } from '../../machines/block-pool.ts';
import { type SyncEffect, type SyncEvent, type SyncTimer, syncMachine } from '../../machines/sync.ts';
import { createChainFixture } from '../support/chain-fixture.ts';

const fixture = createChainFixture();
const N = 16;
const CHAIN = fixture.extend(fixture.genesis, N, 1);
const HONEST = fixture.validatorIds.slice(0, 2);
const BYZANTINE = fixture.validatorIds[3] as string;
const PEERS = [...HONEST, BYZANTINE];

const genuine = (h: number): CertifiedBlock => ({
  block: CHAIN.blocks[h - 1] as Block,
  cert: CHAIN.certs[h - 1] as CommitCertificate,
});
// A forged copy: another creator (so another seal) and PreCommits from only two of four validators.
const FORGED: CertifiedBlock[] = CHAIN.blocks.map((real) => {
  const block = fixture.nextBlock({ ...real, height: real.height - 1, seal: real.prevSeal }, real.txs, {
    creator: 3,
    timestamp: real.timestamp,
  });
  return { block, cert: fixture.certify(block, { signers: [2, 3] }) };
});
const forged = (h: number) => FORGED[h - 1] as CertifiedBlock;

const verified = new Map<string, boolean>();
function isCertified(block: Block, cert: CommitCertificate): boolean {
  const key = `${block.seal}:${cert.precommits.map((v) => v.voter).join(',')}`;
  let ok = verified.get(key);
  if (ok === undefined) {
    ok = sealOf(block) === block.seal && txRootOf(block.txs) === block.txRoot;
    try {
      const expected = { height: block.height, blockHash: block.seal, networkId: fixture.networkId };
      if (ok) verifyCommitCertificate(cert, expected, fixture.validatorIds, fixture.keys);
    } catch {
      ok = false;
    }
    verified.set(key, ok);
  }
  return ok;
}

const machine = syncMachine.provide({
  guards: { isVerifiedBlock: (_, { block, cert }) => isCertified(block, cert) },
});

type Step =
  | { kind: 'status'; peer: number }
  | { kind: 'announce'; height: number; peer: number }
  | { kind: 'answer'; prefix: number }
  | { kind: 'answerLate'; peer: number; from: number }
  | { kind: 'timeout' }
  | { kind: 'apply' }
  | { kind: 'disconnect'; peer: number };

const peerIndex = fc.nat(PEERS.length - 1);
const step: fc.Arbitrary<Step> = fc.oneof(
  fc.record({ kind: fc.constant('status' as const), peer: peerIndex }),
  fc.record({
    kind: fc.constant('announce' as const),
    height: fc.integer({ min: 1, max: N }),
    peer: peerIndex,
  }),
  {
    weight: 3,
    arbitrary: fc.record({ kind: fc.constant('answer' as const), prefix: fc.integer({ min: 0, max: 64 }) }),
  },
  fc.record({
    kind: fc.constant('answerLate' as const),
    peer: peerIndex,
    from: fc.integer({ min: 1, max: N }),
  }),
  fc.constant({ kind: 'timeout' as const }),
  { weight: 3, arbitrary: fc.constant({ kind: 'apply' as const }) },
  fc.record({ kind: fc.constant('disconnect' as const), peer: peerIndex }),
);

/** What a peer sends for heights from..to: the Byzantine one sends forgeries. */
function blocksFrom(peer: string, from: number, to: number): CertifiedBlock[] {
  const heights = Array.from({ length: Math.max(0, Math.min(to, N) - from + 1) }, (_, i) => from + i);
  return heights.map((h) => (peer === BYZANTINE ? forged(h) : genuine(h)));
}

function run(steps: readonly Step[]) {
  const actor = createActor(machine, { input: { height: 0, batchSize: 5, poolCapacity: 8 } });
  const applied: Block[] = [];
  const armed = new Set<SyncTimer>();
  let now = 0;
  const send = (
    event: SyncEvent extends infer E ? (E extends SyncEvent ? Omit<E, 'now'> : never) : never,
  ) => {
    now += 10;
    actor.send({ ...event, now } as SyncEvent);
  };
  let request: Extract<SyncEffect, { type: 'blocks.request' }> | null = null;
  actor.on('*', (effect: SyncEffect) => {
    if (effect.type === 'block.apply') {
      expect(effect.block.height, 'applied out of order').toBe(applied.length + 1);
      expect(effect.block.seal, 'applied a forged block').toBe(CHAIN.blocks[effect.block.height - 1]?.seal);
      applied.push(effect.block);
    }
    if (effect.type === 'blocks.request') request = effect;
    if (effect.type === 'timer.arm') armed.add(effect.timer);
    if (effect.type === 'timer.cancel') armed.delete(effect.timer);
  });
  actor.start();
  send({ type: 'SYNC_START' });

  const answerApply = () => {
    const { applying } = actor.getSnapshot().context;
    if (applying !== null) send({ type: 'BLOCK_APPLIED', height: applying });
  };
  const fireTimers = () => {
    for (const timer of [...armed]) {
      armed.delete(timer);
      send({ type: timer === 'status' ? 'STATUS_TIMEOUT' : 'FETCH_TIMEOUT' });
    }
  };

  for (const s of steps) {
    switch (s.kind) {
      case 'status': {
        const peer = PEERS[s.peer] as string;
        send({ type: 'PEER_STATUS', peer, height: N });
        break;
      }
      case 'announce': {
        const peer = PEERS[s.peer] as string;
        const b = peer === BYZANTINE ? forged(s.height) : genuine(s.height);
        send({ type: 'COMMITTED_ELSEWHERE', peer, ...b });
        break;
      }
      case 'answer':
        if (request && actor.getSnapshot().value === 'fetching') {
          const r: Extract<SyncEffect, { type: 'blocks.request' }> = request;
          const blocks = blocksFrom(r.peer, r.from, r.to).slice(0, s.prefix);
          send({ type: 'BLOCKS_RECEIVED', peer: r.peer, requestId: r.requestId, blocks });
        }
        break;
      case 'answerLate': {
        const peer = PEERS[s.peer] as string;
        send({ type: 'BLOCKS_RECEIVED', peer, requestId: 0, blocks: blocksFrom(peer, s.from, s.from + 4) });
        break;
      }
      case 'timeout':
        fireTimers();
        break;
      case 'apply':
        answerApply();
        break;
      case 'disconnect':
        send({ type: 'PEER_DISCONNECTED', peer: PEERS[s.peer] as string });
        break;
    }
  }

  // The network heals: the honest peers answer everything from now on.
  for (let i = 0; i < 20 * N && actor.getSnapshot().context.height < N; i++) {
    const state = actor.getSnapshot().value;
    if (state === 'applying') answerApply();
    else if (state === 'fetching' && request) {
      const r: Extract<SyncEffect, { type: 'blocks.request' }> = request;
      if (r.peer === BYZANTINE)
        send({ type: 'BLOCKS_RECEIVED', peer: r.peer, requestId: r.requestId, blocks: [] });
      else
        send({
          type: 'BLOCKS_RECEIVED',
          peer: r.peer,
          requestId: r.requestId,
          blocks: blocksFrom(r.peer, r.from, r.to),
        });
    } else send({ type: 'PEER_STATUS', peer: HONEST[i % HONEST.length] as string, height: N });
  }
  return { actor, applied };
}

describe('sync properties', () => {
  it('whatever order blocks arrive in, genuine blocks are applied exactly once, in height order, up to the tip', () => {
    fc.assert(
      fc.property(fc.array(step, { maxLength: 80 }), (steps) => {
        const { actor, applied } = run(steps);
        expect(applied.map((b) => b.height)).toEqual(Array.from({ length: N }, (_, i) => i + 1));
        expect(actor.getSnapshot().context.height).toBe(N);
      }),
      { numRuns: 300 },
    );
  });
});
