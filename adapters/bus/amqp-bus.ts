import { type Channel, type ChannelModel, type ConfirmChannel, type ConsumeMessage, connect } from 'amqplib';
import { type BackoffOptions, backoffDelay, DEFAULT_BACKOFF } from './backoff.ts';
import { BusBackpressureError, BusClosedError, BusError, BusUnavailableError } from './bus-errors.ts';
import type { BusHandler, BusLogger, EventBus, SubscribeOptions, Subscription } from './event-bus.ts';
import { Mailbox } from './mailbox.ts';
import { assertGroupName, assertTopic, TopicPattern } from './topic-pattern.ts';
import type { BusMessage, BusTopics, Topic } from './topics.ts';

// The event bus over RabbitMQ (amqplib). One topic exchange per node, `itchain.<nodeId>`, so several
// nodes share a broker without hearing each other. Publishing goes through a confirm channel; each
// subscription has its own channel and queue: exclusive and auto-delete when private, a named shared
// queue when it has a group. When the connection drops the bus reconnects with capped, jittered
// exponential backoff, re-declares its exchange, queues and bindings, resumes every subscription, and
// then sends the publishes that waited (bounded: past the bound, publish rejects — nothing is dropped).
//
// Delivery is at least once: a publish that was sent but not yet confirmed when the connection dropped
// is sent again after the reconnect, and a group message whose handler had not finished is redelivered
// by the broker. Handlers should be idempotent (txs by id, blocks by height and seal).
// A private subscription's queue lives only as long as its connection: messages published by other
// processes while this one is disconnected do not reach it. Use a group (even of one) for a consumer
// that must not miss them, such as a read model in another process.

export interface AmqpBusOptions {
  url: string;
  nodeId: string;
  logger: BusLogger;
  /** Give up on the broker at start after this long. */
  connectTimeoutMs?: number;
  reconnect?: Partial<BackoffOptions>;
  /** Publishes that may wait for a reconnect; the next one is refused with BusBackpressureError. */
  maxPendingPublishes?: number;
  /** Unacknowledged messages the broker may push to one subscription ahead of its handler. */
  prefetch?: number;
  /** A group queue nobody consumes from is deleted by the broker after this long (x-expires). */
  groupQueueExpiresMs?: number;
  /** How long close() waits for outstanding publisher confirms. */
  closeTimeoutMs?: number;
}

export type AmqpBusState = 'starting' | 'connected' | 'reconnecting' | 'closing' | 'closed';

interface Outgoing {
  topic: string;
  body: Buffer;
  /** Which send this is; a confirm for an earlier send of the same message is ignored. */
  sends: number;
  resolve(): void;
  reject(error: Error): void;
}

let connectionCount = 0;

export class AmqpBus implements EventBus {
  readonly exchange: string;
  /** The broker URL with the password hidden: safe for logs and errors. */
  readonly url: string;
  /** Shown by the broker (rabbitmqctl list_connections client_properties), so a connection can be found. */
  readonly connectionName: string;
  /** Successful reconnects since start. */
  reconnects = 0;

  private currentState: AmqpBusState = 'starting';
  private connection: ChannelModel | null = null;
  private publisher: ConfirmChannel | null = null;
  private pending: Outgoing[] = [];
  private readonly inflight = new Set<Outgoing>();
  private readonly subscriptions = new Set<AmqpSubscription>();
  private readonly settings: Required<Omit<AmqpBusOptions, 'reconnect'>> & { reconnect: BackoffOptions };
  private wakeFromBackoff: (() => void) | undefined;
  private closing: Promise<void> | undefined;

  private constructor(options: AmqpBusOptions) {
    if (!/^[A-Za-z0-9_-]+$/.test(options.nodeId)) {
      throw new BusError(`node ID "${options.nodeId}" cannot name an exchange: use letters, digits, _ or -`);
    }
    this.settings = {
      connectTimeoutMs: 5_000,
      maxPendingPublishes: 10_000,
      prefetch: 64,
      groupQueueExpiresMs: 5 * 60_000,
      closeTimeoutMs: 5_000,
      ...options,
      reconnect: { ...DEFAULT_BACKOFF, ...options.reconnect },
    };
    this.exchange = `itchain.${options.nodeId}`;
    this.url = redactUrl(options.url);
    this.connectionName = `${this.exchange}.${process.pid}.${++connectionCount}`;
  }

  /** Connects, or rejects with a BusUnavailableError naming the URL within connectTimeoutMs. */
  static async connect(options: AmqpBusOptions): Promise<AmqpBus> {
    const bus = new AmqpBus(options);
    try {
      await bus.open();
    } catch (error) {
      bus.currentState = 'closed';
      throw new BusUnavailableError(bus.url, errorText(error), error);
    }
    return bus;
  }

