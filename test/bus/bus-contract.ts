import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { BusClosedError, BusError } from '../../adapters/bus/bus-errors.ts';
import type { BusMessage, EventBus, Topic } from '../../adapters/bus/event-bus.ts';
import { TOPIC_NAMES } from '../../adapters/bus/event-bus.ts';
import { sealOf, txRootOf } from '../../domain/block.ts';
import { txIdOf } from '../../domain/transaction.ts';
import {
  type CaptureLogger,
  Inbox,
  range,
  sampleBlock,
  sampleTx,
  unsignedCertificate,
  waitUntil,
} from './fixtures/bus-test-kit.ts';

export interface BusUnderTest {
  bus: EventBus;
  logger: CaptureLogger;
}

// The rules every EventBus keeps (adapters/bus/event-bus.ts), run against each implementation.
// Negative checks ("does not get X") rely on per-subscriber order: anything wrongly routed before a
// later expected message would arrive before it.

/** A payload of the right shape for any topic, marked with n so order can be checked. */
function payloadFor(topic: Topic, n: number): BusMessage['payload'] {
  const block = sampleBlock(n + 1);
  const payloads: { [T in Topic]: BusMessage<T>['payload'] } = {
    'block.propose': { txs: [sampleTx(n)] },
    'block.consent': { block },
    'block.confirm': { block, certificate: unsignedCertificate(block) },
    'block.committed': { block, certificate: unsignedCertificate(block) },
    'connection.created': { peerId: `peer-${n}`, address: '127.0.0.1:5001', outbound: true },
    'connection.closed': { peerId: `peer-${n}`, reason: 'test' },
    'network.joined': { peers: [{ peerId: `peer-${n}`, address: '127.0.0.1:5001' }] },
    'leader.updated': { leader: `leader-${n}`, term: n },
    'leader.deleted': { leader: `leader-${n}`, term: n },
    'icode.created': { id: `icode-${n}`, gitUrl: 'file:///tmp/icode', commit: 'abc', txId: 'tx', height: n },
    'icode.deleted': { id: `icode-${n}`, txId: 'tx', height: n },
    'tx.submitted': { tx: sampleTx(n) },
  };
  return payloads[topic];
}

function publishAny(bus: EventBus, topic: Topic, n: number): Promise<void> {
  return (bus.publish as (topic: Topic, payload: unknown) => Promise<void>)(topic, payloadFor(topic, n));
}

