// Virtual time and the timers a replica arms on it. Nothing here reads the wall clock: time moves
// only when the simulator takes the next event off the queue, so a minute of protocol time costs
// as much as the events in it, and a run is the same on a fast and a slow machine.

export class VirtualClock {
  private t = 0;

  /** Milliseconds since the start of the run. */
  now(): number {
    return this.t;
  }

  advanceTo(time: number): void {
    if (time < this.t) throw new RangeError(`virtual time cannot go back from ${this.t} to ${time} ms`);
    this.t = time;
  }
}

/**
 * One node's armed timers, by the id the replica chose. Arming an id again replaces the earlier
 * timer; cancelling forgets it. The queue still holds the old event, so each arming gets a token and
 * only the event carrying the current token fires (cancellation without searching the heap).
 */
export class TimerTable {
  private readonly armed = new Map<string, number>();

  arm(timerId: string, token: number): void {
    this.armed.set(timerId, token);
  }

  cancel(timerId: string): boolean {
    return this.armed.delete(timerId);
  }

  /** True (and disarms it) when `token` is the live arming of `timerId`: the timer should fire. */
  take(timerId: string, token: number): boolean {
    if (this.armed.get(timerId) !== token) return false;
    this.armed.delete(timerId);
    return true;
  }

  isArmed(timerId: string): boolean {
    return this.armed.has(timerId);
  }

  /** A crash loses every timer. */
  clear(): void {
    this.armed.clear();
  }

  get size(): number {
    return this.armed.size;
  }
}