  get state(): AmqpBusState {
    return this.currentState;
  }

  get logger(): BusLogger {
    return this.settings.logger;
  }

  publish<T extends Topic>(topic: T, payload: BusTopics[T]): Promise<void> {
    if (this.currentState === 'closing' || this.currentState === 'closed') {
      return Promise.reject(new BusClosedError(this.url));
    }
    let body: Buffer;
    try {
      assertTopic(topic);
      body = Buffer.from(JSON.stringify(payload), 'utf8');
    } catch (error) {
      return Promise.reject(error);
    }
    return new Promise<void>((resolve, reject) => {
      const message: Outgoing = { topic, body, sends: 0, resolve, reject };
      if (this.currentState === 'connected') {
        this.send(message);
      } else if (this.pending.length >= this.settings.maxPendingPublishes) {
        reject(new BusBackpressureError(this.url, this.pending.length));
      } else {
        this.pending.push(message);
      }
    });
  }

  async subscribe<P extends string>(
    pattern: P,
    handler: BusHandler<P>,
    options: SubscribeOptions = {},
  ): Promise<Subscription> {
    if (this.currentState === 'closing' || this.currentState === 'closed') throw new BusClosedError(this.url);
    const compiled = new TopicPattern(pattern);
    if (options.group !== undefined) assertGroupName(options.group);
    if (compiled.matchesNoKnownTopic()) {
      this.logger.warn({ pattern }, 'event bus subscription matches no known topic');
    }
    // The broker only routes matching topics to this queue, so the wider message type is safe.
    const subscription = new AmqpSubscription(this, pattern, options.group, handler as BusHandler);
    this.subscriptions.add(subscription);
    const connection = this.connection;
    if (this.currentState === 'connected' && connection) {
      try {
        await subscription.attach(connection);
      } catch (error) {
        if (this.connection === connection) {
          // The connection is fine, so the broker refused this subscription itself.
          this.subscriptions.delete(subscription);
          throw new BusError(`cannot subscribe to ${pattern} at ${this.url}: ${errorText(error)}`, {
            cause: error,
          });
        }
        // The connection dropped half way: the reconnect attaches it.
      }
    }
    await subscription.ready;
    return subscription;
  }

  close(): Promise<void> {
    this.closing ??= this.shutdown();
    return this.closing;
  }

  // --- used by AmqpSubscription ---

  get prefetch(): number {
    return this.settings.prefetch;
  }

  get groupQueueExpiresMs(): number {
    return this.settings.groupQueueExpiresMs;
  }

  forget(subscription: AmqpSubscription): void {
    this.subscriptions.delete(subscription);
  }

  /** A channel failed while its connection lives (queue deleted, consumer cancelled): rebuild it all. */
  rebuild(reason: string): void {
    const connection = this.connection;
    setImmediate(() => {
      if (this.connection !== connection || this.currentState !== 'connected' || !connection) return;
      this.logger.warn({ url: this.url, reason }, 'event bus rebuilds its connection');
      connection.close().catch(() => {});
    });
  }

  // --- connection life cycle ---

  /** Connects and declares everything; the bus is 'connected' only if all of it worked. */
  private async open(): Promise<void> {
    const connection = await connectBroker(
      this.settings.url,
      this.settings.connectTimeoutMs,
      this.connectionName,
    );
    let lostWhileOpening: Error | undefined;
    connection.on('error', (error: Error) => {
      lostWhileOpening ??= error;
    });
    connection.on('close', (error?: Error) => {
      lostWhileOpening ??= error ?? new Error('connection closed');
      this.onConnectionClosed(connection, error);
    });
    connection.on('blocked', (reason: string) =>
      this.logger.warn({ url: this.url, reason }, 'broker blocks publishing'),
    );
    connection.on('unblocked', () => this.logger.info({ url: this.url }, 'broker unblocked publishing'));
    try {
      const publisher = await connection.createConfirmChannel();
      publisher.on('error', (error: Error) =>
        this.logger.error({ err: error }, 'event bus publish channel failed'),
      );
      publisher.on('close', () => {
        if (this.publisher === publisher) this.rebuild('publish channel closed');
      });
      await publisher.assertExchange(this.exchange, 'topic', { durable: false, autoDelete: false });
      for (const subscription of this.subscriptions) await subscription.attach(connection);
      if (lostWhileOpening) throw lostWhileOpening;
      if (this.currentState === 'closing' || this.currentState === 'closed')
        throw new BusClosedError(this.url);
      this.connection = connection;
      this.publisher = publisher;
      this.currentState = 'connected';
    } catch (error) {
      await connection.close().catch(() => {});
      throw error;
    }
    const waiting = this.pending;
    this.pending = [];
    for (const message of waiting) this.send(message);
  }

