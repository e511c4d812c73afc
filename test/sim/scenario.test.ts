import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { maxFaulty } from '../../domain/quorum.ts';
import { scenarioArbitrary, scenarioForSeed } from '../../sim/arbitrary.ts';
import { defineScenario, honestNodes, ScenarioError, type ScenarioInput } from '../../sim/scenario.ts';
import { SCENARIO_NAMES, SCENARIOS, scenarioNamed } from '../../sim/scenarios.ts';

const base: ScenarioInput = {
  name: 't',
  nodes: 4,
  network: { dropRate: 0, duplicateRate: 0, minDelayMs: 1, maxDelayMs: 5 },
  healAt: 1000,
  livenessBoundMs: 1000,
  durationMs: 3000,
};

function faultsEnd(s: ReturnType<typeof defineScenario>): number {
  return Math.max(
    0,
    ...s.crashes.map((c) => c.restartAt ?? 0),
    ...s.partitions.map((p) => p.until),
    ...s.linkBlocks.map((b) => b.until),
  );
}

describe('scenarios as data', () => {
  it('lists left out default to empty, a crash to clean, a submission to back-to-back', () => {
    const s = defineScenario({
      ...base,
      txs: [{ at: 0, count: 2, to: 1 }],
      crashes: [{ node: 1, at: 1, restartAt: 2 }],
    });
    expect(s.byzantine).toEqual([]);
    expect(s.partitions).toEqual([]);
    expect(s.linkBlocks).toEqual([]);
    expect(s.txs[0]!.intervalMs).toBe(0);
    expect(s.crashes[0]!.torn).toBe(false);
  });

  it.each([
    ['a node that does not exist', { byzantine: [{ node: 4, behaviours: ['silent'] }] }, 'byzantine.0.node'],
    [
      'more Byzantine nodes than f',
      { byzantine: [0, 1].map((node) => ({ node, behaviours: ['silent'] })) },
      'byzantine',
    ],
    [
      'a restart before the crash',
      { crashes: [{ node: 1, at: 500, restartAt: 400 }] },
      'crashes.0.restartAt',
    ],
    ['a restart after healAt', { crashes: [{ node: 1, at: 500, restartAt: 1500 }] }, 'crashes.0.restartAt'],
    [
      'a permanent crash on top of a Byzantine node',
      { byzantine: [{ node: 0, behaviours: ['silent'] }], crashes: [{ node: 1, at: 5, restartAt: null }] },
      'byzantine',
    ],
    [
      'a node in two groups',
      { partitions: [{ groups: [[0, 1], [1]], from: 0, until: 10 }] },
      'partitions.0.groups.1.0',
    ],
    [
      'a partition healing after healAt',
      { partitions: [{ groups: [[0]], from: 0, until: 1001 }] },
      'partitions.0.until',
    ],
    ['a link blocked to itself', { linkBlocks: [{ from: 1, to: 1, at: 0, until: 5 }] }, 'linkBlocks.0.to'],
    [
      'an unknown behaviour',
      { byzantine: [{ node: 0, behaviours: ['sneaky'] }] },
      'byzantine.0.behaviours.0',
    ],
    ['an unknown field', { crashs: [] }, '(scenario)'],
    ['a drop rate above 1', { network: { ...base.network, dropRate: 2 } }, 'network.dropRate'],
  ])('refuses %s, naming the field', (_, patch, field) => {
    const attempt = () => defineScenario({ ...base, ...(patch as Partial<ScenarioInput>) });
    expect(attempt).toThrow(ScenarioError);
    expect(attempt).toThrow(`${field}:`);
  });

  it('every preset is valid, ends its faults by healAt, stays within f, and probes an honest node after the heal', () => {
    expect(SCENARIO_NAMES).toEqual(
      expect.arrayContaining([
        'calm',
        'leader-crash',
        'partition',
        'equivocation',
        'silent-leader',
        'chaos-7',
      ]),
    );
    for (const s of Object.values(SCENARIOS)) {
      expect(defineScenario(s)).toEqual(s);
      expect(faultsEnd(s)).toBeLessThanOrEqual(s.healAt);
      expect(s.byzantine.length).toBeLessThanOrEqual(maxFaulty(s.nodes));
      const honest = honestNodes(s);
      expect(s.txs.some((t) => t.at >= s.healAt && typeof t.to === 'number' && honest.includes(t.to))).toBe(
        true,
      );
    }
    expect(() => scenarioNamed('nope')).toThrow(/known: calm/);
  });

  it('generated scenarios: n = 4 or 7, at most f Byzantine nodes, every fault over by healAt, then a tx to an honest node', () => {
    fc.assert(
      fc.property(scenarioArbitrary(), (s) => {
        expect([4, 7]).toContain(s.nodes);
        expect(s.byzantine.length).toBeLessThanOrEqual(maxFaulty(s.nodes));
        expect(faultsEnd(s)).toBeLessThanOrEqual(s.healAt);
        expect(s.crashes.every((c) => c.restartAt !== null)).toBe(true);
        const probe = s.txs.at(-1)!;
        expect(probe.at).toBeGreaterThanOrEqual(s.healAt);
        expect(honestNodes(s)).toContain(probe.to);
        expect(s.durationMs).toBe(probe.at + s.livenessBoundMs);
      }),
      { numRuns: 300 },
    );
  });

  it('generated scenarios cover both sizes, every behaviour, torn crashes, partitions and link blocks', () => {
    const samples = fc.sample(scenarioArbitrary(), { seed: 11, numRuns: 300 });
    expect(new Set(samples.map((s) => s.nodes))).toEqual(new Set([4, 7]));
    const behaviours = new Set(samples.flatMap((s) => s.byzantine.flatMap((b) => b.behaviours)));
    expect(behaviours.size).toBe(5);
    expect(samples.some((s) => s.byzantine.length === 2)).toBe(true);
    const silentAlone = (b: { behaviours: string[] }) =>
      !b.behaviours.includes('silent') || b.behaviours.length === 1;
    expect(samples.every((s) => s.byzantine.every(silentAlone))).toBe(true);
    expect(samples.some((s) => s.crashes.some((c) => c.torn))).toBe(true);
    expect(samples.some((s) => s.crashes.some((c) => c.node === 'leader'))).toBe(true);
    expect(samples.some((s) => s.partitions.length > 0)).toBe(true);
    expect(samples.some((s) => s.linkBlocks.length > 0)).toBe(true);
  });

  it('the scenario for a seed is a function of the seed', () => {
    expect(scenarioForSeed(123)).toEqual(scenarioForSeed(123));
    expect(scenarioForSeed(123)).not.toEqual(scenarioForSeed(124));
    expect(scenarioForSeed(5, { behaviours: [] }).byzantine).toEqual([]);
  });
});
