import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { scenarioArbitrary } from '../../sim/arbitrary.ts';
import { formatViolation } from '../../sim/invariants.ts';
import { describeScenario } from '../../sim/scenario.ts';
import { runSimulation } from '../../sim/simulation.ts';
import { toyWiring } from './support/toy-replica.ts';

// fast-check over the simulator, with the toy protocol standing in for the real machines: it must
// pass where it is correct and be caught — and shrunk to a few lines — where it is not.

const toy = toyWiring();

describe('fast-check over the simulator (toy protocol)', () => {
  it('without Byzantine nodes the toy keeps every rule under crashes, partitions, link blocks and loss (n = 4 and 7)', () => {
    fc.assert(
      fc.property(scenarioArbitrary({ behaviours: [] }), fc.nat(), (scenario, seed) => {
        const r = runSimulation(scenario, seed, toy);
        const v = r.violations[0];
        if (v) throw new Error(`${formatViolation(v)}\n${describeScenario(scenario)}`);
        expect(r.liveness?.checked).toBe(true);
      }),
      { numRuns: 150 },
    );
  });

  it('finds the equivocating leader and shrinks the run to the smallest scenario and a short trace', () => {
    const details = fc.check(
      fc.property(scenarioArbitrary({ behaviours: ['equivocating-leader'] }), fc.nat(), (scenario, seed) => {
        return runSimulation(scenario, seed, toy).violations.length === 0;
      }),
      { numRuns: 500, seed: 42 },
    );
    expect(details.failed).toBe(true);
    const [scenario, seed] = details.counterexample!;
    const v = runSimulation(scenario, seed, toy).violations[0]!;
    console.log(
      `fast-check seed ${details.seed} path ${details.counterexamplePath}: failed after ${details.numRuns} runs, ` +
        `${details.numShrinks} shrinks\n${describeScenario(scenario)}\n${formatViolation(v)}`,
    );
    expect(v.invariant).toBe('agreement');
    expect(scenario).toMatchObject({
      nodes: 4,
      byzantine: [{ node: 0, behaviours: ['equivocating-leader'] }],
      crashes: [],
      partitions: [],
      linkBlocks: [],
      network: { dropRate: 0, duplicateRate: 0 },
      healAt: 0,
    });
    expect(v.step).toBeLessThan(20);
    expect(v.trace.length).toBeLessThan(30);
  });
});
