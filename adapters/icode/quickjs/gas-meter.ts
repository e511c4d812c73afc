// Deterministic gas for one call: 1 per interpreter poll point (function call or loop back-edge), plus
// whatever the host charges (state access, regexp checks). The meter keeps QuickJS's interrupt counter
// armed with at most CHUNK steps, so the handler runs once per ~10,000 steps (negligible cost) and
// fires exactly at the step where the budget runs out, whatever ran in the sandbox before.
//
// The handler is also called by the regexp engine, which does not touch the counter. The two are told
// apart by the counter's value: QuickJS resets it to 10,000 before a poll-path call, and we never arm
// it above CHUNK = 9,999, so 10,000 can only mean "the counter ran out".

import { GAS } from '../limits.ts';
import { COUNTER_RESET, type InterruptCounter } from './interrupt-counter.ts';

const CHUNK = COUNTER_RESET - 1;

export class GasMeter {
  private limit = 0;
  private remaining = 0;
  private armed = 0;
  private active = false;
  private out = false;
  private halted = false;

  constructor(private readonly counter: InterruptCounter) {}

  get exhausted(): boolean {
    return this.out;
  }

  start(limit: number): void {
    this.limit = limit;
    this.remaining = limit;
    this.out = false;
    this.halted = false;
    this.active = true;
    this.arm();
  }

  /**
   * Stops the guest at its next step without using the budget up: for when the call's outcome is
   * decided already (it broke a state rule), so that it does not keep running until its gas is gone.
   */
  halt(): void {
    if (!this.active || this.out || this.halted) return;
    this.settle();
    this.halted = true;
    this.counter.write(1);
  }

  /** The gas used; the meter stops counting. */
  stop(): number {
    if (this.active && !this.out && !this.halted) this.settle();
    this.active = false;
    return this.limit - this.remaining;
  }

  /**
   * Charges host work. Returns false when that used the budget up: the caller then throws into the
   * guest, and the guest is stopped at its next step even if it catches that.
   */
  charge(gas: number): boolean {
    if (!this.active) return true;
    if (this.out) return false;
    if (this.halted) return true;
    this.settle();
    this.remaining -= gas;
    if (this.remaining <= 0) {
      this.exhaust();
      this.counter.write(1); // the next step calls the handler, which then stops the guest
      return false;
    }
    this.arm();
    return true;
  }

  /** The runtime's interrupt handler: true stops the guest (an uncatchable "interrupted" error). */
  onInterrupt(): boolean {
    if (!this.active) return false;
    if (this.out) return true;
    if (this.halted) {
      this.remaining -= 1; // the one step it took to get here
      return true;
    }
    const value = this.counter.read();
    const used = value === COUNTER_RESET ? this.armed : this.armed - value + GAS.regexpCheck;
    this.remaining -= used;
    if (this.remaining <= 0) {
      this.exhaust();
      return true;
    }
    this.arm();
    return false;
  }

  private settle(): void {
    this.remaining -= this.armed - this.counter.read();
    this.armed = this.counter.read();
  }

  private exhaust(): void {
    this.remaining = 0;
    this.out = true;
  }

  private arm(): void {
    this.armed = Math.min(this.remaining, CHUNK);
    this.counter.write(this.armed);
  }
}
