// PBFT agreement under any schedule: three honest machines and one Byzantine node (it proposes two
// blocks when it is the proposer and votes for every block it sees), on a network where fast-check
// picks every step — deliver, drop or duplicate any message in flight, or fire an armed timer.
// The full adversarial simulator lives in sim/; this checks the machine on its own.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createActor } from 'xstate';
import type { Block } from '../../domain/block.ts';
import type { NodeId } from '../../domain/identity.ts';
import {
  type PbftEvent,
  type PbftRoundMachine,
  pbftRoundMachine,
  proposerOf,
} from '../../machines/pbft-round.ts';
import { blockAt, NETWORK, proposal, vote } from './pbft-harness.ts';

const IDS = ['n1', 'n2', 'n3', 'n4'];
const BYZANTINE = 'n4';
const HONEST = IDS.filter((id) => id !== BYZANTINE);

type Step = { kind: 'next' | 'deliver' | 'drop' | 'duplicate' | 'fire'; pick: number };

// Mostly in order (so rounds can complete), often out of order, sometimes lost or doubled.
const step: fc.Arbitrary<Step> = fc.oneof(
  { weight: 8, arbitrary: fc.record({ kind: fc.constant('next' as const), pick: fc.constant(0) }) },
  { weight: 4, arbitrary: fc.record({ kind: fc.constant('deliver' as const), pick: fc.nat() }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('drop' as const), pick: fc.nat() }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('duplicate' as const), pick: fc.nat() }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('fire' as const), pick: fc.nat() }) },
);

interface Commit {
  node: NodeId;
  height: number;
  blockHash: string;
}

class Cluster {
  readonly inFlight: { to: NodeId; event: PbftEvent }[] = [];
  readonly armed = new Map<NodeId, PbftEvent>();
  readonly commits: Commit[] = [];
  private readonly actors = new Map<NodeId, ReturnType<typeof createActor<PbftRoundMachine>>>();
  private readonly byzantineSeen = new Set<string>();

  constructor(machine: PbftRoundMachine) {
    for (const id of HONEST) {
      const actor = createActor(machine, {
        input: { self: id, networkId: NETWORK, validators: IDS, height: 1 },
      });
      actor.on('*', (effect) => {
        switch (effect.type) {
          case 'pbft.broadcastVote':
            this.toAll({ type: 'VOTE', vote: { ...effect.vote, signature: `sig:${id}` } });
            break;
          case 'pbft.broadcastProposal':
            this.toAll({ type: 'PROPOSAL', proposal: { ...effect.proposal, signature: `sig:${id}` } });
            break;
          case 'pbft.requestBlock':
            this.inFlight.push({
              to: id,
              event: { type: 'BLOCK_READY', block: this.block(effect.height, effect.round, id) },
            });
            break;
          case 'timer.arm': {
            const type = {
              propose: 'PROPOSE_TIMEOUT',
              prevote: 'PREVOTE_TIMEOUT',
              precommit: 'PRECOMMIT_TIMEOUT',
            } as const;
            this.armed.set(id, { type: type[effect.timer], height: effect.height, round: effect.round });
            break;
          }
          case 'pbft.commit':
            this.commits.push({ node: id, height: effect.height, blockHash: effect.blockHash });
            this.inFlight.push({ to: id, event: { type: 'START_HEIGHT', height: effect.height + 1 } });
            this.inFlight.push({ to: id, event: { type: 'TXS_WAITING' } });
            break;
        }
      });
      this.actors.set(id, actor);
    }
    for (const actor of this.actors.values()) actor.start();
    for (const id of HONEST) this.inFlight.push({ to: id, event: { type: 'TXS_WAITING' } });
  }

  private block(height: number, round: number, creator: NodeId, tag = ''): Block {
    return blockAt(height, creator, `${height}-${round}-${creator}${tag}`);
  }

  private toAll(event: PbftEvent): void {
    for (const to of IDS) this.inFlight.push({ to, event });
  }

