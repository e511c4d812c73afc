// Gas in the Docker runtime. V8 in a container has no deterministic step counter (and instrumenting
// the code would need a JavaScript parser in the node), so gas here counts only what the host sees,
// which is the same on every node:
//   gasUsed = DOCKER_GAS.call + the host charges QuickJS also makes (state operations, console lines:
//             limits.ts GAS, priced identically)
// Interpreter steps are not counted. A call that computes too long is stopped by a wall-clock limit
// (DockerRuntimeOptions.callTimeoutMs) and gets an `out-of-gas` receipt; one that kills its container
// (memory) gets `out-of-memory`; both with gasUsed = its gas limit, so that when exactly it stopped
// does not show in the receipt. The time limit is far above what a sane call needs, so nodes agree in
// practice; but a call tuned to end near the limit (by computing or by growing memory slowly) can end
// differently on a slower node, and the state root then tells that node apart. That is the price of
// running unmodified V8: QuickJS, the default, counts steps and has no such edge.

export const DOCKER_GAS = {
  /** Every call: the host round trip into the container and back. */
  call: 1_000,
} as const;

/** Counts one call's gas the way QuickJS's GasMeter counts host charges: exhausted at the limit. */
export class CallMeter {
  private usedGas = 0;
  private out = false;

  constructor(readonly limit: number) {}

  get used(): number {
    return this.out ? this.limit : this.usedGas;
  }

  get exhausted(): boolean {
    return this.out;
  }

  /** Returns false when this charge used the budget up (or it was used up already). */
  charge(gas: number): boolean {
    if (this.out) return false;
    this.usedGas += gas;
    if (this.usedGas >= this.limit) {
      this.out = true;
      return false;
    }
    return true;
  }

  /** Marks the budget spent: the call ran past the time limit. */
  exhaust(): void {
    this.out = true;
  }
}
