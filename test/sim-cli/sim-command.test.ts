import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SCENARIO_NAMES } from '../../sim/scenarios.ts';
import { REPO, runSim, type SimRun, startWebSim, stop } from './run-sim.ts';

// `itchain sim` as a real process: the run of the real replica, shown step by step; the same seed
// gives the same bytes; --json; bad options; a violation; --web's page and step endpoint.

let first: SimRun;
let again: SimRun;
let otherSeed: SimRun;
let json: SimRun;

beforeAll(async () => {
  [first, again, otherSeed, json] = await Promise.all([
    runSim(['--scenario', 'leader-crash', '--seed', '4']),
    runSim(['--scenario', 'leader-crash', '--seed', '4']),
    runSim(['--scenario', 'leader-crash', '--seed', '8']),
    runSim(['--scenario', 'partition', '--seed', '3', '--json']),
  ]);
});

describe('itchain sim --scenario leader-crash --seed 4', () => {
  it('runs the real machines and shows each step: time, node, messages, transitions, commits, faults', () => {
    expect(first.stderr).toBe('');
    expect(first.code).toBe(0);
    const text = first.stdout.toString('utf8');
    expect(text).toMatch(/^itchain sim · scenario leader-crash · seed 4 · 4 nodes · wiring itchain\n/);
    expect(text).toMatch(/^#\d+ +\d+ms {2}n\d {2}← n\d {7}\S/m); // a delivery, with its step, time and node
    expect(text).toMatch(/ n\d {2}election {3}follower → candidate · t\d/);
    expect(text).toMatch(/ n\d {2}election {3}candidate → leader · t\d/);
    expect(text).toMatch(/ n\d {2}pbft {7}round\.prevote → round\.precommit · h\d+ r\d+ locked/);
    expect(text).toMatch(/ n\d {2}COMMIT {5}h1 [0-9a-f]{6} · \d+ txs?/);
    expect(text).toMatch(/ n\d {2}CRASH {6}down at height \d+/);
    expect(text).toMatch(/ n\d {2}RESTART {4}incarnation 1/);
    expect(text).toMatch(/ → n\d ✗ {5}.* \(loss\)/); // a message the lossy network dropped
  });

  it('ends with a summary: blocks committed, no violations, how to replay', () => {
    const text = first.stdout.toString('utf8');
    const summary = text.slice(text.indexOf('── summary: leader-crash, seed 4 ──'));
    expect(summary).toMatch(/\nblocks {7}\d+ committed/);
    expect(summary).toContain('\nviolations   none\n');
    expect(summary).toContain('\nreplay       npx itchain sim --scenario leader-crash --seed 4\n');
  });

  it('prints the same bytes for the same seed, in another process', () => {
    expect(again.code).toBe(0);
    expect(Buffer.compare(first.stdout, again.stdout)).toBe(0);
  });

  it('prints another run for another seed', () => {
    expect(otherSeed.code).toBe(0);
    expect(otherSeed.stdout.equals(first.stdout)).toBe(false);
  });

  it('writes no colour codes when stdout is not a TTY', () => {
    expect(first.stdout.includes('\u001b[')).toBe(false);
  });
});

describe('itchain sim --json', () => {
  it('writes one JSON object per line: the run, every step in order, then the summary', () => {
    expect(json.code).toBe(0);
    const lines = json.stdout.toString('utf8').trimEnd().split('\n');
    const objects = lines.map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(objects[0]).toMatchObject({ type: 'run', seed: 3, nodes: ['n0', 'n1', 'n2', 'n3'] });
    expect(objects.at(-1)).toMatchObject({ type: 'summary', scenario: 'partition', seed: 3, violations: [] });
    const steps = objects.slice(1, -1);
    expect(steps.length).toBeGreaterThan(100);
    const numbers = steps.map((s) => s.step as number);
    expect(numbers).toEqual([...numbers].sort((a, b) => a - b));
    expect(new Set(numbers).size).toBe(numbers.length);
    const kinds = new Set(steps.flatMap((s) => (s.events as { kind: string }[]).map((e) => e.kind)));
    for (const kind of ['deliver', 'send', 'transition', 'commit', 'leader', 'fault'])
      expect(kinds).toContain(kind);
  });
});

describe('itchain sim: bad options are one line on stderr and exit 1', () => {
  const cases: [string, string[], RegExp][] = [
    ['an unknown scenario', ['--scenario', 'meteor'], /^itchain: no scenario named "meteor"; known: calm, /],
    [
      '--nodes that does not fit a scenario naming its nodes',
      ['--scenario', 'partition', '--nodes', '7'],
      /^itchain: scenario partition is written for 4 nodes .*--nodes 7 does not match it$/,
    ],
    ['a seed that is not a number', ['--seed', 'seven'], /^itchain: --seed must be an integer from 0 to /],
    ['an unknown option', ['--frobnicate'], /^itchain: unknown option '--frobnicate'/],
    [
      '--web with --json',
      ['--web', '--json'],
      /^itchain: --json is for the terminal; --web has its own controls$/,
    ],
    ['a missing --wiring module', ['--wiring', 'nowhere.ts'], /^itchain: --wiring nowhere.ts: no such file$/],
    [
      'an unknown variant',
      ['--variant', 'no-rules'],
      /^itchain: no variant named "no-rules"; known: original-quorum, /,
    ],
  ];
  const runs = new Map<string, SimRun>();
  beforeAll(async () => {
    const results = await Promise.all(cases.map(([, args]) => runSim(args)));
    for (const [i, [name]] of cases.entries()) runs.set(name, results[i]!);
  });
  it.each(cases)('%s', (name, _args, message) => {
    const run = runs.get(name)!;
    expect(run.code).toBe(1);
    expect(run.stdout.length).toBe(0);
    expect(run.stderr.endsWith('\n')).toBe(true);
    expect(run.stderr.trimEnd().split('\n')).toHaveLength(1);
    expect(run.stderr.trimEnd()).toMatch(message);
  });
});

describe('itchain sim --list', () => {
  it('lists every named scenario with one line each', async () => {
    const run = await runSim(['--list']);
    expect(run.code).toBe(0);
    const lines = run.stdout.toString('utf8').trimEnd().split('\n').slice(1);
    expect(lines.map((l) => l.trim().split(/\s+/)[0])).toEqual([...SCENARIO_NAMES, 'generated']);
  });
});

describe('itchain sim with a violation', () => {
  it('shows it in the run and the summary, and exits 2 (the real replica, with the original quorum put back)', async () => {
    const run = await runSim(['--variant', 'original-quorum', '--scenario', 'equivocation', '--seed', '1']);
    expect(run.code).toBe(2);
    const text = run.stdout.toString('utf8');
    expect(text).toMatch(
      /^itchain sim · scenario equivocation · seed 1 · 4 nodes · wiring itchain\(original-quorum\)/,
    );
    expect(text).toMatch(/!! {2}VIOLATION {2}\S+: /);
    expect(text).toMatch(/\nviolations {3}✗ \S+ at step \d+/);
    expect(text).toContain(
      'replay       npx itchain sim --scenario equivocation --seed 1 --variant original-quorum\n',
    );
  });

  it('shows another protocol’s run with --wiring (the toy protocol trusts an equivocating leader)', async () => {
    const run = await runSim([
      '--wiring',
      'test/sim/support/toy-replica.ts',
      '--scenario',
      'equivocation',
      '--seed',
      '1',
    ]);
    expect(run.code).toBe(2);
    const text = run.stdout.toString('utf8');
    expect(text).toMatch(/!! {2}VIOLATION {2}agreement: height 1: /);
    expect(text).toMatch(/\nviolations {3}✗ agreement at step \d+/);
  });
});

describe('itchain sim --web', () => {
  let web: Awaited<ReturnType<typeof startWebSim>>;
  beforeAll(async () => {
    web = await startWebSim(['--scenario', 'leader-crash', '--seed', '4']);
  });
  afterAll(async () => {
    if (web) await stop(web.child);
  });

  it('serves its page on 127.0.0.1 with every asset local, the statecharts from the live view', async () => {
    expect(web.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/);
    const page = await fetch(web.url);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-security-policy')).toContain("default-src 'none'");
    const html = await page.text();
    const assets = [...html.matchAll(/(?:src|href)="([^"]+)"/g)]
      .map((m) => m[1]!)
      .filter((a) => !a.startsWith('data:'));
    expect(assets).toEqual(['/live-view/style.css', '/sim/sim-view.css', '/sim/sim-view.js']);
    for (const asset of assets) expect((await fetch(new URL(asset, web.url))).status).toBe(200);
    const drawing = await (await fetch(new URL('/live-view/statechart.js', web.url))).text();
    expect(drawing).toBe(readFileSync(`${REPO}adapters/live-view/page/statechart.js`, 'utf8'));
    const charts = (await (await fetch(new URL('/statecharts.json', web.url))).json()) as {
      machines: { key: string }[];
    };
    expect(charts.machines.map((m) => m.key)).toEqual(['election', 'pbft', 'sync', 'batching']);
  });

  it('answers each step with its events, its text and every node after it', async () => {
    const run = (await (await fetch(new URL('/run', web.url))).json()) as { steps: number; seed: number };
    expect(run.seed).toBe(4);
    const response = await fetch(new URL(`/steps/${run.steps - 1}`, web.url));
    expect(response.status).toBe(200);
    const step = (await response.json()) as {
      lines: string[];
      nodes: { name: string; up: boolean; machines: Record<string, { state: string }> }[];
    };
    expect(step.lines[0]).toMatch(/^#\d+ +\d+ms/);
    expect(step.nodes.map((n) => n.name)).toEqual(['n0', 'n1', 'n2', 'n3']);
    for (const node of step.nodes)
      expect(Object.keys(node.machines).sort()).toEqual(['batching', 'election', 'pbft', 'sync']);
    const page = (await (await fetch(new URL('/steps?from=0&limit=50', web.url))).json()) as {
      steps: unknown[];
    };
    expect(page.steps).toHaveLength(50);
    expect((await fetch(new URL(`/steps/${run.steps}`, web.url))).status).toBe(404);
  });

  it('stops serving on Ctrl-C, exiting 0 for a run without violations', async () => {
    expect(await stop(web.child)).toBe(0);
  });
});
