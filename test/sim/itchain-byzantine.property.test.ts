import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { scenarioArbitrary } from '../../sim/arbitrary.ts';
import { itchainWiring } from '../../sim/wiring.ts';
import { ReplicaCoverage } from './support/machine-coverage-set.ts';
import { describeTally, emptyTally, holdsEveryInvariant } from './support/property-run.ts';

// The real replicas under fast-check with up to f Byzantine validators — equivocating leaders, double
// votes, votes for unknown hashes, votes forged under other IDs, silence, in any mix — on top of
// crashes, partitions, link blocks and a lossy network; n = 4 (f = 1) and 7 (f = 2). Safety at every
// step, and liveness within 5 s of virtual time once the last fault heals. FC_SEED=<seed> runs
// other scenarios, or replays a reported failure.

const RUNS = 1_000;
const SEED = 20_250_102;
const coverage = new ReplicaCoverage();
const wiring = itchainWiring({ inspect: coverage.inspect });
const tally = emptyTally();
/** Fixed, so `npm test` runs the same scenarios every time; FC_SEED=<n> explores (or replays) others. */
const seed = process.env.FC_SEED === undefined ? SEED : Number(process.env.FC_SEED);

describe('the replicas with up to f Byzantine validators, crashes and partitions (fast-check, n = 4 and 7)', () => {
  it(`keeps every invariant and commits the probe tx within the liveness bound (${RUNS} runs)`, () => {
    fc.assert(fc.property(scenarioArbitrary(), fc.nat(), holdsEveryInvariant(wiring, tally)), {
      numRuns: RUNS,
      seed,
      verbose: 1,
    });
    console.info(`Byzantine, crashes, partitions: ${describeTally(tally)}`);
    expect(tally.runs).toBe(RUNS);
    expect(tally.blocks).toBeGreaterThan(RUNS);
  }, 300_000);

  it('every state of the four machines was reached across those runs', () => {
    console.info(`machine coverage (Byzantine, crashes, partitions):\n${coverage.describe()}`);
    expect(coverage.missingStates()).toEqual([]);
  });
});
