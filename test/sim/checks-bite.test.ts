import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { scenarioArbitrary } from '../../sim/arbitrary.ts';
import type { InvariantName, Violation } from '../../sim/invariants.ts';
import type { Wiring } from '../../sim/replica.ts';
import { defineScenario, describeScenario, type Scenario } from '../../sim/scenario.ts';
import { runSimulation } from '../../sim/simulation.ts';
import { type VariantName, variantWiring } from '../../sim/variants.ts';
import { wiring as correct } from '../../sim/wiring.ts';

// The checker bites: the real replica with one of the original's bugs put back (sim/variants.ts) is
// caught by fast-check over generated scenarios, which then shrinks the failure to a small scenario
// and a short trace — printed here, as a reader would get it. Each shrunk scenario also runs clean
// with the correct machines, so the bug, not the scenario, is what the checker caught.

/**
 * A bug counts as caught when its violation shows within this many steps of a run: fast-check then
 * shrinks the scenario among runs that fail that early, so the trace a reader gets stays short (and
 * each run is cheap, the simulation stopping there).
 */
const WITHIN_STEPS = 400;
/** The hand-made scenario families below run for a second of virtual time after their faults. */
const BITE_RUN_MS = 1000;

interface Caught {
  scenario: Scenario;
  seed: number;
  violation: Violation;
  traceLines: number;
}

/**
 * fast-check until `invariant` breaks under `wiring` within WITHIN_STEPS steps, shrunk; the failing
 * run replayed with its whole trace.
 */
function catchIt<M extends object>(
  wiring: Wiring<M>,
  scenarios: fc.Arbitrary<Scenario>,
  invariant: InvariantName,
  fcSeed: number,
): Caught {
  const early = { stopOnViolation: false, maxSteps: WITHIN_STEPS };
  const breaks = (scenario: Scenario, seed: number) =>
    runSimulation(scenario, seed, wiring, { ...early, traceLimit: 0 }).violations.some(
      (v) => v.invariant === invariant,
    );
  const details = fc.check(
    fc.property(scenarios, fc.nat(), (scenario, seed) => !breaks(scenario, seed)),
    { numRuns: 2_000, seed: fcSeed },
  );
  expect(details.failed, `fast-check found no ${invariant} violation`).toBe(true);
  const [scenario, seed] = details.counterexample!;
  const replay = runSimulation(scenario, seed, wiring, {
    ...early,
    traceLimit: Number.POSITIVE_INFINITY,
    violationTraceLines: Number.POSITIVE_INFINITY,
  });
  const violation = replay.violations.find((v) => v.invariant === invariant)!;
  const caught = { scenario, seed, violation, traceLines: violation.trace.length };
  console.info(
    [
      `${wiring.name}: ${invariant} after ${details.numRuns} runs, shrunk ${details.numShrinks} times`,
      `  scenario ${describeScenario(scenario)}, seed ${seed}`,
      `  ✗ ${violation.message}`,
      `  shrunk trace: ${violation.step} steps, ${caught.traceLines} lines, ${violation.timeMs} ms virtual; the last 30:`,
      ...violation.trace.slice(-30).map((line) => `    ${line}`),
    ].join('\n'),
  );
  return caught;
}

/** The same scenario with the correct machines keeps every rule, liveness within the usual 5 s. */
function correctMachinesPass(caught: Caught): void {
  const { scenario } = caught;
  const probeAt = Math.max(scenario.healAt, ...scenario.txs.map((t) => t.at + (t.count - 1) * t.intervalMs));
  const usual = defineScenario({ ...scenario, livenessBoundMs: 5000, durationMs: probeAt + 5000 });
  expect(runSimulation(usual, caught.seed, correct).violations).toEqual([]);
}

/** Two halves of four nodes cut apart for a while, clients on both sides. */
const splitBrain: fc.Arbitrary<Scenario> = fc
  .record({
    half: fc.constantFrom<number[]>([0, 1], [0, 2], [0, 3]),
    from: fc.integer({ min: 0, max: 800 }),
    lasts: fc.integer({ min: 100, max: 1500 }),
    minDelayMs: fc.integer({ min: 1, max: 20 }),
    spreadMs: fc.integer({ min: 0, max: 50 }),
    txsAt: fc.integer({ min: 0, max: 800 }),
    txs: fc.integer({ min: 1, max: 10 }),
  })
  .map((p) => {
    const healAt = p.from + p.lasts;
    return defineScenario({
      name: 'split-brain',
      nodes: 4,
      partitions: [{ groups: [p.half], from: p.from, until: healAt }],
      network: {
        dropRate: 0,
        duplicateRate: 0,
        minDelayMs: p.minDelayMs,
        maxDelayMs: p.minDelayMs + p.spreadMs,
      },
      txs: [
        { at: p.txsAt, count: p.txs, to: 'random', intervalMs: 50 },
        { at: healAt, count: 1, to: 1 },
      ],
      healAt,
      livenessBoundMs: BITE_RUN_MS,
      durationMs: healAt + BITE_RUN_MS,
    });
  });