export function busContract(name: string, open: () => Promise<BusUnderTest>): void {
  describe(`${name} keeps the event bus contract`, () => {
    let bus: EventBus;
    let logger: CaptureLogger;

    beforeEach(async () => {
      ({ bus, logger } = await open());
    });
    afterEach(async () => {
      await bus.close();
    });

    it('delivers every message to each subscriber, in publish order', async () => {
      const first = new Inbox();
      const second = new Inbox();
      await bus.subscribe('leader.updated', first.handler);
      await bus.subscribe('leader.updated', second.handler);
      await Promise.all(range(200).map((term) => bus.publish('leader.updated', { leader: 'n0', term })));
      for (const inbox of [first, second]) {
        const terms = (await inbox.waitFor(200)).map((m) =>
          m.topic === 'leader.updated' ? m.payload.term : -1,
        );
        expect(terms).toEqual(range(200));
      }
    });

    it('routes by AMQP topic pattern: * is exactly one word, # is any number of words', async () => {
      const expected: Record<string, Topic[]> = {
        'block.*': ['block.propose', 'block.consent', 'block.confirm', 'block.committed'],
        'block.#': ['block.propose', 'block.consent', 'block.confirm', 'block.committed'],
        '*.deleted': ['leader.deleted', 'icode.deleted'],
        '#.committed': ['block.committed'],
        'block.committed': ['block.committed'],
        'tx.submitted.*': [],
        '#': [...TOPIC_NAMES],
      };
      const inboxes = new Map<string, Inbox>();
      for (const pattern of Object.keys(expected)) {
        const inbox = new Inbox();
        inboxes.set(pattern, inbox);
        await bus.subscribe(pattern, inbox.handler);
      }
      // Two rounds: a wrongly routed message of round one would arrive before round two's last one.
      for (const round of [0, 1]) {
        for (const topic of TOPIC_NAMES) await publishAny(bus, topic, round);
      }
      for (const [pattern, topics] of Object.entries(expected)) {
        const inbox = inboxes.get(pattern) as Inbox;
        if (topics.length > 0) await inbox.waitFor(topics.length * 2);
        expect(
          inbox.messages.map((m) => m.topic),
          pattern,
        ).toEqual([...topics, ...topics]);
      }
    });

    it('carries a Block as plain JSON: it arrives equal, with its seal, txRoot and tx ids still valid', async () => {
      const inbox = new Inbox();
      await bus.subscribe('block.committed', inbox.handler);
      const block = sampleBlock(42, [sampleTx(1), sampleTx(2), sampleTx(3)]);
      await bus.publish('block.committed', { block, certificate: unsignedCertificate(block) });
      const [message] = await inbox.waitFor(1);
      if (message?.topic !== 'block.committed') throw new Error('expected a block.committed message');
      const received = message.payload.block;
      expect(received).toEqual(block);
      expect(sealOf(received)).toBe(block.seal);
      expect(txRootOf(received.txs)).toBe(block.txRoot);
      expect(received.txs.map((tx) => txIdOf(tx))).toEqual(block.txs.map((tx) => tx.id));
    });

    it('stops calling a handler once its unsubscribe resolved, while other subscribers keep theirs', async () => {
      const leaving = new Inbox();
      const staying = new Inbox();
      const subscription = await bus.subscribe('#', leaving.handler);
      await bus.subscribe('#', staying.handler);
      await bus.publish('leader.updated', { leader: 'n0', term: 1 });
      await leaving.waitFor(1);
      await subscription.unsubscribe();
      await subscription.unsubscribe();
      await bus.publish('leader.updated', { leader: 'n0', term: 2 });
      await bus.publish('leader.updated', { leader: 'n0', term: 3 });
      await staying.waitFor(3);
      await sleep(50);
      expect(leaving.messages).toHaveLength(1);
    });

    it('isolates a failing handler: the error is logged and it and the others still get the next messages', async () => {
      const seen: number[] = [];
      const healthy = new Inbox();
      await bus.subscribe('leader.updated', (m) => {
        seen.push(m.payload.term);
        if (m.payload.term === 1) throw new Error('boom in a sync handler');
      });
      await bus.subscribe('leader.updated', async (m) => {
        if (m.payload.term === 2) throw new Error('boom in an async handler');
      });
      await bus.subscribe('leader.updated', healthy.handler);
      for (const term of [1, 2, 3]) await bus.publish('leader.updated', { leader: 'n0', term });
      await healthy.waitFor(3);
      await waitUntil(
        () => seen.length === 3 && logger.messages('error').length === 2,
        'both failures logged',
      );
      expect(seen).toEqual([1, 2, 3]);
      const failures = logger.entries
        .filter((e) => e.level === 'error')
        .map((e) => ((e.details as { err?: Error }).err as Error).message);
      expect(failures.sort()).toEqual(['boom in a sync handler', 'boom in an async handler']);
    });

    it('never calls a handler inside publish, and a handler may publish', async () => {
      let insidePublish = false;
      let calledInsidePublish = false;
      const deleted = new Inbox();
      await bus.subscribe('leader.deleted', deleted.handler);
      await bus.subscribe('leader.updated', async (m) => {
        calledInsidePublish ||= insidePublish;
        await bus.publish('leader.deleted', { leader: m.payload.leader, term: m.payload.term });
      });
      insidePublish = true;
      const published = bus.publish('leader.updated', { leader: 'n1', term: 7 });
      insidePublish = false;
      await published;
      const [message] = await deleted.waitFor(1);
      expect(message).toEqual({ topic: 'leader.deleted', payload: { leader: 'n1', term: 7 } });
      expect(calledInsidePublish).toBe(false);
    });

    it('holds back a subscriber’s next message until its handler’s promise settles', async () => {
      let running = 0;
      let overlapped = false;
      const done: number[] = [];
      await bus.subscribe('leader.updated', async (m) => {
        running++;
        overlapped ||= running > 1;
        await sleep(2);
        done.push(m.payload.term);
        running--;
      });
      for (const term of range(10)) await bus.publish('leader.updated', { leader: 'n0', term });
      await waitUntil(() => done.length === 10, 'ten slow handler calls');
      expect(overlapped).toBe(false);
      expect(done).toEqual(range(10));
    });

    it('shares a group’s messages: each goes to exactly one member, while private subscribers get all', async () => {
      const memberA = new Inbox();
      const memberB = new Inbox();
      const everything = new Inbox();
      await bus.subscribe('tx.submitted', memberA.handler, { group: 'txpool' });
      await bus.subscribe('tx.submitted', memberB.handler, { group: 'txpool' });
      await bus.subscribe('tx.submitted', everything.handler);
      await Promise.all(range(20).map((n) => bus.publish('tx.submitted', { tx: sampleTx(n) })));
      await everything.waitFor(20);
      await waitUntil(
        () => memberA.messages.length + memberB.messages.length === 20,
        'the group to get all 20',
      );
      const idsOf = (inbox: Inbox) =>
        inbox.messages.map((m) => (m.topic === 'tx.submitted' ? m.payload.tx.id : ''));
      const shared = [...idsOf(memberA), ...idsOf(memberB)];
      expect(new Set(shared).size).toBe(20);
      expect(new Set(shared)).toEqual(new Set(idsOf(everything)));
      expect(memberA.messages.length).toBeGreaterThan(0);
      expect(memberB.messages.length).toBeGreaterThan(0);
    });

    it('refuses a topic, pattern or group name that cannot name AMQP things, with a BusError', async () => {
      await expect(
        (bus.publish as (topic: string, payload: unknown) => Promise<void>)('block.*', {}),
      ).rejects.toThrow(BusError);
      await expect(bus.subscribe('block..committed', () => {})).rejects.toThrow(BusError);
      await expect(bus.subscribe('block.commit*', () => {})).rejects.toThrow(/not a topic pattern/);
      await expect(bus.subscribe('tx.submitted', () => {}, { group: 'tx pool' })).rejects.toThrow(
        /group "tx pool"/,
      );
    });

    it('lets a running handler finish before close resolves; afterwards publish and subscribe reject', async () => {
      let release!: () => void;
      const gate = new Promise<void>((resolve) => {
        release = resolve;
      });
      let started = false;
      let finished = false;
      await bus.subscribe('leader.updated', async () => {
        started = true;
        await gate;
        finished = true;
      });
      await bus.publish('leader.updated', { leader: 'n0', term: 1 });
      await waitUntil(() => started, 'the handler to start');
      let closed = false;
      const closing = bus.close().then(() => {
        closed = true;
      });
      await sleep(20);
      expect(closed).toBe(false);
      release();
      await closing;
      expect(finished).toBe(true);
      await bus.close();
      await expect(bus.publish('leader.updated', { leader: 'n0', term: 2 })).rejects.toThrow(BusClosedError);
      await expect(bus.subscribe('#', () => {})).rejects.toThrow(BusClosedError);
    });
  });
}
