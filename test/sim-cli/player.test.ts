import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { scenarioForSeed } from '../../sim/arbitrary.ts';
import { type PlayOptions, playRun, type Terminal } from '../../sim/present/player.ts';
import { presentRun } from '../../sim/present/run.ts';
import { chooseScenario, GENERATED, scenarioList } from '../../sim/present/scenario-choice.ts';
import { SCENARIO_NAMES, scenarioNamed } from '../../sim/scenarios.ts';
import { wiring as toyWiring } from '../sim/support/toy-replica.ts';

// Pacing is for people at a terminal: `--step` waits for Enter and `--speed` spaces the steps out
// only on a TTY; piped output comes at once. And which scenario `--scenario/--nodes/--seed` picks.

class Screen implements Terminal {
  text = '';
  constructor(readonly isTTY: boolean) {}
  write(chunk: string): boolean {
    this.text += chunk;
    return true;
  }
}

function keyboard(isTTY: boolean): PassThrough & { isTTY: boolean } {
  return Object.assign(new PassThrough(), { isTTY });
}

const run = presentRun(scenarioNamed('calm'), 1, toyWiring);

function options(out: Terminal, input: PlayOptions['input'], more: Partial<PlayOptions> = {}): PlayOptions {
  return {
    json: false,
    brief: false,
    color: false,
    nodes: null,
    fromMs: null,
    untilMs: null,
    speed: null,
    step: false,
    replay: 'npx itchain sim --scenario calm --seed 1',
    out,
    input,
    ...more,
  };
}

describe('--step', () => {
  it('on a TTY waits for Enter after each step; q skips to the summary', async () => {
    const out = new Screen(true);
    const input = keyboard(true);
    const done = playRun(run, options(out, input, { step: true }));
    await new Promise((resolve) => setTimeout(resolve, 50));
    const atFirstStop = out.text;
    expect(atFirstStop).toContain('── step 0 of');
    expect(atFirstStop).not.toContain('#1 ');
    input.write('\n');
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(out.text.length).toBeGreaterThan(atFirstStop.length);
    expect(out.text).not.toContain('── summary');
    input.write('q\n');
    await done;
    expect(out.text).toContain('── summary: calm, seed 1 ──');
  });

  it('does not wait when stdout is not a TTY: the run comes out whole, as without --step', async () => {
    const stepped = new Screen(false);
    await playRun(run, options(stepped, keyboard(true), { step: true, speed: 0.001 }));
    const plain = new Screen(false);
    await playRun(run, options(plain, keyboard(false)));
    expect(stepped.text).toBe(plain.text);
    expect(stepped.text).not.toContain('── step');
  });
});

describe('--from / --until and --brief', () => {
  it('show only the steps in the window, and still the whole run’s summary', async () => {
    const out = new Screen(false);
    await playRun(run, options(out, keyboard(false), { fromMs: 1000, untilMs: 1200 }));
    const times = [...out.text.matchAll(/^#\d+ +(\d+)ms/gm)].map((m) => Number(m[1]));
    expect(times.length).toBeGreaterThan(0);
    for (const t of times) expect(t >= 1000 && t <= 1200).toBe(true);
    expect(out.text).toContain('── summary: calm, seed 1 ──');
  });

  it('--brief keeps the steps that change something, each with its cause', async () => {
    const full = new Screen(false);
    await playRun(run, options(full, keyboard(false)));
    const brief = new Screen(false);
    await playRun(run, options(brief, keyboard(false), { brief: true }));
    expect(brief.text.length).toBeLessThan(full.text.length);
    expect(brief.text.match(/COMMIT/g)?.length).toBe(full.text.match(/COMMIT/g)?.length);
    const body = (line: string) => line.replace(/^(#\d+ +\d+ms| +)/, '');
    const fullLines = new Set(full.text.split('\n').map(body));
    for (const line of brief.text.split('\n')) expect(fullLines).toContain(body(line));
  });
});

describe('which scenario --scenario, --nodes and --seed pick', () => {
  it('every preset by its name, with its own node count', () => {
    for (const name of SCENARIO_NAMES) expect(chooseScenario(name, 1, undefined)).toBe(scenarioNamed(name));
  });

  it('a preset that names no node runs with another --nodes', () => {
    const s = chooseScenario('leader-crash', 1, 7);
    expect(s.nodes).toBe(7);
    expect(s.crashes).toEqual(scenarioNamed('leader-crash').crashes);
  });

  it('a preset that names its nodes refuses another --nodes', () => {
    expect(() => chooseScenario('equivocation', 1, 7)).toThrow(/written for 4 nodes/);
    expect(() => chooseScenario('chaos-7', 1, 4)).toThrow(/written for 7 nodes/);
  });

  it('"generated" is the scenario `npm run sim` generates from the same seed', () => {
    expect(chooseScenario(GENERATED, 42, undefined)).toEqual(scenarioForSeed(42));
  });

  it('--list has one line per scenario', () => {
    expect(scenarioList().map(([name]) => name)).toEqual([...SCENARIO_NAMES, GENERATED]);
  });
});
