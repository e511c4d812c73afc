import { describe, expect, it } from 'vitest';
import type { CommitCertificate } from '../../domain/commit-certificate.ts';
import { signVote } from '../../domain/vote.ts';
import { formatViolation, InvariantChecker, type InvariantName } from '../../sim/invariants.ts';
import type { ScenarioInput } from '../../sim/scenario.ts';
import { SCENARIOS } from '../../sim/scenarios.ts';
import { SimKeys } from '../../sim/sim-signer.ts';
import { runSimulation, simNodeId } from '../../sim/simulation.ts';
import { scripted } from './support/scripted-replica.ts';
import { type ToyBugs, toyWiring } from './support/toy-replica.ts';

/** The first violation found over a few seeds, or undefined. */
function firstViolation(scenario: ScenarioInput, bugs: ToyBugs = {}, seeds = 10) {
  const wiring = toyWiring({ bugs });
  for (let seed = 0; seed < seeds; seed++) {
    const v = runSimulation(scenario, seed, wiring).violations[0];
    if (v) return v;
  }
  return undefined;
}

describe('the checker bites', () => {
  it('agreement: an equivocating leader makes two honest toy nodes commit different blocks at one height', () => {
    const r = runSimulation(SCENARIOS.equivocation!, 1, toyWiring());
    const v = r.violations[0]!;
    expect(v.invariant).toBe('agreement');
    expect(v.message).toMatch(/^height 1: n\d committed [0-9a-f]{6}, n\d committed [0-9a-f]{6}$/);
    expect(v).toMatchObject({ seed: 1, scenario: 'equivocation' });
    const trace = v.trace.join('\n');
    expect(trace).toContain('n0 → * propose h1');
    expect(trace).toMatch(/n0 ⇢ n\d byzantine: propose h1/);
    expect(v.trace.at(-1)).toContain('✗ agreement');
    expect(r.stats.byzantineRewrites).toBeGreaterThan(0);
    console.log(formatViolation(v));
  });

  it('durability: a replica that keeps its chain only in memory forgets committed blocks after a restart', () => {
    const v = firstViolation(SCENARIOS['follower-crash']!, { forgetOnRestart: true });
    expect(v?.invariant).toBe('durability');
    expect(v?.message).toMatch(/n3 restarted at height 0, but had committed up to \d+ before crashing/);
  });

  it('durability: reporting a commit before persisting it loses a block when a torn crash lands in between', () => {
    const torn: ScenarioInput = {
      ...SCENARIOS['torn-crash']!,
      crashes: [{ node: 0, at: 700, restartAt: 1500, torn: true }],
    };
    const v = firstViolation(torn, { commitBeforePersist: true }, 20);
    expect(v?.invariant).toBe('durability');
    // The same crashes with the order right (persist, then report) break nothing.
    expect(firstViolation(torn, {}, 20)).toBeUndefined();
  });

  it('validity: a leader that proposes committed txs again is caught committing a tx twice', () => {
    const v = firstViolation(SCENARIOS.calm!, { reproposeCommitted: true });
    expect(v?.invariant).toBe('validity');
    expect(v?.message).toMatch(/committed tx [0-9a-f]{6} twice/);
  });

  it('election safety: two honest nodes claiming one term are caught', () => {
    const v = firstViolation(SCENARIOS.calm!, { everyoneLeads: true });
    expect(v?.invariant).toBe('election-safety');
    expect(v?.message).toMatch(/^term 1 has two leaders: n0 \(reported by n0\) and n1 \(reported by n1\)$/);
  });

  it('liveness: with a silent fixed leader nothing commits after the heal, and the checker names who is behind', () => {
    const r = runSimulation(SCENARIOS['silent-leader']!, 1, toyWiring());
    const v = r.violations[0]!;
    expect(v.invariant).toBe('liveness');
    expect(v.message).toMatch(/not committed within 5000ms by n1 \(height 0 follower term 1\), n2 .*, n3 /);
    expect(v.timeMs).toBe(r.liveness!.deadline);
  });

  it('the correct toy breaks no rule in any preset without a Byzantine node', () => {
    const benign = Object.values(SCENARIOS).filter((s) => s.byzantine.length === 0);
    expect(benign.length).toBeGreaterThanOrEqual(8);
    for (const s of benign) {
      for (let seed = 0; seed < 3; seed++) {
        const r = runSimulation(s, seed, toyWiring());
        expect(r.violations, `${s.name} seed ${seed}`).toEqual([]);
        expect(r.liveness?.checked).toBe(true);
      }
    }
  });

  it('certificate: a wiring that certifies commits must report 2f+1 valid PreCommits with each', () => {
    const ids = [0, 1, 2, 3].map(simNodeId);
    const certify = (cert: CommitCertificate | null) =>
      scripted<{ n: number }>({
        create: (ctx) => {
          if (ctx.name === 'n1')
            ctx.host.commit({ height: 1, blockHash: 'b1', txIds: [], certificate: cert });
        },
      });
    const run = (cert: CommitCertificate | null) =>
      runSimulation(
        {
          name: 'cert',
          nodes: 4,
          network: { dropRate: 0, duplicateRate: 0, minDelayMs: 1, maxDelayMs: 1 },
          healAt: 0,
          livenessBoundMs: 10,
          durationMs: 10,
        },
        1,
        { ...certify(cert), certifiesCommits: true },
      ).violations.map((v) => `${v.invariant}: ${v.message}`);
    const keys = new SimKeys(ids, 'itchain-sim/itchain-sim');
    const precommit = (i: number) =>
      signVote(
        { type: 'precommit', networkId: 'itchain-sim', height: 1, round: 0, blockHash: 'b1', voter: ids[i]! },
        keys.signerFor(ids[i]!),
      );
    const cert = (voters: number[]) => ({
      height: 1,
      round: 0,
      blockHash: 'b1',
      precommits: voters.map(precommit),
    });
    expect(run(cert([0, 1, 2]))).toEqual([]);
    expect(run(cert([0, 1]))).toEqual([
      expect.stringMatching(/^certificate: n1 committed height 1 b1: .*3 needed/),
    ]);
    expect(run(null)).toEqual(['certificate: n1 committed height 1 without a commit certificate']);
  });
});

