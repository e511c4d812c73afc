// The property every simulation property test asserts: a generated scenario run with the real
// replicas keeps every invariant, and its liveness probe was checked. A failure throws the
// violation with its trace and the scenario, so fast-check prints them next to its seed and path.

import { formatViolation } from '../../../sim/invariants.ts';
import type { Wiring } from '../../../sim/replica.ts';
import { describeScenario, type Scenario } from '../../../sim/scenario.ts';
import { runSimulation, type SimulationResult } from '../../../sim/simulation.ts';

export interface RunTally {
  runs: number;
  blocks: number;
  virtualMs: number;
  steps: number;
  wallMs: number;
}

export function emptyTally(): RunTally {
  return { runs: 0, blocks: 0, virtualMs: 0, steps: 0, wallMs: 0 };
}

export function holdsEveryInvariant<M extends object>(
  wiring: Wiring<M>,
  tally: RunTally,
): (scenario: Scenario, seed: number) => void {
  return (scenario, seed) => {
    const t0 = performance.now();
    const result: SimulationResult = runSimulation(scenario, seed, wiring, { violationTraceLines: 80 });
    tally.runs += 1;
    tally.blocks += result.blocks.length;
    tally.virtualMs += result.virtualTimeMs;
    tally.steps += result.steps;
    tally.wallMs += performance.now() - t0;
    const violation = result.violations[0];
    if (violation !== undefined) {
      throw new Error(`${formatViolation(violation)}\n  ${describeScenario(scenario)}`);
    }
    if (result.liveness === null || !result.liveness.checked) {
      throw new Error(`the liveness probe was not checked: ${describeScenario(scenario)}`);
    }
  };
}

export function describeTally(tally: RunTally): string {
  const rate = tally.wallMs > 0 ? Math.round((tally.steps / tally.wallMs) * 1000) : 0;
  return (
    `${tally.runs} runs · ${tally.blocks} blocks committed · ${(tally.virtualMs / 1000).toFixed(0)} s virtual` +
    ` · ${tally.steps} steps in ${(tally.wallMs / 1000).toFixed(1)} s (${rate} steps/s)`
  );
}
