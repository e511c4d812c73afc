import type { SignedMessage } from './envelope-signature.ts';

// The messages waiting for one peer's stream. It is bounded in bytes and in messages so that a slow or
// stalled peer costs at most that much memory: when it is full, `offer` refuses the new message (the
// sender is told, nothing already queued is lost), and the protocols above resend on their own timers.

export interface QueuedMessage extends SignedMessage {
  /** Payload bytes plus a per-message allowance for the envelope fields. */
  readonly size: number;
}

export interface QueueLimits {
  readonly maxBytes: number;
  readonly maxMessages: number;
}

/** Bytes counted for a message beyond its payload: type, ids and protobuf framing. */
export const MESSAGE_OVERHEAD_BYTES = 64;

export function queuedMessage(message: SignedMessage): QueuedMessage {
  return { ...message, size: message.payload.length + message.type.length + MESSAGE_OVERHEAD_BYTES };
}

export class SendQueue {
  private items: QueuedMessage[] = [];
  private head = 0;
  private queuedBytes = 0;

  constructor(private readonly limits: QueueLimits) {}

  get length(): number {
    return this.items.length - this.head;
  }

  get bytes(): number {
    return this.queuedBytes;
  }

  /** Queues the message unless that would pass a limit; an empty queue takes any one message. */
  offer(message: QueuedMessage): boolean {
    const empty = this.length === 0;
    if (
      !empty &&
      (this.length >= this.limits.maxMessages || this.bytes + message.size > this.limits.maxBytes)
    ) {
      return false;
    }
    this.items.push(message);
    this.queuedBytes += message.size;
    return true;
  }

  /** Takes messages from the front, at least one, until the next would pass either batch limit. */
  take(maxBytes: number, maxMessages: number): QueuedMessage[] {
    const batch: QueuedMessage[] = [];
    let bytes = 0;
    while (this.head < this.items.length && batch.length < maxMessages) {
      const next = this.items[this.head]!;
      if (batch.length > 0 && bytes + next.size > maxBytes) break;
      batch.push(next);
      bytes += next.size;
      this.head++;
    }
    this.queuedBytes -= bytes;
    // Drop the consumed prefix now and then instead of shifting on every take.
    if (this.head > 1024 && this.head * 2 > this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
    return batch;
  }

  /** Empties the queue; returns how many messages were discarded. */
  clear(): number {
    const discarded = this.length;
    this.items = [];
    this.head = 0;
    this.queuedBytes = 0;
    return discarded;
  }
}
