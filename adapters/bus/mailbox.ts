import type { BusLogger } from './event-bus.ts';
import type { BusMessage } from './topics.ts';

export interface Delivery {
  message: BusMessage;
  /** Called once the handler is done with it, even if it failed (AMQP acks here). */
  settle?: () => void;
}

/**
 * One subscriber's queue: messages go to its handler one at a time, in the order they came, never
 * from inside the call that pushed them, and a failing handler is logged and fed the next message.
 */
export class Mailbox {
  private items: (Delivery | undefined)[] = [];
  private head = 0;
  private draining = false;
  private stopped = false;
  private idleWaiters: (() => void)[] = [];

  constructor(
    private readonly handler: (message: BusMessage) => void | Promise<void>,
    private readonly logger: BusLogger,
    private readonly label: string,
  ) {}

  get waiting(): number {
    return this.items.length - this.head;
  }

  push(delivery: Delivery): void {
    if (this.stopped) return;
    this.items.push(delivery);
    if (!this.draining) {
      this.draining = true;
      // setImmediate, not a microtask: a handler that publishes in a loop cannot starve I/O.
      setImmediate(() => void this.drain());
    }
  }

  /** Drops the messages not yet handed to the handler and returns how many there were. */
  discardWaiting(): number {
    const dropped = this.waiting;
    this.items = [];
    this.head = 0;
    return dropped;
  }

  /** No handler call starts after this; the one running (if any) finishes. */
  stop(): void {
    this.stopped = true;
    this.discardWaiting();
    if (!this.draining) this.wakeIdle();
  }

  /** Resolves when every pushed message has been handled (or dropped by stop). */
  whenIdle(): Promise<void> {
    if (!this.draining) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  private async drain(): Promise<void> {
    while (!this.stopped && this.head < this.items.length) {
      const delivery = this.items[this.head] as Delivery;
      this.items[this.head] = undefined;
      this.head++;
      try {
        await this.handler(delivery.message);
      } catch (error) {
        this.logger.error(
          { err: error, topic: delivery.message.topic, subscriber: this.label },
          'event bus handler failed; it still gets the next message',
        );
      }
      delivery.settle?.();
      if (this.head > 1024 && this.head * 2 > this.items.length) {
        this.items = this.items.slice(this.head);
        this.head = 0;
      }
    }
    this.items = [];
    this.head = 0;
    this.draining = false;
    this.wakeIdle();
  }

  private wakeIdle(): void {
    for (const wake of this.idleWaiters.splice(0)) wake();
  }
}
