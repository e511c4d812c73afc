import { connect } from 'amqplib';
import fc from 'fast-check';
import { describe, expect, expectTypeOf, it } from 'vitest';
import { backoffDelay } from '../../adapters/bus/backoff.ts';
import type { BusHandler, EventBus, Topic, TopicsMatching } from '../../adapters/bus/event-bus.ts';
import { TopicPattern, topicMatches } from '../../adapters/bus/topic-pattern.ts';
import { BROKER_URL, freshNodeId } from './fixtures/broker.ts';

describe('topic patterns route as a RabbitMQ topic exchange does', () => {
  it.each([
    ['block.*', 'block.committed', true],
    ['block.*', 'block', false],
    ['block.*', 'block.committed.late', false],
    ['block.#', 'block', true],
    ['block.#', 'block.committed.late', true],
    ['#', 'tx.submitted', true],
    ['#.committed', 'committed', true],
    ['a.#.z', 'a.z', true],
    ['a.#.z', 'a.b.c.z', true],
    ['a.#.z', 'a.b.c', false],
    ['*.*', 'leader', false],
    ['#.#', 'a.b.c', true],
    ['a.*.#', 'a', false],
    ['a.*.#', 'a.b', true],
  ])('pattern %s on topic %s matches: %s', (pattern, topic, expected) => {
    expect(topicMatches(pattern, topic)).toBe(expected);
  });

  it('agrees with the real broker on random patterns and topics', async () => {
    const words = (alphabet: string[]) =>
      fc.array(fc.constantFrom(...alphabet), { minLength: 1, maxLength: 4 }).map((w) => w.join('.'));
    const patterns = [...new Set(fc.sample(words(['a', 'b', '*', '#']), { numRuns: 40, seed: 7 }))];
    const topics = [...new Set(fc.sample(words(['a', 'b', 'c']), { numRuns: 40, seed: 11 }))];
    const connection = await connect(BROKER_URL);
    try {
      const channel = await connection.createConfirmChannel();
      const exchange = `itchain.${freshNodeId()}.routing-check`;
      await channel.assertExchange(exchange, 'topic', { durable: false, autoDelete: true });
      const queues = new Map<string, string>();
      for (const pattern of patterns) {
        const { queue } = await channel.assertQueue('', { exclusive: true, autoDelete: true });
        await channel.bindQueue(queue, exchange, pattern);
        queues.set(pattern, queue);
      }
      for (const topic of topics) channel.publish(exchange, topic, Buffer.from(topic));
      await channel.waitForConfirms();
      for (const [pattern, queue] of queues) {
        const routed: string[] = [];
        for (
          let m = await channel.get(queue, { noAck: true });
          m;
          m = await channel.get(queue, { noAck: true })
        ) {
          routed.push(m.content.toString());
        }
        const pattern_ = new TopicPattern(pattern);
        expect(routed.sort(), pattern).toEqual(topics.filter((t) => pattern_.matches(t)).sort());
      }
    } finally {
      await connection.close();
    }
  });
});

describe('reconnect backoff', () => {
  const options = { initialDelayMs: 100, maxDelayMs: 2_000, factor: 2, jitter: 0.3 };

  it('doubles from the initial delay and stops at the cap when there is no jitter', () => {
    const delays = [1, 2, 3, 4, 5, 6, 7].map((attempt) => backoffDelay(attempt, options, () => 0));
    expect(delays).toEqual([100, 200, 400, 800, 1600, 2000, 2000]);
  });

  it('jitter only shortens a delay, by at most the jitter fraction, so the cap always holds', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 40 }),
        fc.double({ min: 0, max: 0.999, noNaN: true }),
        (attempt, r) => {
          const delay = backoffDelay(attempt, options, () => r);
          const plain = backoffDelay(attempt, options, () => 0);
          return (
            delay <= plain && delay >= Math.floor(plain * (1 - options.jitter)) && delay <= options.maxDelayMs
          );
        },
      ),
    );
  });
});

describe('bus types', () => {
  it('narrow a handler’s messages to the topics its pattern matches', () => {
    expectTypeOf<TopicsMatching<'block.*'>>().toEqualTypeOf<
      'block.propose' | 'block.consent' | 'block.confirm' | 'block.committed'
    >();
    expectTypeOf<TopicsMatching<'*.deleted'>>().toEqualTypeOf<'leader.deleted' | 'icode.deleted'>();
    expectTypeOf<TopicsMatching<'tx.submitted'>>().toEqualTypeOf<'tx.submitted'>();
    expectTypeOf<TopicsMatching<'#'>>().toEqualTypeOf<Topic>();
    expectTypeOf<TopicsMatching<'#.committed'>>().toEqualTypeOf<Topic>();
    expectTypeOf<Parameters<BusHandler<'leader.*'>>[0]['payload']>().toEqualTypeOf<{
      leader: string;
      term: number;
    }>();
  });

  it('refuse a payload that does not fit its topic at compile time', () => {
    const typeOnly = (bus: EventBus) => {
      // @ts-expect-error term is missing
      void bus.publish('leader.updated', { leader: 'n0' });
      // @ts-expect-error not a topic
      void bus.publish('leader.elected', { leader: 'n0', term: 1 });
    };
    expect(typeOnly).toBeTypeOf('function');
  });
});
