import type { PresentedRun } from './run.ts';
import type { SimStep } from './steps.ts';

// `itchain sim --json`: one JSON object per line. First the run (scenario and seed), then one object
// per step (`type: "step"`, its events as sim/present/steps.ts types them, each with the trace text
// it came from), then the summary. Same seed, same lines.

export function runJson(run: PresentedRun): string {
  return JSON.stringify({
    type: 'run',
    scenario: run.scenario,
    seed: run.seed,
    wiring: run.result.wiring,
    nodes: run.nodeNames,
  });
}

export function stepJson(step: SimStep): string {
  return JSON.stringify({ type: 'step', ...step });
}

export function summaryJson(run: PresentedRun, replay: string): string {
  const r = run.result;
  return JSON.stringify({
    type: 'summary',
    scenario: run.scenario.name,
    seed: run.seed,
    blocks: r.blocks,
    committedHeights: r.committedHeights,
    nodes: r.nodes.map((n) => ({ name: n.name, honest: n.honest, up: n.up, status: n.status })),
    violations: r.violations.map((v) => ({
      invariant: v.invariant,
      message: v.message,
      step: v.step,
      timeMs: v.timeMs,
    })),
    liveness: r.liveness,
    virtualTimeMs: r.virtualTimeMs,
    steps: r.steps,
    stats: r.stats,
    traceHash: r.traceHash,
    replay,
  });
}