  /** The Byzantine node: two proposals when it is the proposer, a vote for every block it sees. */
  private byzantine(event: PbftEvent): void {
    const at = event.type === 'VOTE' ? event.vote : event.type === 'PROPOSAL' ? event.proposal : null;
    if (at === null) return;
    const { height, round } = at;
    const key = `${height}/${round}`;
    if (proposerOf(IDS, null, round, height) === BYZANTINE && !this.byzantineSeen.has(`propose ${key}`)) {
      this.byzantineSeen.add(`propose ${key}`);
      const [x, y] = [this.block(height, round, BYZANTINE, 'x'), this.block(height, round, BYZANTINE, 'y')];
      for (const [to, b] of [
        ['n1', x],
        ['n2', x],
        ['n3', y],
        [BYZANTINE, x],
        [BYZANTINE, y],
      ] as const) {
        this.inFlight.push({ to, event: { type: 'PROPOSAL', proposal: proposal(BYZANTINE, b, round) } });
      }
    }
    if (event.type === 'PROPOSAL' && !this.byzantineSeen.has(`vote ${key} ${event.proposal.block.seal}`)) {
      this.byzantineSeen.add(`vote ${key} ${event.proposal.block.seal}`);
      for (const type of ['prevote', 'precommit'] as const) {
        this.toAll({ type: 'VOTE', vote: vote(BYZANTINE, type, round, event.proposal.block.seal, height) });
      }
    }
  }

  send(to: NodeId, event: PbftEvent): void {
    if (to === BYZANTINE) this.byzantine(event);
    else this.actors.get(to)?.send(event);
  }

  apply(s: Step): void {
    if (s.kind === 'fire') {
      const nodes = [...this.armed.keys()];
      const node = nodes[s.pick % Math.max(1, nodes.length)];
      const timeout = node === undefined ? undefined : this.armed.get(node);
      if (node !== undefined && timeout !== undefined) {
        this.armed.delete(node);
        this.send(node, timeout);
      }
      return;
    }
    if (this.inFlight.length === 0) return;
    const index = s.pick % this.inFlight.length;
    if (s.kind === 'next' || s.kind === 'deliver') {
      const [message] = this.inFlight.splice(index, 1);
      if (message) this.send(message.to, message.event);
    }
    if (s.kind === 'drop') this.inFlight.splice(index, 1);
    if (s.kind === 'duplicate') this.inFlight.push(this.inFlight[index]!);
  }
}

function run(steps: readonly Step[], machine: PbftRoundMachine = pbftRoundMachine): Cluster {
  const cluster = new Cluster(machine);
  for (const s of steps) cluster.apply(s);
  return cluster;
}

function disagreement(cluster: Cluster): string | undefined {
  const byHeight = new Map<number, Commit>();
  for (const commit of cluster.commits) {
    const other = byHeight.get(commit.height);
    if (other && other.blockHash !== commit.blockHash) {
      return `height ${commit.height}: ${other.node} committed ${other.blockHash.slice(0, 8)}, ${commit.node} ${commit.blockHash.slice(0, 8)}`;
    }
    byHeight.set(commit.height, commit);
  }
  return undefined;
}

const schedules = fc.array(step, { maxLength: 400, size: 'max' });

describe('pbft agreement under any schedule, with one Byzantine node of four', () => {
  it('no two honest nodes commit different blocks at one height', () => {
    fc.assert(
      fc.property(schedules, (steps) => {
        expect(disagreement(run(steps))).toBeUndefined();
      }),
      { numRuns: 200 },
    );
  });

  it('the schedules do commit blocks (the property is not vacuous)', () => {
    const committed = fc
      .sample(fc.array(step, { minLength: 300, maxLength: 400, size: 'max' }), { numRuns: 50, seed: 1 })
      .map((steps) => run(steps).commits.length);
    expect(committed.filter((c) => c > 0).length).toBeGreaterThan(10);
  });
});
