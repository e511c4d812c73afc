import { BusClosedError } from './bus-errors.ts';
import type { BusHandler, BusLogger, EventBus, SubscribeOptions, Subscription } from './event-bus.ts';
import { Mailbox } from './mailbox.ts';
import { assertGroupName, assertTopic, TopicPattern } from './topic-pattern.ts';
import type { BusMessage, BusTopics, Topic } from './topics.ts';

/**
 * The in-process bus, the default. Routes like a RabbitMQ topic exchange. Payloads are passed by
 * reference, not copied: handlers must treat them as read-only (on AMQP each gets its own copy).
 */
export class MemoryBus implements EventBus {
  private readonly subscribers = new Set<MemorySubscriber>();
  /** Round-robin position per group, keyed by group and pattern as an AMQP shared queue would be. */
  private readonly groupTurns = new Map<string, number>();
  private closed = false;
  private closing: Promise<void> | undefined;

  constructor(
    private readonly logger: BusLogger,
    readonly name = 'memory',
  ) {}

  publish<T extends Topic>(topic: T, payload: BusTopics[T]): Promise<void> {
    if (this.closed) return Promise.reject(new BusClosedError(this.name));
    try {
      assertTopic(topic);
    } catch (error) {
      return Promise.reject(error);
    }
    const message = { topic, payload } as BusMessage;
    const groupsServed = new Set<string>();
    for (const subscriber of this.subscribers) {
      if (!subscriber.pattern.matches(topic)) continue;
      if (subscriber.groupKey === undefined) {
        subscriber.mailbox.push({ message });
      } else if (!groupsServed.has(subscriber.groupKey)) {
        groupsServed.add(subscriber.groupKey);
        this.nextInGroup(subscriber.groupKey).mailbox.push({ message });
      }
    }
    return Promise.resolve();
  }

  subscribe<P extends string>(
    pattern: P,
    handler: BusHandler<P>,
    options: SubscribeOptions = {},
  ): Promise<Subscription> {
    if (this.closed) return Promise.reject(new BusClosedError(this.name));
    let compiled: TopicPattern;
    try {
      compiled = new TopicPattern(pattern);
      if (options.group !== undefined) assertGroupName(options.group);
    } catch (error) {
      return Promise.reject(error);
    }
    if (compiled.matchesNoKnownTopic()) {
      this.logger.warn({ pattern }, 'event bus subscription matches no known topic');
    }
    const label = options.group === undefined ? pattern : `${pattern} (group ${options.group})`;
    const subscriber: MemorySubscriber = {
      pattern: compiled,
      groupKey: options.group === undefined ? undefined : `${options.group}\u0000${pattern}`,
      // The bus only routes matching topics to this handler, so the wider message type is safe.
      mailbox: new Mailbox(handler as (message: BusMessage) => void | Promise<void>, this.logger, label),
    };
    this.subscribers.add(subscriber);
    const subscription: Subscription = {
      pattern,
      unsubscribe: async () => {
        this.subscribers.delete(subscriber);
        subscriber.mailbox.stop();
      },
    };
    return Promise.resolve(subscription);
  }

  /** Refuses new publishes, then delivers everything already accepted before it resolves. */
  close(): Promise<void> {
    if (!this.closing) {
      this.closed = true;
      this.closing = (async () => {
        await Promise.all([...this.subscribers].map((s) => s.mailbox.whenIdle()));
        for (const subscriber of this.subscribers) subscriber.mailbox.stop();
        this.subscribers.clear();
      })();
    }
    return this.closing;
  }

  private nextInGroup(groupKey: string): MemorySubscriber {
    const members = [...this.subscribers].filter((s) => s.groupKey === groupKey);
    const turn = this.groupTurns.get(groupKey) ?? 0;
    this.groupTurns.set(groupKey, turn + 1);
    return members[turn % members.length] as MemorySubscriber;
  }
}

interface MemorySubscriber {
  pattern: TopicPattern;
  groupKey: string | undefined;
  mailbox: Mailbox;
}
