import type { Wiring } from '../replica.ts';
import type { Scenario } from '../scenario.ts';
import { SCENARIOS } from '../scenarios.ts';
import { runSimulation, type SimulationResult } from '../simulation.ts';
import { initialViews, type NodeView, viewsAfter } from './node-views.ts';
import type { RunWiringChoice } from './run-wiring.ts';
import { type SimStep, stepsOf } from './steps.ts';

// One simulated run, kept whole for showing: the simulator's result, and its full trace read back
// as steps. The run is computed before anything is shown (it takes a fraction of a second), so the
// terminal, `--json` and the web page all show exactly the same steps, and pacing (`--speed`,
// `--step`, the page's play button) is only a way of looking at a run that is already decided.

export interface PresentedRun {
  scenario: Scenario;
  seed: number;
  /** The simulation's result; its `trace` is the whole trace. */
  result: SimulationResult;
  steps: SimStep[];
  /** Node names in index order: n0, n1 … */
  nodeNames: string[];
}

export function presentRun<M extends object>(
  scenario: Scenario,
  seed: number,
  wiring: Wiring<M>,
): PresentedRun {
  const result = runSimulation(scenario, seed, wiring, {
    traceLimit: Number.POSITIVE_INFINITY,
    // Stop at the first violation, as `npm run sim` does: the steps shown end where the rule broke.
    stopOnViolation: true,
  });
  return {
    scenario,
    seed,
    result,
    steps: stepsOf(result.trace),
    nodeNames: Array.from({ length: scenario.nodes }, (_, i) => `n${i}`),
  };
}

/** The nodes as they stand after each step: `views[i]` follows `run.steps[i]`. */
export function nodeViewsByStep(run: PresentedRun): NodeView[][] {
  const byzantine = new Set(run.scenario.byzantine.map((b) => `n${b.node}`));
  let views = initialViews(run.nodeNames, byzantine);
  return run.steps.map((step) => {
    views = viewsAfter(views, step);
    return views;
  });
}

/** The command that replays this run. */
export function replayCommand(run: PresentedRun, choice: RunWiringChoice = {}): string {
  const { name, nodes } = run.scenario;
  // --nodes only when it is not what the scenario has anyway.
  const scaled = SCENARIOS[name] !== undefined && SCENARIOS[name].nodes !== nodes ? ` --nodes ${nodes}` : '';
  const variant = choice.variant === undefined ? '' : ` --variant ${choice.variant}`;
  const wiring = choice.module === undefined ? '' : ` --wiring ${choice.module}`;
  return `npx itchain sim --scenario ${name} --seed ${run.seed}${scaled}${variant}${wiring}`;
}
