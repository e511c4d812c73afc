import { defineScenario, type Scenario, type ScenarioInput, type TxSubmission } from './scenario.ts';

// Named scenarios: `npm run sim -- --scenario partition`, `itchain sim --scenario equivocation`, and
// the tests share them. Each is small enough to read as a testnet manifest. Unless a scenario says
// otherwise: 4 nodes, faults between 300 and 2000 ms, a steady trickle of client txs before the heal,
// and a last batch after it that every honest node must commit within the liveness bound.

const HEAL_MS = 2000;
const LIVENESS_BOUND_MS = 5000;
const LOSSY = { dropRate: 0.1, duplicateRate: 0.05, minDelayMs: 1, maxDelayMs: 40 };
const CLEAN = { dropRate: 0, duplicateRate: 0, minDelayMs: 1, maxDelayMs: 10 };

/** Txs before the heal to random nodes, then a few after it to `probeTo` (an honest node). */
function txsAround(healAt: number, probeTo: number): TxSubmission[] {
  return [
    { at: 100, count: Math.max(1, Math.floor((healAt - 100) / 50)), to: 'random', intervalMs: 50 },
    { at: healAt + 100, count: 5, to: probeTo, intervalMs: 20 },
  ];
}

function preset(
  input: Omit<ScenarioInput, 'healAt' | 'livenessBoundMs' | 'durationMs' | 'txs'> & {
    healAt?: number;
    probeTo?: number;
  },
): Scenario {
  const healAt = input.healAt ?? HEAL_MS;
  const { probeTo, ...rest } = input;
  return defineScenario({
    ...rest,
    healAt,
    livenessBoundMs: LIVENESS_BOUND_MS,
    durationMs: healAt + LIVENESS_BOUND_MS + 500,
    txs: txsAround(Math.max(healAt, 1000), probeTo ?? 1),
  });
}

export const SCENARIOS: Readonly<Record<string, Scenario>> = Object.fromEntries(
  [
    preset({
      name: 'calm',
      description: 'No faults at all: the baseline.',
      nodes: 4,
      network: CLEAN,
      healAt: 0,
    }),
    preset({
      name: 'lossy',
      description: '10% loss, 5% duplication, 1–40 ms delays that reorder, until the heal.',
      nodes: 4,
      network: LOSSY,
    }),
    preset({
      name: 'leader-crash',
      description: 'Whoever leads at 800 ms crashes and restarts at 1800 ms.',
      nodes: 4,
      network: LOSSY,
      crashes: [{ node: 'leader', at: 800, restartAt: 1800 }],
    }),
    preset({
      name: 'torn-crash',
      description: 'The leader crashes inside a step: only some of its sends and writes happen.',
      nodes: 4,
      network: CLEAN,
      crashes: [{ node: 'leader', at: 700, restartAt: 1500, torn: true }],
    }),
    preset({
      name: 'follower-crash',
      description: 'A follower is down from 500 to 1500 ms and must catch up.',
      nodes: 4,
      network: LOSSY,
      crashes: [{ node: 3, at: 500, restartAt: 1500 }],
      probeTo: 3,
    }),
    preset({
      name: 'restart-all',
      description: 'Every node crashes and restarts, staggered: only the disk remembers.',
      nodes: 4,
      network: CLEAN,
      crashes: [
        { node: 0, at: 400, restartAt: 900 },
        { node: 1, at: 600, restartAt: 1100 },
        { node: 2, at: 800, restartAt: 1300 },
        { node: 3, at: 1000, restartAt: 1500 },
      ],
    }),
    preset({
      name: 'partition',
      description: 'n3 is cut off from 300 to 1800 ms; the majority goes on.',
      nodes: 4,
      network: LOSSY,
      partitions: [{ groups: [[3]], from: 300, until: 1800 }],
      probeTo: 3,
    }),
    preset({
      name: 'split-brain',
      description: 'Two halves, neither with a quorum, from 300 to 1800 ms.',
      nodes: 4,
      network: CLEAN,
      partitions: [
        {
          groups: [
            [0, 1],
            [2, 3],
          ],
          from: 300,
          until: 1800,
        },
      ],
    }),
    preset({
      name: 'one-way-links',
      description: 'n0 can hear n1 and n2 but they cannot hear n0, from 300 to 1500 ms.',
      nodes: 4,
      network: CLEAN,
      linkBlocks: [
        { from: 0, to: 1, at: 300, until: 1500 },
        { from: 0, to: 2, at: 300, until: 1500 },
      ],
    }),
    preset({
      name: 'equivocation',
      description: 'n0 is Byzantine: as leader it proposes two blocks at one height.',
      nodes: 4,
      network: CLEAN,
      byzantine: [{ node: 0, behaviours: ['equivocating-leader'] }],
    }),
    preset({
      name: 'double-vote',
      description: 'n1 signs two conflicting votes in every round.',
      nodes: 4,
      network: LOSSY,
      byzantine: [{ node: 1, behaviours: ['double-vote'] }],
      probeTo: 2,
    }),
    preset({
      name: 'forged-votes',
      description: 'n2 sends votes under other nodes’ IDs; their signatures cannot verify.',
      nodes: 4,
      network: LOSSY,
      byzantine: [{ node: 2, behaviours: ['forged-vote'] }],
    }),
    preset({
      name: 'unknown-hash',
      description: 'n3 votes for block hashes nobody proposed.',
      nodes: 4,
      network: LOSSY,
      byzantine: [{ node: 3, behaviours: ['unknown-hash-vote'] }],
    }),
    preset({
      name: 'silent-leader',
      description: 'n0 sends nothing: it must be replaced as leader.',
      nodes: 4,
      network: CLEAN,
      byzantine: [{ node: 0, behaviours: ['silent'] }],
    }),
    preset({
      name: 'chaos-7',
      description: 'n=7, f=2: two Byzantine nodes, a crash, a partition and a lossy network at once.',
      nodes: 7,
      network: LOSSY,
      byzantine: [
        { node: 0, behaviours: ['equivocating-leader', 'double-vote'] },
        { node: 4, behaviours: ['forged-vote', 'unknown-hash-vote'] },
      ],
      crashes: [{ node: 'leader', at: 900, restartAt: 1600 }],
      partitions: [{ groups: [[1, 2], [3]], from: 400, until: 1200 }],
      probeTo: 5,
    }),
  ].map((s) => [s.name, s]),
);

export const SCENARIO_NAMES: readonly string[] = Object.keys(SCENARIOS);

export function scenarioNamed(name: string): Scenario {
  const s = SCENARIOS[name];
  if (s === undefined) throw new Error(`no scenario named ${name}; known: ${SCENARIO_NAMES.join(', ')}`);
  return s;
}
