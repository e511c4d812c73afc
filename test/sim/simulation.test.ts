import { describe, expect, it } from 'vitest';
import { scenarioForSeed } from '../../sim/arbitrary.ts';
import type { ScenarioInput } from '../../sim/scenario.ts';
import { SCENARIOS } from '../../sim/scenarios.ts';
import { runSimulation, simNodeId } from '../../sim/simulation.ts';
import { scripted } from './support/scripted-replica.ts';
import { toyWiring } from './support/toy-replica.ts';

const toy = toyWiring();
const quiet = { dropRate: 0, duplicateRate: 0, minDelayMs: 1, maxDelayMs: 1 };
const small = (patch: Partial<ScenarioInput>): ScenarioInput => ({
  name: 'probe',
  nodes: 4,
  network: quiet,
  healAt: 0,
  livenessBoundMs: 1000,
  durationMs: 500,
  ...patch,
});
type Msg = { n: number; note?: { x: number } };

describe('runSimulation', () => {
  it('the same seed replays the same run, to the byte of its trace; another seed does not', () => {
    for (const scenario of [SCENARIOS['chaos-7']!, SCENARIOS.lossy!, scenarioForSeed(77)]) {
      const a = runSimulation(scenario, 1234, toy);
      const b = runSimulation(scenario, 1234, toy);
      expect(b.traceHash).toBe(a.traceHash);
      expect(b).toEqual(a);
      expect(runSimulation(scenario, 1235, toy).traceHash).not.toBe(a.traceHash);
    }
  });

  it('a restarted replica gets what was persisted before its crash, nothing after; its timers and mail die with it', () => {
    const restored: { incarnation: number; count: unknown }[] = [];
    const received: number[] = [];
    const wiring = scripted<Msg>({
      create: (ctx) => {
        if (ctx.name === 'n1')
          restored.push({ incarnation: ctx.disk.incarnation, count: ctx.disk.records.get('count') });
        ctx.host.armTimer('tick', 10);
      },
      timer: (ctx) => {
        const count =
          ((ctx.disk.records.get('count') as number | undefined) ?? 0) + Math.floor(ctx.host.now() / 10);
        if (ctx.name === 'n1') ctx.host.persist('count', count);
        ctx.host.broadcast({ n: count });
        ctx.host.armTimer('tick', 10);
      },
      deliver: (ctx) => {
        if (ctx.name === 'n1') received.push(ctx.host.now());
      },
    });
    const scenario = small({ crashes: [{ node: 1, at: 105, restartAt: 300 }], healAt: 300 });
    const r = runSimulation(scenario, 1, wiring, { traceLimit: Number.POSITIVE_INFINITY });
    expect(r.violations).toEqual([]);
    expect(restored).toEqual([
      { incarnation: 0, count: undefined },
      { incarnation: 1, count: 10 },
    ]);
    expect(received.filter((t) => t > 105 && t < 300)).toEqual([]);
    expect(received.some((t) => t > 300)).toBe(true);
    expect(r.stats.network.dropped.crashed).toBeGreaterThan(0);
    expect(r.trace.join('\n')).toMatch(/n1 crashes[\s\S]*n1 restarts \(incarnation 1\)/);
  });

  it('a message in flight to a node that crashes is lost, even when the node is back before it would arrive', () => {
    const received: string[] = [];
    const wiring = scripted<Msg>({
      create: (ctx) => {
        if (ctx.name === 'n0' && ctx.disk.incarnation === 0) ctx.host.armTimer('send', 10);
      },
      timer: (ctx) => ctx.host.send(simNodeId(1), { n: 1 }),
      deliver: (ctx) => received.push(ctx.name),
    });
    const network = { ...quiet, minDelayMs: 50, maxDelayMs: 50 };
    const r = runSimulation(
      small({ network, crashes: [{ node: 1, at: 20, restartAt: 30 }], healAt: 30 }),
      1,
      wiring,
    );
    expect(received).toEqual([]);
    expect(r.stats.network.dropped.crashed).toBe(1);
  });

  it('a torn crash keeps only a prefix of the step’s writes', () => {
    const keys = 'abcdefghi'.split('');
    const prefixes = new Set<number>();
    for (let seed = 0; seed < 40; seed++) {
      let restoredKeys: string[] = [];
      const wiring = scripted<Msg>({
        create: (ctx) => {
          if (ctx.name !== 'n1') return;
          if (ctx.disk.incarnation === 0) ctx.host.armTimer('write', 50);
          else restoredKeys = [...ctx.disk.records.keys()];
        },
        timer: (ctx) => {
          for (const key of keys) ctx.host.persist(key, key);
        },
      });
      const crash = { node: 1, at: 40, restartAt: 100, torn: true };
      runSimulation(small({ crashes: [crash], healAt: 100 }), seed, wiring);
      expect(restoredKeys).toEqual(keys.slice(0, restoredKeys.length));
      expect(restoredKeys.length).toBeLessThan(keys.length);
      prefixes.add(restoredKeys.length);
    }
    expect(prefixes.size).toBeGreaterThan(4);
  });

  it('the disk stores copies: a value changed after persist is restored as it was written', () => {
    let restored: unknown;
    const wiring = scripted<Msg>({
      create: (ctx) => {
        if (ctx.name !== 'n2') return;
        if (ctx.disk.incarnation === 1) restored = ctx.disk.records.get('vote');
        const vote = { term: 1 };
        ctx.host.persist('vote', vote);
        vote.term = 99;
      },
    });
    runSimulation(small({ crashes: [{ node: 2, at: 10, restartAt: 20 }], healAt: 20 }), 1, wiring);
    expect(restored).toEqual({ term: 1 });
  });

  it('messages are frozen values: a replica that mutates one it received fails with replica-error', () => {
    const wiring = scripted<Msg>({
      create: (ctx) => {
        if (ctx.name === 'n0') ctx.host.broadcast({ n: 1, note: { x: 1 } });
      },
      deliver: (_ctx, _from, message) => {
        message.note!.x = 2;
      },
    });
    const r = runSimulation(small({}), 1, wiring);
    expect(r.violations[0]?.invariant).toBe('replica-error');
    expect(r.violations[0]?.message).toMatch(/n\d threw: .*read only/);
  });

  it('a replica that throws stops the run with a replica-error carrying the seed, step and trace', () => {
    const wiring = scripted<Msg>({
      create: (ctx) => ctx.host.armTimer('boom', 42),
      timer: (ctx) => {
        if (ctx.name === 'n3') throw new Error('kaput');
      },
    });
    const r = runSimulation(small({}), 9, wiring);
    expect(r.violations).toHaveLength(1);
    const v = r.violations[0]!;
    expect(v).toMatchObject({ invariant: 'replica-error', seed: 9, timeMs: 42 });
    expect(v.message).toContain('n3 threw: kaput');
    expect(v.trace.at(-2)).toContain('n3 timer boom');
  });

  it('a replica that keeps virtual time from moving is stopped as no-progress', () => {
    const wiring = scripted<Msg>({
      create: (ctx) => ctx.host.send(ctx.nodeId, { n: 0 }),
      deliver: (ctx, _from, m) => ctx.host.send(ctx.nodeId, { n: m.n + 1 }),
    });
    const r = runSimulation(small({}), 1, wiring, { maxStepsWithoutTime: 1000 });
    expect(r.violations[0]?.invariant).toBe('no-progress');
    expect(r.virtualTimeMs).toBe(0);
  });

  it('a message to oneself arrives at once and without faults, even on a network that loses everything', () => {
    const got: number[] = [];
    const wiring = scripted<Msg>({
      create: (ctx) => {
        if (ctx.name === 'n0') ctx.host.send(ctx.nodeId, { n: 7 });
      },
      deliver: (ctx, _from, m) => got.push(m.n, ctx.host.now()),
    });
    runSimulation(small({ network: { ...quiet, dropRate: 1 } }), 1, wiring);
    expect(got).toEqual([7, 0]);
  });

  it('a tx submitted to a node that is down is refused and never counts as submitted', () => {
    const r = runSimulation(
      small({
        crashes: [{ node: 2, at: 50, restartAt: 400 }],
        healAt: 400,
        txs: [
          { at: 100, count: 3, to: 2, intervalMs: 10 },
          { at: 100, count: 2, to: 1, intervalMs: 10 },
        ],
      }),
      1,
      toy,
    );
    expect(r.stats.txsRefused).toBe(3);
    expect(r.stats.txsSubmitted).toBe(2);
    expect(r.blocks.flatMap((b) => b.txIds)).toHaveLength(2);
  });

  it('a partition cuts the minority off and, once it heals, every node catches up (toy protocol)', () => {
    const r = runSimulation(SCENARIOS.partition!, 3, toy);
    expect(r.violations).toEqual([]);
    expect(r.stats.network.dropped.partition).toBeGreaterThan(0);
    expect(new Set(r.committedHeights).size).toBe(1);
    expect(r.liveness).toMatchObject({ checked: true, to: 3 });
    expect(r.virtualTimeMs).toBeGreaterThanOrEqual(r.liveness!.deadline);
  });

  it('a crash aimed at "leader" takes down the node honest replicas reported as leader', () => {
    const r = runSimulation(SCENARIOS['leader-crash']!, 1, toy);
    expect(r.violations).toEqual([]);
    expect(r.trace.join('\n')).not.toContain('no leader reported');
    expect(r.stats.crashes).toBe(1);
    const full = runSimulation(SCENARIOS['leader-crash']!, 1, toy, { traceLimit: Number.POSITIVE_INFINITY });
    expect(full.trace.some((l) => /800ms n0 crashes/.test(l))).toBe(true);
  });

  it('runs tens of thousands of steps per CPU second (toy protocol, lossy network)', () => {
    runSimulation(SCENARIOS.lossy!, 0, toy); // warm up the JIT
    let steps = 0;
    // CPU time, not wall time: the machine is shared, and other processes must not fail this test.
    const before = process.cpuUsage();
    for (let seed = 1; seed <= 30; seed++) steps += runSimulation(SCENARIOS.lossy!, seed, toy).steps;
    const used = process.cpuUsage(before);
    const perSecond = (steps / (used.user + used.system)) * 1e6;
    console.log(
      `simulator: ${steps} steps at ${Math.round(perSecond)} steps per CPU second (toy, lossy, 30 seeds)`,
    );
    expect(perSecond).toBeGreaterThan(20_000);
  });
});

describe('the liveness probe', () => {
  it('starts with the first tx to an honest node at or after healAt, and the run lasts until its deadline', () => {
    const r = runSimulation(
      small({
        byzantine: [{ node: 2, behaviours: ['silent'] }],
        healAt: 200,
        durationMs: 300,
        livenessBoundMs: 1000,
        txs: [
          { at: 100, count: 1, to: 1 },
          { at: 200, count: 1, to: 2 },
          { at: 200, count: 1, to: 3 },
          { at: 250, count: 1, to: 1 },
        ],
      }),
      1,
      toy,
    );
    expect(r.liveness).toMatchObject({ to: 3, submittedAt: 200, deadline: 1200, checked: true });
    expect(r.virtualTimeMs).toBe(1200);
    expect(r.violations).toEqual([]);
  });
});
