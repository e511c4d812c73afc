import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { scenarioArbitrary } from '../../sim/arbitrary.ts';
import { itchainWiring } from '../../sim/wiring.ts';
import { ReplicaCoverage } from './support/machine-coverage-set.ts';
import { describeTally, emptyTally, holdsEveryInvariant } from './support/property-run.ts';

// The real replicas (actors/replica: the four machines wired together) under fast-check: n = 4 and 7,
// crashes (clean and torn) with restarts from the simulated disk, partitions, one-way link blocks, a
// lossy, duplicating, reordering network — no Byzantine node here (see itchain-byzantine.property).
// Every run must keep agreement, validity, commit order, durability, certificates and one leader per
// term at every step, and every honest node must commit the probe tx within 5 s of virtual time
// after the last fault heals. FC_SEED=<seed> runs other scenarios,
// or replays a reported failure.

const RUNS = 1_000;
const SEED = 20_250_101;
const coverage = new ReplicaCoverage();
const wiring = itchainWiring({ inspect: coverage.inspect });
const tally = emptyTally();
/** Fixed, so `npm test` runs the same scenarios every time; FC_SEED=<n> explores (or replays) others. */
const seed = process.env.FC_SEED === undefined ? SEED : Number(process.env.FC_SEED);

describe('the replicas under crashes, partitions and a lossy network (fast-check, n = 4 and 7)', () => {
  it(`keeps every invariant and commits the probe tx within the liveness bound (${RUNS} runs)`, () => {
    fc.assert(
      fc.property(scenarioArbitrary({ behaviours: [] }), fc.nat(), holdsEveryInvariant(wiring, tally)),
      {
        numRuns: RUNS,
        seed,
        verbose: 1,
      },
    );
    console.info(`crashes, partitions, loss: ${describeTally(tally)}`);
    expect(tally.runs).toBe(RUNS);
    expect(tally.blocks).toBeGreaterThan(RUNS);
  }, 300_000);

  it('every state of the four machines was reached across those runs', () => {
    console.info(`machine coverage (crashes, partitions, loss):\n${coverage.describe()}`);
    expect(coverage.missingStates()).toEqual([]);
  });
});
