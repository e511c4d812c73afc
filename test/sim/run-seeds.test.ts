import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { runSeeds } from '../../sim/run-seeds.ts';
import { toyWiring } from './support/toy-replica.ts';

const toy = toyWiring();

function collect() {
  const lines: string[] = [];
  return { lines, print: (line: string) => lines.push(line) };
}

describe('npm run sim (sim/run-seeds.ts)', () => {
  it('prints one summary line — seeds, blocks, virtual time, steps/s, violations — when every seed passes', () => {
    const { lines, print } = collect();
    const summary = runSeeds({ seeds: 5, start: 10, scenario: 'lossy', traceLines: 20 }, toy, print);
    expect(summary.failures).toEqual([]);
    expect(summary.seeds).toBe(5);
    expect(summary.blocks).toBeGreaterThan(50);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(
      /^sim toy · lossy · seeds 10\.\.14 \(5\) · \d+ blocks committed · 37\.5 s virtual · \d+ steps in [\d.]+ s \(\d+ steps\/s\) · 0 violations · trace [0-9a-f]{12}$/,
    );
  });

  it('generates a scenario per seed when none is named, and replays it from the seed', () => {
    const a = collect();
    const b = collect();
    const first = runSeeds({ seeds: 3, start: 100, scenario: null, traceLines: 20 }, toy, a.print);
    const again = runSeeds({ seeds: 1, start: 101, scenario: null, traceLines: 20 }, toy, b.print);
    expect(a.lines.at(-1)).toContain('· generated · seeds 100..102 (3)');
    expect(first.steps).toBeGreaterThan(again.steps);
    expect(again.failures.map((f) => f.seed)).toEqual(
      first.failures.filter((f) => f.seed === 101).map((f) => f.seed),
    );
  });

  it('prints each failure with its seed, scenario, trace and replay command', () => {
    const { lines, print } = collect();
    const summary = runSeeds(
      {
        seeds: 2,
        start: 0,
        scenario: 'equivocation',
        traceLines: 8,
        wiringModule: 'test/sim/support/toy-replica.ts',
      },
      toy,
      print,
    );
    expect(summary.failures.map((f) => f.seed)).toEqual([0, 1]);
    const out = lines.join('\n');
    expect(out).toContain('✗ agreement: height 1');
    expect(out).toContain('scenario equivocation, seed 1, step');
    expect(out).toContain(
      'replay: npm run sim -- --seeds 1 --start 1 --scenario equivocation --wiring test/sim/support/toy-replica.ts',
    );
    expect(out).toMatch(/· 2 violations \(seeds 0, 1\) · trace [0-9a-f]{12}$/);
  });

  it('exits 1 on a violation, 0 without, 2 on bad arguments or a missing wiring', () => {
    const run = (...args: string[]) =>
      spawnSync(process.execPath, ['--import', 'tsx', 'sim/run-seeds.ts', ...args], {
        encoding: 'utf8',
        timeout: 30_000,
      });
    const toyArgs = ['--wiring', 'test/sim/support/toy-replica.ts'];
    const failing = run('--seeds', '1', '--scenario', 'equivocation', ...toyArgs);
    expect(failing.status).toBe(1);
    expect(failing.stdout).toContain('1 violation (seeds 0)');
    const passing = run('--seeds', '2', '--scenario', 'calm', ...toyArgs);
    expect(passing.status).toBe(0);
    expect(passing.stdout).toContain('· 0 violations');
    // Another process, the same seeds: the same runs, to the byte.
    const trace = (out: string) => out.match(/trace ([0-9a-f]{12})/)?.[1];
    const inProcess = runSeeds({ seeds: 2, start: 0, scenario: 'calm', traceLines: 0 }, toy, () => {});
    expect(trace(passing.stdout)).toBe(inProcess.fingerprint.slice(0, 12));
    expect(run('--seeds', '1', '--scenario', 'nope', ...toyArgs).status).toBe(2);
    const missing = run('--seeds', '1', '--wiring', 'sim/no-such-wiring.ts');
    expect(missing.status).toBe(2);
    expect(missing.stderr).toContain('sim/no-such-wiring.ts does not exist');
  });
});
