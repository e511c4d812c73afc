import { scenarioForSeed } from '../arbitrary.ts';
import { defineScenario, type Scenario } from '../scenario.ts';
import { SCENARIO_NAMES, SCENARIOS } from '../scenarios.ts';

// Which scenario `itchain sim --scenario NAME [--nodes N] --seed S` runs. Every preset of
// sim/scenarios.ts, plus `generated`: the scenario `npm run sim` generates from the seed, so a seed
// that `npm run sim` reports can be watched here.
//
// --nodes: a preset that names nodes by number (who is Byzantine, who is cut off, who crashes) is
// written for its node count, and --nodes must match it. A preset that names no node (calm, lossy,
// leader-crash, torn-crash: "whoever leads crashes") runs with any count from 4 to 10.

export const GENERATED = 'generated';
export const MIN_SCALED_NODES = 4;
export const MAX_SCALED_NODES = 10;

export class ScenarioChoiceError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ScenarioChoiceError';
  }
}

/** Every name --scenario takes, presets first. */
export function scenarioNames(): string[] {
  return [...SCENARIO_NAMES, GENERATED];
}

/** Whether a preset names nodes by number outside its client txs (then its node count is fixed). */
export function namesNodes(s: Scenario): boolean {
  return (
    s.byzantine.length > 0 ||
    s.partitions.length > 0 ||
    s.linkBlocks.length > 0 ||
    s.crashes.some((c) => c.node !== 'leader')
  );
}

/** `--list`: one line per scenario, name and what happens in it. */
export function scenarioList(): [string, string][] {
  const rows: [string, string, string][] = SCENARIO_NAMES.map((name) => {
    const s = SCENARIOS[name]!;
    const nodes = namesNodes(s)
      ? `n=${s.nodes}`
      : `n=${s.nodes} (any ${MIN_SCALED_NODES}–${MAX_SCALED_NODES})`;
    return [name, nodes, s.description];
  });
  rows.push([
    GENERATED,
    'n=4 or 7',
    'faults generated from the seed, as `npm run sim` does without --scenario',
  ]);
  const width = Math.max(...rows.map(([, nodes]) => nodes.length));
  return rows.map(([name, nodes, description]) => [name, `${nodes.padEnd(width)}  ${description}`]);
}

export function chooseScenario(name: string, seed: number, nodes: number | undefined): Scenario {
  if (name === GENERATED) {
    const s = scenarioForSeed(seed);
    if (nodes !== undefined && nodes !== s.nodes) {
      throw new ScenarioChoiceError(
        `seed ${seed} generates a scenario with ${s.nodes} nodes; --nodes ${nodes} does not match it`,
      );
    }
    return s;
  }
  const preset = SCENARIOS[name];
  if (preset === undefined) {
    throw new ScenarioChoiceError(
      `no scenario named "${name}"; known: ${scenarioNames().join(', ')} (itchain sim --list describes them)`,
    );
  }
  if (nodes === undefined || nodes === preset.nodes) return preset;
  if (namesNodes(preset)) {
    throw new ScenarioChoiceError(
      `scenario ${name} is written for ${preset.nodes} nodes (it names nodes by number); --nodes ${nodes} does not match it`,
    );
  }
  if (nodes < MIN_SCALED_NODES || nodes > MAX_SCALED_NODES) {
    throw new ScenarioChoiceError(
      `scenario ${name} runs with ${MIN_SCALED_NODES} to ${MAX_SCALED_NODES} nodes, not --nodes ${nodes}`,
    );
  }
  const txs = preset.txs.filter((t) => t.to === 'random' || t.to < nodes);
  return defineScenario({ ...preset, nodes, txs });
}