/**
 * n0 is Byzantine — it equivocates as proposer and double-votes — and proposes round 0 while no leader
 * is elected yet; one other node may be muted (its outgoing links blocked) for a while.
 */
const lockAttack: fc.Arbitrary<Scenario> = fc
  .record({
    muted: fc.integer({ min: 1, max: 3 }),
    at: fc.integer({ min: 0, max: 1500 }),
    lasts: fc.integer({ min: 1, max: 1500 }),
    minDelayMs: fc.integer({ min: 1, max: 20 }),
    spreadMs: fc.integer({ min: 0, max: 100 }),
    dropPercent: fc.integer({ min: 0, max: 20 }),
    txs: fc.integer({ min: 1, max: 10 }),
  })
  .map((p) => {
    const healAt = p.at + p.lasts;
    const linkBlocks = [0, 1, 2, 3]
      .filter((to) => to !== p.muted)
      .map((to) => ({ from: p.muted, to, at: p.at, until: healAt }));
    return defineScenario({
      name: 'lock-attack',
      nodes: 4,
      byzantine: [{ node: 0, behaviours: ['equivocating-leader', 'double-vote'] }],
      linkBlocks,
      network: {
        dropRate: p.dropPercent / 100,
        duplicateRate: 0,
        minDelayMs: p.minDelayMs,
        maxDelayMs: p.minDelayMs + p.spreadMs,
      },
      txs: [
        { at: 50, count: p.txs, to: 'random', intervalMs: 50 },
        { at: healAt, count: 1, to: p.muted },
      ],
      healAt,
      livenessBoundMs: BITE_RUN_MS,
      durationMs: healAt + BITE_RUN_MS,
    });
  });

/** The generated scenarios of the property tests, with network delays of at least 10 ms. */
const withDelays: fc.Arbitrary<Scenario> = scenarioArbitrary({ behaviours: [] }).map((s) =>
  defineScenario({
    ...s,
    network: {
      ...s.network,
      minDelayMs: Math.max(10, s.network.minDelayMs),
      maxDelayMs: Math.max(10, s.network.maxDelayMs),
    },
  }),
);

const variant = (name: VariantName, certifiesCommits = true) => variantWiring(name, { certifiesCommits });

describe('the checker catches the original’s bugs put back into the real replica, and shrinks them', () => {
  it('quorum ⌊n/3⌋+1: the first commit carries too few PreCommits to be a certificate', () => {
    const caught = catchIt(variant('original-quorum'), withDelays, 'certificate', 1);
    expect(caught.violation.message).toMatch(/PreCommits, 3 needed/);
    expect(caught.violation.step).toBeLessThanOrEqual(WITHIN_STEPS);
    correctMachinesPass(caught);
  }, 120_000);

  it('quorum ⌊n/3⌋+1: two halves of a split network each commit their own block (agreement)', () => {
    const caught = catchIt(variant('original-quorum', false), splitBrain, 'agreement', 2);
    expect(caught.scenario.partitions).toHaveLength(1);
    expect(caught.violation.step).toBeLessThanOrEqual(WITHIN_STEPS);
    correctMachinesPass(caught);
  }, 120_000);

  it('locking disabled: an equivocating, double-voting leader gets two honest nodes to commit different blocks', () => {
    const caught = catchIt(variant('no-locking'), lockAttack, 'agreement', 11);
    expect(caught.violation.step).toBeLessThanOrEqual(WITHIN_STEPS);
    correctMachinesPass(caught);
  }, 120_000);

  it('an election won by a single vote: two honest nodes lead one term (election safety)', () => {
    const caught = catchIt(variant('no-election-quorum'), withDelays, 'election-safety', 4);
    expect(caught.scenario).toMatchObject({ crashes: [], partitions: [], linkBlocks: [] });
    expect(caught.violation.step).toBeLessThanOrEqual(WITHIN_STEPS);
    correctMachinesPass(caught);
  }, 120_000);
});
