// Election safety under any schedule: fast-check picks every step — deliver, drop or duplicate a message
// in flight (in any order), or fire an armed timer — and the invariants are checked on the effects.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { NodeId } from '../../domain/identity.ts';
import { electionMachine } from '../../machines/election.ts';
import { countFor } from '../../machines/quorum.ts';
import { ElectionCluster } from './election-harness.ts';

type Step = { kind: 'deliver' | 'drop' | 'duplicate'; pick: number } | { kind: 'fire'; pick: number };

const step: fc.Arbitrary<Step> = fc.oneof(
  { weight: 6, arbitrary: fc.record({ kind: fc.constant('deliver' as const), pick: fc.nat() }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('drop' as const), pick: fc.nat() }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('duplicate' as const), pick: fc.nat() }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('fire' as const), pick: fc.nat() }) },
);

function run(n: number, steps: readonly Step[], machine = electionMachine): ElectionCluster {
  const ids = Array.from({ length: n }, (_, i) => `n${i + 1}`);
  const cluster = new ElectionCluster(ids, {}, machine);
  for (const s of steps) {
    if (s.kind === 'fire') {
      const timers = ids.flatMap((id) => [...(cluster.armed.get(id) ?? [])].map((t) => [id, t] as const));
      const chosen = timers[s.pick % Math.max(1, timers.length)];
      if (chosen) cluster.fire(chosen[0], chosen[1]);
      continue;
    }
    if (cluster.inFlight.length === 0) continue;
    const index = s.pick % cluster.inFlight.length;
    if (s.kind === 'deliver') cluster.deliver(index);
    if (s.kind === 'drop') cluster.inFlight.splice(index, 1);
    if (s.kind === 'duplicate') cluster.inFlight.push(cluster.inFlight[index]!);
  }
  return cluster;
}

function leadersByTerm(cluster: ElectionCluster): Map<number, Set<NodeId>> {
  const byTerm = new Map<number, Set<NodeId>>();
  for (const { term, leader } of cluster.announcements()) {
    const set = byTerm.get(term) ?? new Set<NodeId>();
    set.add(leader);
    byTerm.set(term, set);
  }
  return byTerm;
}

describe('election safety under any schedule', () => {
  for (const n of [4, 7]) {
    it(`at most one leader per term, as every node sees it (n = ${n})`, () => {
      fc.assert(
        fc.property(fc.array(step, { maxLength: 250, size: 'max' }), (steps) => {
          const cluster = run(n, steps);
          for (const [term, leaders] of leadersByTerm(cluster)) {
            expect(leaders.size, `term ${term}: ${[...leaders].join(', ')}`).toBe(1);
          }
        }),
        { numRuns: 300 },
      );
    });
  }

  it('votes once per term: no node grants two candidates in one term, or persists two votes', () => {
    fc.assert(
      fc.property(fc.array(step, { maxLength: 250, size: 'max' }), (steps) => {
        const cluster = run(4, steps);
        for (const [node, effects] of cluster.effects) {
          const granted = new Map<number, NodeId>();
          const persisted = new Map<number, NodeId>();
          for (const e of effects) {
            if (e.type === 'election.send' && e.message.granted) {
              const before = granted.get(e.message.term) ?? e.message.candidate;
              expect(before, `${node} term ${e.message.term}`).toBe(e.message.candidate);
              granted.set(e.message.term, e.message.candidate);
              // and the vote was persisted before it left
              expect(persisted.get(e.message.term)).toBe(e.message.candidate);
            }
            if (e.type === 'election.persist' && e.votedFor !== null) {
              const before = persisted.get(e.term) ?? e.votedFor;
              expect(before, `${node} persisted term ${e.term}`).toBe(e.votedFor);
              persisted.set(e.term, e.votedFor);
            }
          }
        }
      }),
      { numRuns: 300 },
    );
  });

  it('the check bites: a variant where one vote (its own) wins an election is caught', () => {
    const noQuorum = electionMachine.provide({
      guards: { hasQuorumOfVotes: ({ context }) => countFor(context.votes, context.self) >= 1 },
    });
    const details = fc.check(
      fc.property(fc.array(step, { maxLength: 250, size: 'max' }), (steps) => {
        for (const leaders of leadersByTerm(run(4, steps, noQuorum)).values())
          if (leaders.size > 1) return false;
        return true;
      }),
      { numRuns: 300, seed: 7 },
    );
    expect(details.failed).toBe(true);
    // fast-check shrinks the schedule to a short counterexample
    expect(details.counterexample?.[0].length).toBeLessThan(20);
  });

  it('the schedules do elect leaders (the properties are not vacuous)', () => {
    const elected = fc
      .sample(fc.array(step, { minLength: 100, maxLength: 250, size: 'max' }), { numRuns: 100, seed: 42 })
      .map((steps) => leadersByTerm(run(4, steps)).size)
      .filter((terms) => terms > 0).length;
    expect(elected).toBeGreaterThan(20);
  });
});
