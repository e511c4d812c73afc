import { describe, expect, it } from 'vitest';
import { watchedItchainWiring } from '../../sim/present/machine-watch.ts';
import { nodeViewsByStep, presentRun } from '../../sim/present/run.ts';
import { parseEvent, type StepEvent, stepsOf } from '../../sim/present/steps.ts';
import { scenarioNamed } from '../../sim/scenarios.ts';
import { runSimulation } from '../../sim/simulation.ts';
import { itchainWiring } from '../../sim/wiring.ts';

// Reading a trace back as steps: every line shape the simulator and the replicas write becomes a
// typed event; the machines' transitions come from watching them, which must change nothing.

type Expected = StepEvent extends infer E ? (E extends StepEvent ? Omit<E, 'text'> : never) : never;

const LINES: [string, Expected][] = [
  ['start itchain: calm, seed 1', { kind: 'start' }],
  [
    'n2 ← n1 prevote h3 r0 9f2c1a by n1',
    { kind: 'deliver', node: 'n2', from: 'n1', message: 'prevote h3 r0 9f2c1a by n1' },
  ],
  ['n0 → * status? (at h0)', { kind: 'send', node: 'n0', to: 'all', message: 'status? (at h0)' }],
  ['n3 → n2 status h0', { kind: 'send', node: 'n3', to: 'n2', message: 'status h0' }],
  [
    'drop n0→n2 (loss) proposal h1 r0 ec3585 [1 txs] by n0',
    { kind: 'drop', node: 'n0', to: 'n2', reason: 'loss', message: 'proposal h1 r0 ec3585 [1 txs] by n0' },
  ],
  [
    'drop n1→n3 (partition on arrival) status h2',
    { kind: 'drop', node: 'n1', to: 'n3', reason: 'partition on arrival', message: 'status h2' },
  ],
  [
    'n0 ⇢ n1 byzantine: propose h1 82f14d',
    { kind: 'byzantine', node: 'n0', to: 'n1', message: 'propose h1 82f14d' },
  ],
  ['n0 byzantine: sent nothing', { kind: 'byzantine', node: 'n0', to: null, message: 'sent nothing' }],
  ['n2 timer election', { kind: 'timer', node: 'n2', timer: 'election' }],
  ['client → n0 tx 08bc8c', { kind: 'client', node: 'n0', tx: '08bc8c' }],
  ['client → n2: refused, node is down', { kind: 'client', node: 'n2', tx: null }],
  [
    'n1 machine pbft: round.prevote → round.precommit · h2 r1 locked r1 4aa6ac',
    {
      kind: 'transition',
      node: 'n1',
      machine: 'pbft',
      from: 'round.prevote',
      to: 'round.precommit',
      facts: 'h2 r1 locked r1 4aa6ac',
    },
  ],
  [
    'n0 machines: election follower · t0 | pbft idle · h1 r0 | batching leaderless · pool 0 | sync comparing · h0 of 0',
    {
      kind: 'machines',
      node: 'n0',
      machines: [
        { machine: 'election', state: 'follower', facts: 't0' },
        { machine: 'pbft', state: 'idle', facts: 'h1 r0' },
        { machine: 'batching', state: 'leaderless', facts: 'pool 0' },
        { machine: 'sync', state: 'comparing', facts: 'h0 of 0' },
      ],
    },
  ],
  [
    'n2 election: follower → candidate t1',
    { kind: 'role', node: 'n2', from: 'follower', to: 'candidate', term: 1 },
  ],
  ['n0 commits h1 ec3585 (1 txs)', { kind: 'commit', node: 'n0', height: 1, block: 'ec3585', txs: 1 }],
  ['n1 knows leader of term 2: n3', { kind: 'leader', node: 'n1', term: 2, leader: 'n3' }],
  ['n2 crashes at height 2', { kind: 'crash', node: 'n2', height: 2 }],
  ['n2 restarts (incarnation 1) at height 2', { kind: 'restart', node: 'n2', incarnation: 1, height: 2 }],
  ['n1 will crash inside its next step (torn)', { kind: 'fault', node: 'n1' }],
  ['partition: n3', { kind: 'fault', node: null }],
  ['partition heals: n0 n1 | n2 n3', { kind: 'fault', node: null }],
  ['link n0→n1 blocked', { kind: 'fault', node: null }],
  ['heal: every fault has ended; the network stops losing and duplicating', { kind: 'fault', node: null }],
  ['crash n3: already down', { kind: 'fault', node: 'n3' }],
  ['liveness: every honest node must commit tx f23558 by 7100ms', { kind: 'liveness' }],
  [
    '✗ agreement: height 1: n1 committed 82f14d, n2 committed b44cd9',
    {
      kind: 'violation',
      invariant: 'agreement',
      message: 'height 1: n1 committed 82f14d, n2 committed b44cd9',
    },
  ],
  ['n0 round h1 r0, proposer n0', { kind: 'log', node: 'n0' }],
  ['something else entirely', { kind: 'note' }],
];

describe('a trace line is read as a typed event', () => {
  it.each(LINES)('%s', (text, expected) => {
    expect(parseEvent(text)).toEqual({ text, ...expected });
  });
});

describe('trace lines group into steps', () => {
  it('lines with one step number are one step, with its time and the first node it names', () => {
    const steps = stepsOf([
      '#0 0ms start itchain: calm, seed 1',
      '#0 0ms n0 → * status? (at h0)',
      '#23 100ms client → n0 tx 08bc8c',
      '#23 100ms n0 round h1 r0, proposer n0',
      '#24 108ms n1 ← n0 proposal h1 r0 ec3585 [1 txs] by n0',
    ]);
    expect(steps.map((s) => [s.step, s.timeMs, s.node, s.events.length])).toEqual([
      [0, 0, 'n0', 2],
      [23, 100, 'n0', 2],
      [24, 108, 'n1', 1],
    ]);
  });
});

describe('watching the machines', () => {
  it('changes nothing the replicas do: the trace is the plain wiring’s plus the transition lines', () => {
    for (const name of ['leader-crash', 'equivocation']) {
      const options = { traceLimit: Number.POSITIVE_INFINITY };
      const plain = runSimulation(scenarioNamed(name), 11, itchainWiring(), options);
      const watched = runSimulation(scenarioNamed(name), 11, watchedItchainWiring(), options);
      const withoutWatch = watched.trace.filter((line) => !/^#\d+ \d+ms n\d+ machines?[: ]/.test(line));
      expect(watched.trace.length).toBeGreaterThan(plain.trace.length);
      expect(withoutWatch).toEqual(plain.trace);
      expect(watched.blocks).toEqual(plain.blocks);
    }
  });

  it('the node views folded from the trace agree with each replica’s own status at the end', () => {
    const run = presentRun(scenarioNamed('leader-crash'), 7, watchedItchainWiring());
    const last = nodeViewsByStep(run).at(-1)!;
    for (const [i, node] of run.result.nodes.entries()) {
      const view = last[i]!;
      expect(view.up).toBe(node.up);
      if (node.status === null) continue;
      expect(view.height).toBe(node.status.height);
      expect(view.term).toBe(node.status.term);
      expect(node.status.role?.startsWith(view.role)).toBe(true);
      expect(Object.keys(view.machines).sort()).toEqual(['batching', 'election', 'pbft', 'sync']);
    }
  });
});