  private send(message: Outgoing): void {
    const publisher = this.publisher as ConfirmChannel;
    const send = ++message.sends;
    this.inflight.add(message);
    const confirmed = (error: unknown) => {
      if (message.sends !== send || !this.inflight.has(message)) return;
      if (error == null) {
        this.inflight.delete(message);
        message.resolve();
      } else if (error instanceof Error && error.message === 'message nacked') {
        this.inflight.delete(message);
        message.reject(new BusError(`the broker at ${this.url} refused (nack) a ${message.topic} message`));
      }
      // Otherwise the channel closed before the confirm came: the message is sent again after the reconnect.
    };
    try {
      publisher.publish(
        this.exchange,
        message.topic,
        message.body,
        { contentType: 'application/json' },
        confirmed,
      );
    } catch {
      // The channel is closing; the message stays in flight and is sent again after the reconnect.
    }
  }

  private onConnectionClosed(connection: ChannelModel, error: Error | undefined): void {
    if (connection !== this.connection) return;
    this.connection = null;
    this.publisher = null;
    for (const subscription of this.subscriptions) subscription.detach();
    if (this.currentState !== 'connected') return;
    this.currentState = 'reconnecting';
    // Sent but unconfirmed: the broker may or may not have them. Send again, first and in order.
    this.pending = [...this.inflight, ...this.pending];
    this.inflight.clear();
    this.logger.warn({ url: this.url, err: error }, 'event bus lost its broker connection; reconnecting');
    void this.reconnect();
  }

  private async reconnect(): Promise<void> {
    for (let attempt = 1; this.currentState === 'reconnecting'; attempt++) {
      const delayMs = backoffDelay(attempt, this.settings.reconnect);
      await new Promise<void>((wake) => {
        const timer = setTimeout(wake, delayMs);
        this.wakeFromBackoff = () => {
          clearTimeout(timer);
          wake();
        };
      });
      this.wakeFromBackoff = undefined;
      if (this.currentState !== 'reconnecting') return;
      try {
        await this.open();
        this.reconnects++;
        this.logger.info({ url: this.url, attempt }, 'event bus reconnected; subscriptions resumed');
        return;
      } catch (error) {
        this.logger.warn({ url: this.url, attempt, err: error }, 'event bus reconnect attempt failed');
      }
    }
  }

  private async shutdown(): Promise<void> {
    this.currentState = 'closing';
    this.wakeFromBackoff?.();
    const publisher = this.publisher;
    if (publisher && this.inflight.size > 0) {
      await withTimeout(
        publisher.waitForConfirms().catch(() => {}),
        this.settings.closeTimeoutMs,
      );
    }
    const unconfirmed = [...this.inflight, ...this.pending];
    this.inflight.clear();
    this.pending = [];
    for (const message of unconfirmed) {
      message.reject(
        new BusClosedError(
          this.url,
          `the event bus closed before the broker confirmed a ${message.topic} message`,
        ),
      );
    }
    const subscriptions = [...this.subscriptions];
    await Promise.all(subscriptions.map((subscription) => subscription.stopConsuming()));
    await Promise.all(subscriptions.map((subscription) => subscription.mailbox.whenIdle()));
    for (const subscription of subscriptions) subscription.end();
    this.subscriptions.clear();
    const connection = this.connection;
    this.connection = null;
    this.publisher = null;
    if (connection) await connection.close().catch(() => {});
    this.currentState = 'closed';
  }
}

/** One subscription: its own channel and queue, re-created after every reconnect. */
class AmqpSubscription implements Subscription {
  readonly mailbox: Mailbox;
  /** Resolves once the subscription is first in place; rejects if the bus closes before that. */
  readonly ready: Promise<void>;
  private markReady!: () => void;
  private markFailed!: (error: Error) => void;
  private channel: Channel | null = null;
  private consumerTag: string | undefined;
  private active = true;

  constructor(
    private readonly bus: AmqpBus,
    readonly pattern: string,
    private readonly group: string | undefined,
    handler: BusHandler,
  ) {
    const label = group === undefined ? pattern : `${pattern} (group ${group})`;
    this.mailbox = new Mailbox(handler, bus.logger, label);
    this.ready = new Promise<void>((resolve, reject) => {
      this.markReady = resolve;
      this.markFailed = reject;
    });
    this.ready.catch(() => {});
  }

