// The node's durability order (the replica's DURABILITY ORDER guarantee, actors/replica/replica.ts):
// every write — the consensus record, a block with its receipts and state — goes into ONE queue and
// is written one at a time, in call order; an effect that must not happen before the writes issued
// so far are on disk (a message to a peer, a block.committed on the bus) waits behind them as a
// barrier, and effects leave in the order they were issued.
//
//   persist(r1)  send(m1)  append(b2)  send(m2)  send(m3)
//   ─ write r1 ─┐          ─ write b2 ─┐
//               └ m1 leaves            └ m2, m3 leave
//
// A write that replaces a value (the consensus record) is coalesced: while the last queued write of
// that slot has not started, a newer value replaces it, so a burst of records costs one fsync. It is
// only ever coalesced at the tail of the queue, so nothing queued after it is written before it.
// A failed write is fatal: nothing queued after it leaves, and onFailure says why (the node stops;
// on restart the replica gets back exactly what reached the disk).

interface QueuedWrite {
  seq: number;
  slot: string | null;
  value: unknown;
  run: (value: unknown) => Promise<void>;
}

interface WaitingEffect {
  /** Runs once the write with this sequence number is durable. */
  after: number;
  run: () => void;
}

export class WriteQueue {
  private queued = 0;
  private durable = 0;
  private readonly writes: QueuedWrite[] = [];
  private readonly effects: WaitingEffect[] = [];
  private writing = false;
  private failed: Error | null = null;
  private drainWaiters: (() => void)[] = [];

  constructor(
    private readonly onFailure: (error: Error) => void,
    private readonly onEffectError: (error: unknown) => void = () => {},
  ) {}

  /** Queues a write; it runs after every write queued before it. */
  write(run: () => Promise<void>): void {
    this.push({ seq: 0, slot: null, value: undefined, run: () => run() });
  }

  /**
   * Queues a write of `value` to `slot`; when the last queued write is an unstarted write to the same
   * slot, it writes this value instead (one write for both).
   */
  replace<T>(slot: string, value: T, run: (value: T) => Promise<void>): void {
    const tail = this.writes.at(-1);
    if (tail !== undefined && tail.slot === slot) {
      tail.value = value;
      return;
    }
    this.push({ seq: 0, slot, value, run: (v) => run(v as T) });
  }

  /**
   * Runs `effect` once every write queued so far is durable — at once when none is pending and no
   * earlier effect waits. Effects run in call order. After a failed write, effects never run.
   */
  afterDurable(effect: () => void): void {
    if (this.failed !== null) return;
    if (this.effects.length === 0 && this.durable === this.queued) {
      this.runEffect(effect);
      return;
    }
    this.effects.push({ after: this.queued, run: effect });
  }

  /** Writes queued and not yet durable. */
  get pending(): number {
    return this.queued - this.durable;
  }

  get failure(): Error | null {
    return this.failed;
  }

  /** Resolves when every write queued so far is durable and the effects behind them ran (or a write failed). */
  drained(): Promise<void> {
    if (this.isIdle()) return Promise.resolve();
    return new Promise((resolve) => this.drainWaiters.push(resolve));
  }

  private isIdle(): boolean {
    return this.failed !== null || (this.durable === this.queued && this.effects.length === 0);
  }

  private push(write: QueuedWrite): void {
    if (this.failed !== null) return;
    this.queued++;
    write.seq = this.queued;
    this.writes.push(write);
    if (!this.writing) void this.pump();
  }

  private async pump(): Promise<void> {
    this.writing = true;
    try {
      for (let next = this.writes.shift(); next !== undefined; next = this.writes.shift()) {
        try {
          await next.run(next.value);
        } catch (error) {
          this.failed = error instanceof Error ? error : new Error(String(error));
          this.writes.length = 0;
          this.effects.length = 0;
          this.onFailure(this.failed);
          break;
        }
        this.durable = next.seq;
        this.release();
      }
    } finally {
      this.writing = false;
      if (this.isIdle()) for (const resolve of this.drainWaiters.splice(0)) resolve();
    }
  }

  private release(): void {
    let released = 0;
    while (released < this.effects.length && this.effects[released]!.after <= this.durable) released++;
    for (const effect of this.effects.splice(0, released)) this.runEffect(effect.run);
  }

  private runEffect(effect: () => void): void {
    try {
      effect();
    } catch (error) {
      this.onEffectError(error);
    }
  }
}
