import { pino } from 'pino';
import { AmqpBus, type AmqpBusOptions } from './amqp-bus.ts';
import { BusError } from './bus-errors.ts';
import type { BusLogger, EventBus } from './event-bus.ts';
import { MemoryBus } from './memory-bus.ts';

export { AmqpBus, type AmqpBusOptions, type AmqpBusState } from './amqp-bus.ts';
export { type BackoffOptions, backoffDelay, DEFAULT_BACKOFF } from './backoff.ts';
export { BusBackpressureError, BusClosedError, BusError, BusUnavailableError } from './bus-errors.ts';
export * from './event-bus.ts';
export { MemoryBus } from './memory-bus.ts';

/** Tuning for the AMQP bus; the defaults suit a node. */
export type AmqpTuning = Omit<AmqpBusOptions, 'url' | 'nodeId' | 'logger'>;

/**
 * The node's event bus from its `bus.url` config: 'memory' (the default) for one process, or an
 * amqp:// / amqps:// URL to run the same topics over RabbitMQ, on the exchange `itchain.<nodeId>`.
 * Rejects with a BusUnavailableError naming the URL if the broker cannot be reached in time.
 */
export async function createBus(
  url: string,
  nodeId: string,
  logger: BusLogger = pino({ name: 'bus' }),
  tuning: AmqpTuning = {},
): Promise<EventBus> {
  if (url === 'memory') return new MemoryBus(logger);
  if (/^amqps?:\/\//.test(url)) return AmqpBus.connect({ ...tuning, url, nodeId, logger });
  throw new BusError(`bus.url must be "memory" or an amqp:// URL, not "${url}"`);
}
