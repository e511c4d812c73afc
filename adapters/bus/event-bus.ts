import type { BusMessage, BusTopics, Topic, TopicsMatching } from './topics.ts';

export type { BusMessage, BusTopics, PeerAddress, Topic, TopicsMatching } from './topics.ts';
export { TOPIC_NAMES, TOPICS } from './topics.ts';

// The one interface every component talks through (SPEC §6). Two implementations share it and one
// contract test suite (test/bus/bus-contract.ts): MemoryBus (in-process, the default) and AmqpBus
// (RabbitMQ, so components can run in separate processes).
//
// Delivery rules both keep:
// - a handler is never called inside publish(): delivery is always asynchronous;
// - each subscriber gets its messages one at a time, in publish order (per publisher), and the next
//   call waits for the previous handler's promise;
// - a handler that throws or rejects is logged; it still gets the next message, and so do the others;
// - subscribers with the same group (and pattern) share the work: each message goes to one of them.

/** A handler for the messages a pattern matches; its promise holds back that subscriber's next message. */
export type BusHandler<P extends string = string> = (
  message: BusMessage<TopicsMatching<P>>,
) => void | Promise<void>;

export interface SubscribeOptions {
  /**
   * Subscribers sharing a group name (and pattern) share the work: each message goes to one of them,
   * across processes on AMQP. Without a group every subscriber gets every message.
   */
  group?: string;
}

export interface Subscription {
  readonly pattern: string;
  /** After this resolves the handler is not called again. Idempotent. */
  unsubscribe(): Promise<void>;
}

export interface EventBus {
  /**
   * Resolves once the bus has accepted the message: in memory at once, on AMQP after the broker's
   * publisher confirm. Rejects with a BusError (closed bus, bad topic, backpressure), never drops.
   */
  publish<T extends Topic>(topic: T, payload: BusTopics[T]): Promise<void>;
  /**
   * AMQP-style pattern: `block.committed`, `block.*` (one word), `#` (zero or more words).
   * Resolves once the subscription is in place: every message published after that reaches it.
   */
  subscribe<P extends string>(
    pattern: P,
    handler: BusHandler<P>,
    options?: SubscribeOptions,
  ): Promise<Subscription>;
  /**
   * Refuses further publishes, lets handlers finish the messages already delivered to this process,
   * then releases everything. Idempotent. Do not await it inside a handler of the same bus.
   */
  close(): Promise<void>;
}

/** The part of a pino logger the bus uses, so any pino instance (or a test double) fits. */
export interface BusLogger {
  info(details: object, message: string): void;
  warn(details: object, message: string): void;
  error(details: object, message: string): void;
}
