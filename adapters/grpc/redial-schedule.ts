import type { NodeId } from '../../domain/identity.ts';
import { type BackoffPolicy, backoffDelay } from './backoff.ts';
import type { Logger } from './logger.ts';

// The peers this node keeps connected (bootstrap peers, and every peer it was connected to until one
// side disconnected on purpose), where to dial each, and when to try next after a loss or a failed
// attempt: with exponential backoff, capped and jittered, reset once a connection stands.

interface Wanted {
  address: string;
  attempt: number;
  timer: NodeJS.Timeout | undefined;
}

export class RedialSchedule {
  private readonly wanted = new Map<NodeId, Wanted>();

  constructor(
    private readonly policy: BackoffPolicy,
    private readonly random: () => number,
    private readonly logger: Logger,
    /** Dials the peer; called when its time has come. */
    private readonly dial: (nodeId: NodeId, address: string) => void,
  ) {}

  /** Keeps `nodeId` connected, dialling it at `address` (`host:port`) from now on. */
  want(nodeId: NodeId, address: string): void {
    if (!address) return;
    const entry = this.wanted.get(nodeId);
    if (entry) entry.address = address;
    else this.wanted.set(nodeId, { address, attempt: 0, timer: undefined });
  }

  /** Stops keeping `nodeId` connected. */
  forget(nodeId: NodeId): void {
    clearTimeout(this.wanted.get(nodeId)?.timer);
    this.wanted.delete(nodeId);
  }

  isWanted(nodeId: NodeId): boolean {
    return this.wanted.has(nodeId);
  }

  /** A connection to `nodeId` stands: no redial pending, and the next loss starts from the first delay. */
  connected(nodeId: NodeId): void {
    const entry = this.wanted.get(nodeId);
    if (!entry) return;
    clearTimeout(entry.timer);
    entry.timer = undefined;
    entry.attempt = 0;
  }

  /** Plans the next dial of a wanted peer: at once, or after the backoff delay of its next attempt. */
  schedule(nodeId: NodeId, now = false): void {
    const entry = this.wanted.get(nodeId);
    if (!entry || entry.timer) return;
    // `attempt` counts redials since the last connection from 0; a dial at start counts none.
    const attempt = entry.attempt;
    const delayMs = now ? 0 : backoffDelay(this.policy, attempt, this.random());
    if (!now) entry.attempt++;
    this.logger.debug({ peer: nodeId, address: entry.address, attempt, delayMs }, 'redial scheduled');
    entry.timer = setTimeout(() => {
      entry.timer = undefined;
      if (this.wanted.get(nodeId) === entry) this.dial(nodeId, entry.address);
    }, delayMs);
    entry.timer.unref();
  }

  clear(): void {
    for (const entry of this.wanted.values()) clearTimeout(entry.timer);
    this.wanted.clear();
  }
}