describe('InvariantChecker rules', () => {
  const nodes = [0, 1, 2, 3].map((i) => ({ id: simNodeId(i), name: `n${i}`, honest: i !== 3 }));
  const checker = () => {
    const failures: string[] = [];
    const c = new InvariantChecker(
      { nodes, networkId: 'net', certificates: null, livenessBoundMs: 100 },
      (invariant: InvariantName, message: string) => failures.push(`${invariant}: ${message}`),
    );
    return { c, failures };
  };
  const commit = (height: number, blockHash: string, txIds: string[] = []) => ({
    height,
    blockHash,
    txIds,
    certificate: null,
  });

  it('commits come in order, each height once', () => {
    const { c, failures } = checker();
    c.committed(0, commit(1, 'a'));
    c.committed(0, commit(3, 'c'));
    c.committed(0, commit(1, 'a'));
    expect(failures).toEqual([
      'commit-order: n0 committed height 3 right after height 1',
      'commit-order: n0 committed height 1 right after height 1',
    ]);
  });

  it('only submitted txs commit, and a Byzantine node’s reports are not judged', () => {
    const { c, failures } = checker();
    c.txSubmitted('t1');
    c.committed(0, commit(1, 'a', ['t1']));
    c.committed(1, commit(1, 'a', ['t2']));
    c.committed(3, commit(1, 'zzz', ['nope']));
    expect(failures).toEqual(['validity: n1 committed tx t2 at height 1: nobody submitted it']);
    expect(c.agreedChain()).toEqual([{ height: 1, blockHash: 'a', txIds: ['t1'], firstBy: 'n0' }]);
  });

  it('leader reports about or from a Byzantine node do not count; honest ones must agree per term', () => {
    const { c, failures } = checker();
    c.leaderReported(0, 5, nodes[3]!.id);
    c.leaderReported(3, 5, nodes[3]!.id);
    c.leaderReported(1, 5, nodes[1]!.id);
    c.leaderReported(2, 5, nodes[1]!.id);
    c.leaderReported(2, 6, nodes[2]!.id);
    expect(failures).toEqual([]);
    expect(c.currentLeader()).toBe(2);
    c.leaderReported(0, 6, nodes[0]!.id);
    expect(failures).toEqual([
      'election-safety: term 6 has two leaders: n2 (reported by n2) and n0 (reported by n0)',
    ]);
  });

  it('a restart below the height committed before the crash is a durability violation', () => {
    const { c, failures } = checker();
    c.committed(1, commit(1, 'a'));
    c.committed(1, commit(2, 'b'));
    c.crashed(1);
    c.restarted(1, { height: 2 });
    expect(failures).toEqual([]);
    c.crashed(1);
    c.restarted(1, { height: 1 });
    expect(failures).toEqual([
      'durability: n1 restarted at height 1, but had committed up to 2 before crashing',
    ]);
  });

  it('a restart above the reported height (a torn crash cut the report) is taken as the new height', () => {
    const { c, failures } = checker();
    c.committed(1, commit(1, 'a'));
    c.crashed(1);
    c.restarted(1, { height: 2 });
    c.committed(1, commit(3, 'c'));
    expect(failures).toEqual([]);
    expect(c.heightOf(1)).toBe(3);
  });

  it('liveness counts only honest nodes that are up, and starts once', () => {
    const { c, failures } = checker();
    c.txSubmitted('p');
    expect(c.startLiveness('p', 0, 1000)).toBe(1100);
    expect(c.startLiveness('q', 0, 1050)).toBeNull();
    c.committed(0, commit(1, 'a', ['p']));
    c.checkLiveness(
      (i) => i !== 2,
      () => ({ height: 0, role: 'follower' }),
    );
    expect(failures).toEqual([
      'liveness: tx p submitted to n0 at 1000ms was not committed within 100ms by n1 (height 0 follower)',
    ]);
  });
});
