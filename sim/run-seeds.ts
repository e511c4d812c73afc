import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { scenarioForSeed } from './arbitrary.ts';
import { formatViolation, type Violation } from './invariants.ts';
import type { Wiring } from './replica.ts';
import { describeScenario, type Scenario } from './scenario.ts';
import { SCENARIO_NAMES, scenarioNamed } from './scenarios.ts';
import { runSimulation } from './simulation.ts';

// `npm run sim -- --seeds N [--start S] [--scenario name] [--wiring module]`: N seeded simulations
// outside the test suite, VOPR-style. Without --scenario each seed also generates its own scenario
// (faults, Byzantine nodes, network) from the same seed, so a seed alone replays a failure. Prints
// one summary line; on a violation prints the seed, the scenario and the trace, and exits 1.

export interface SeedRunOptions {
  seeds: number;
  start: number;
  /** A preset name, or null for a scenario generated from each seed. */
  scenario: string | null;
  /** Trace lines printed per failure. */
  traceLines: number;
  /** The --wiring argument, repeated in the replay command when it is not the default. */
  wiringModule?: string;
}

export interface SeedRunSummary {
  seeds: number;
  failures: { seed: number; scenario: Scenario; violation: Violation }[];
  blocks: number;
  virtualTimeMs: number;
  steps: number;
  wallMs: number;
  /** SHA-256 over every run's trace hash: two invocations ran the same runs iff these match. */
  fingerprint: string;
}

export function runSeeds<M extends object>(
  options: SeedRunOptions,
  wiring: Wiring<M>,
  print: (line: string) => void = console.log,
): SeedRunSummary {
  const summary: SeedRunSummary = {
    seeds: 0,
    failures: [],
    blocks: 0,
    virtualTimeMs: 0,
    steps: 0,
    wallMs: 0,
    fingerprint: '',
  };
  const fingerprint = createHash('sha256');
  const t0 = performance.now();
  for (let seed = options.start; seed < options.start + options.seeds; seed++) {
    const scenario = options.scenario === null ? scenarioForSeed(seed) : scenarioNamed(options.scenario);
    const result = runSimulation(scenario, seed, wiring, { violationTraceLines: options.traceLines });
    summary.seeds += 1;
    summary.blocks += result.blocks.length;
    summary.virtualTimeMs += result.virtualTimeMs;
    summary.steps += result.steps;
    fingerprint.update(result.traceHash);
    const violation = result.violations[0];
    if (violation !== undefined) {
      summary.failures.push({ seed, scenario, violation });
      print(`\n${formatViolation(violation)}`);
      print(`  scenario: ${describeScenario(scenario)}`);
      print(`  replay: ${replayCommand(seed, options)}`);
    }
  }
  summary.wallMs = performance.now() - t0;
  summary.fingerprint = fingerprint.digest('hex');
  print(summaryLine(summary, options, wiring.name));
  return summary;
}

const DEFAULT_WIRING = 'sim/wiring.ts';

function replayCommand(seed: number, options: SeedRunOptions): string {
  const scenario = options.scenario === null ? '' : ` --scenario ${options.scenario}`;
  const module = options.wiringModule;
  const wiring = module === undefined || module === DEFAULT_WIRING ? '' : ` --wiring ${module}`;
  return `npm run sim -- --seeds 1 --start ${seed}${scenario}${wiring}`;
}

export function summaryLine(s: SeedRunSummary, options: SeedRunOptions, wiring: string): string {
  const last = options.start + options.seeds - 1;
  const rate = s.wallMs > 0 ? Math.round((s.steps / s.wallMs) * 1000) : 0;
  const failed = s.failures.map((f) => f.seed);
  const shown = failed.length > 10 ? `${failed.slice(0, 10).join(', ')} …` : failed.join(', ');
  return (
    `sim ${wiring} · ${options.scenario ?? 'generated'} · seeds ${options.start}..${last} (${s.seeds})` +
    ` · ${s.blocks} blocks committed · ${(s.virtualTimeMs / 1000).toFixed(1)} s virtual` +
    ` · ${s.steps} steps in ${(s.wallMs / 1000).toFixed(1)} s (${rate} steps/s)` +
    ` · ${s.failures.length} violation${s.failures.length === 1 ? '' : 's'}${failed.length > 0 ? ` (seeds ${shown})` : ''}` +
    ` · trace ${s.fingerprint.slice(0, 12)}`
  );
}

function isWiring(value: unknown): value is Wiring<object> {
  if (typeof value !== 'object' || value === null) return false;
  const w = value as Record<string, unknown>;
  return typeof w.name === 'string' && typeof w.create === 'function' && typeof w.describe === 'function';
}

/** Loads a module's `wiring` export (or its default export). */
export async function loadWiring(modulePath: string): Promise<Wiring<object>> {
  const mod: Record<string, unknown> = await import(pathToFileURL(resolve(modulePath)).href);
  const wiring = mod.wiring ?? mod.default;
  if (!isWiring(wiring)) throw new Error(`${modulePath} exports no \`wiring\` (name, create, describe)`);
  return wiring;
}

const USAGE = `usage: npm run sim -- --seeds N [--start S] [--scenario NAME] [--wiring MODULE] [--trace LINES]
  --scenario   one of: ${SCENARIO_NAMES.join(', ')} (default: a scenario generated from each seed)
  --wiring     a module exporting \`wiring\` (default: sim/wiring.ts, the real machines)`;

async function main(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      seeds: { type: 'string', default: '100' },
      start: { type: 'string', default: '0' },
      scenario: { type: 'string' },
      wiring: { type: 'string', default: DEFAULT_WIRING },
      trace: { type: 'string', default: '60' },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  const seeds = Number(values.seeds);
  const start = Number(values.start);
  const traceLines = Number(values.trace);
  if (![seeds, start, traceLines].every(Number.isSafeInteger) || seeds < 1 || traceLines < 0) {
    console.error(`--seeds, --start and --trace take whole numbers\n${USAGE}`);
    return 2;
  }
  const scenario = values.scenario ?? null;
  if (scenario !== null && !SCENARIO_NAMES.includes(scenario)) {
    console.error(`no scenario named ${scenario}\n${USAGE}`);
    return 2;
  }
  if (!existsSync(values.wiring)) {
    console.error(
      `${values.wiring} does not exist` +
        (values.wiring === DEFAULT_WIRING
          ? ': the real machines are not wired in yet; try --wiring test/sim/support/toy-replica.ts'
          : ''),
    );
    return 2;
  }
  const wiring = await loadWiring(values.wiring);
  const summary = runSeeds({ seeds, start, scenario, traceLines, wiringModule: values.wiring }, wiring);
  return summary.failures.length > 0 ? 1 : 0;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (err: unknown) => {
      console.error(err instanceof Error ? err.message : err);
      process.exit(2);
    },
  );
}