  async attach(connection: ChannelModel): Promise<void> {
    if (!this.active) return;
    const channel = await connection.createChannel();
    channel.on('error', (error: Error) =>
      this.bus.logger.error({ err: error, pattern: this.pattern }, 'event bus subscription channel failed'),
    );
    channel.on('close', () => {
      if (this.channel !== channel) return;
      this.channel = null;
      this.bus.rebuild(`subscription channel for ${this.pattern} closed`);
    });
    await channel.prefetch(this.bus.prefetch);
    const { queue } =
      this.group === undefined
        ? await channel.assertQueue('', { exclusive: true, autoDelete: true, durable: false })
        : await channel.assertQueue(`${this.bus.exchange}.${this.group}.${this.pattern}`, {
            exclusive: false,
            autoDelete: false,
            durable: false,
            arguments: { 'x-expires': this.bus.groupQueueExpiresMs },
          });
    await channel.bindQueue(queue, this.bus.exchange, this.pattern);
    if (!this.active) {
      await channel.close().catch(() => {});
      return;
    }
    this.channel = channel;
    const { consumerTag } = await channel.consume(queue, (message) => this.receive(channel, message));
    this.consumerTag = consumerTag;
    this.markReady();
  }

  /** The connection is gone, and with it the channel and any unacknowledged deliveries. */
  detach(): void {
    this.channel = null;
    this.consumerTag = undefined;
    // The broker hands a group's unacknowledged messages to the group again; handling the local copies
    // too would do the work twice. A private queue is gone, so its local copies are the only ones left.
    if (this.group !== undefined) this.mailbox.discardWaiting();
  }

  async stopConsuming(): Promise<void> {
    const { channel, consumerTag } = this;
    if (channel && consumerTag) await channel.cancel(consumerTag).catch(() => {});
  }

  /** The bus is closing: nothing more runs, and a bus that never connected fails the wait. */
  end(): void {
    this.active = false;
    this.mailbox.stop();
    this.markFailed(new BusClosedError(this.bus.url));
  }

  async unsubscribe(): Promise<void> {
    if (!this.active) return;
    this.active = false;
    this.bus.forget(this);
    this.mailbox.stop();
    const channel = this.channel;
    this.channel = null;
    // Closing the channel deletes a private queue; a group's unacknowledged messages go to the others.
    if (channel) await channel.close().catch(() => {});
  }

  private receive(channel: Channel, delivery: ConsumeMessage | null): void {
    if (delivery === null) {
      this.bus.rebuild(`the broker cancelled the consumer for ${this.pattern}`);
      return;
    }
    const topic = delivery.fields.routingKey;
    let payload: unknown;
    try {
      payload = JSON.parse(delivery.content.toString('utf8'));
    } catch (error) {
      this.bus.logger.error({ err: error, topic }, 'event bus dropped a message whose body is not JSON');
      this.ack(channel, delivery);
      return;
    }
    this.mailbox.push({
      message: { topic, payload } as BusMessage,
      settle: () => this.ack(channel, delivery),
    });
  }

  private ack(channel: Channel, delivery: ConsumeMessage): void {
    // A delivery belongs to the channel it came on; after a reconnect that channel is gone.
    if (this.channel !== channel) return;
    try {
      channel.ack(delivery);
    } catch {
      // The channel is closing; the broker redelivers (group) or drops (private) the message.
    }
  }
}

/** Without heartbeats a broker that vanishes without closing the socket goes unnoticed for minutes. */
function withHeartbeat(url: string): string {
  const parsed = new URL(url);
  if (!parsed.searchParams.has('heartbeat'))
    parsed.searchParams.set('heartbeat', String(DEFAULT_HEARTBEAT_S));
  return parsed.toString();
}

const DEFAULT_HEARTBEAT_S = 10;

async function connectBroker(url: string, timeoutMs: number, connectionName: string): Promise<ChannelModel> {
  const attempt = connect(withHeartbeat(url), {
    timeout: timeoutMs,
    // Small messages; without noDelay Nagle's algorithm holds each confirm round trip back ~40 ms.
    noDelay: true,
    clientProperties: { connection_name: connectionName },
  });
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
  });
  try {
    return await Promise.race([attempt, deadline]);
  } catch (error) {
    // A connection that comes up after the deadline is closed at once.
    attempt.then(
      (late) => late.close().catch(() => {}),
      () => {},
    );
    throw error;
  } finally {
    clearTimeout(timer);
  }
}

function withTimeout(work: Promise<void>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const limit = new Promise<void>((resolve) => {
    timer = setTimeout(resolve, ms);
  });
  return Promise.race([work, limit]).finally(() => clearTimeout(timer));
}

export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString().replace(/\/$/, '');
  } catch {
    return url;
  }
}

function errorText(error: unknown): string {
  if (error instanceof AggregateError && error.errors.length > 0) {
    return error.errors.map(errorText).join('; ');
  }
  return error instanceof Error ? error.message : String(error);
}
