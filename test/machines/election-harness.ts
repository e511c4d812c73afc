// Test support for the election machine: one node driven by hand, and a cluster of real machines on an
// in-process network whose every step (deliver, drop, duplicate, fire a timer) the test chooses.
import { createActor, type StateValue } from 'xstate';
import type { NodeId } from '../../domain/identity.ts';
import {
  type ElectionContext,
  type ElectionEffect,
  type ElectionEvent,
  type ElectionRecord,
  type ElectionVote,
  electionMachine,
  type RequestVote,
  type SignedElectionVote,
  type UpdateLeader,
} from '../../machines/election.ts';

export const NETWORK = 'testnet';

export function requestVote(candidate: NodeId, term: number, lastCommittedHeight = 0): ElectionEvent {
  const message: RequestVote = { kind: 'RequestVote', term, candidate, lastCommittedHeight };
  return { type: 'REQUEST_VOTE', message };
}

/** A signed vote with a stand-in signature (the host's check is assumed done). */
export function signed(vote: Omit<ElectionVote, 'kind' | 'networkId'>): SignedElectionVote {
  return { kind: 'Vote', networkId: NETWORK, ...vote, signature: `sig:${vote.voter}` };
}

export function voteEvent(voter: NodeId, candidate: NodeId, term: number, granted = true): ElectionEvent {
  return { type: 'VOTE', message: signed({ term, candidate, voter, granted }) };
}

/** UpdateLeader carrying granted votes from `voters` (its leader certificate when they are 2f+1). */
export function updateLeader(leader: NodeId, term: number, voters: readonly NodeId[]): ElectionEvent {
  const message: UpdateLeader = {
    kind: 'UpdateLeader',
    term,
    leader,
    votes: voters.map((voter) => signed({ term, candidate: leader, voter, granted: true })),
  };
  return { type: 'UPDATE_LEADER', message };
}

export interface DrivenElection {
  send: (event: ElectionEvent) => void;
  take: () => ElectionEffect[];
  state: () => StateValue;
  context: () => ElectionContext;
}

export function driveElection(options: {
  self: NodeId;
  validators: readonly NodeId[];
  committedHeight?: number;
  persisted?: ElectionRecord | null;
}): DrivenElection {
  const actor = createActor(electionMachine, {
    input: {
      self: options.self,
      validators: options.validators,
      networkId: NETWORK,
      committedHeight: options.committedHeight ?? 0,
      persisted: options.persisted ?? null,
    },
  });
  let effects: ElectionEffect[] = [];
  actor.on('*', (effect) => effects.push(effect));
  actor.start();
  return {
    send: (event) => actor.send(event),
    take: () => {
      const taken = effects;
      effects = [];
      return taken;
    },
    state: () => actor.getSnapshot().value,
    context: () => actor.getSnapshot().context,
  };
}

interface InFlight {
  to: NodeId;
  event: ElectionEvent;
}

/**
 * Real election machines on a network the test steps by hand. Broadcasts go to every node (the sender
 * included, as the host loops its own copy back); votes are "signed" by the sending host. Timers are
 * only marked armed; the test decides when one fires.
 */
export class ElectionCluster {
  readonly ids: NodeId[];
  readonly inFlight: InFlight[] = [];
  readonly armed = new Map<NodeId, Set<'election' | 'heartbeat'>>();
  readonly effects = new Map<NodeId, ElectionEffect[]>();
  private readonly actors = new Map<NodeId, ReturnType<typeof createActor<typeof electionMachine>>>();

  constructor(
    ids: readonly NodeId[],
    committedHeights: Partial<Record<NodeId, number>> = {},
    machine: typeof electionMachine = electionMachine,
  ) {
    this.ids = [...ids];
    for (const id of ids) {
      const actor = createActor(machine, {
        input: { self: id, validators: ids, networkId: NETWORK, committedHeight: committedHeights[id] ?? 0 },
      });
      const timers = new Set<'election' | 'heartbeat'>();
      const log: ElectionEffect[] = [];
      this.armed.set(id, timers);
      this.effects.set(id, log);
      actor.on('*', (effect) => {
        log.push(effect);
        if (effect.type === 'timer.arm') timers.add(effect.timer);
        if (effect.type === 'timer.cancel') timers.delete(effect.timer);
        if (effect.type === 'election.broadcast') {
          const event: ElectionEvent =
            effect.message.kind === 'RequestVote'
              ? { type: 'REQUEST_VOTE', message: effect.message }
              : { type: 'UPDATE_LEADER', message: effect.message };
          for (const to of this.ids) this.inFlight.push({ to, event });
        }
        if (effect.type === 'election.send') {
          const message: SignedElectionVote = { ...effect.message, signature: `sig:${effect.message.voter}` };
          this.inFlight.push({ to: effect.to, event: { type: 'VOTE', message } });
        }
      });
      this.actors.set(id, actor);
    }
    for (const actor of this.actors.values()) actor.start();
  }

  send(to: NodeId, event: ElectionEvent): void {
    this.actors.get(to)?.send(event);
  }

  /** Fires an armed timer (it is one-shot, as the host's would be). */
  fire(id: NodeId, timer: 'election' | 'heartbeat'): void {
    this.armed.get(id)?.delete(timer);
    this.send(id, timer === 'election' ? { type: 'ELECTION_TIMEOUT' } : { type: 'HEARTBEAT_TIMEOUT' });
  }

  deliver(index: number): void {
    const [message] = this.inFlight.splice(index, 1);
    if (message) this.send(message.to, message.event);
  }

  /** Delivers everything in flight, FIFO, skipping messages to or from `down` nodes. */
  settle(down: ReadonlySet<NodeId> = new Set(), limit = 10_000): void {
    for (let i = 0; this.inFlight.length > 0; i++) {
      if (i > limit) throw new Error('the cluster did not quiesce');
      const message = this.inFlight.shift()!;
      const from = senderOf(message.event);
      if (!down.has(message.to) && (from === undefined || !down.has(from)))
        this.send(message.to, message.event);
    }
  }

  state(id: NodeId): StateValue {
    return this.actors.get(id)!.getSnapshot().value;
  }

  context(id: NodeId): ElectionContext {
    return this.actors.get(id)!.getSnapshot().context;
  }

  /** Every (term, leader) any node announced with leader.updated. */
  announcements(): { node: NodeId; term: number; leader: NodeId }[] {
    const out: { node: NodeId; term: number; leader: NodeId }[] = [];
    for (const [node, log] of this.effects) {
      for (const e of log)
        if (e.type === 'leader.updated') out.push({ node, term: e.term, leader: e.leader });
    }
    return out;
  }
}

function senderOf(event: ElectionEvent): NodeId | undefined {
  if (event.type === 'REQUEST_VOTE') return event.message.candidate;
  if (event.type === 'VOTE') return event.message.voter;
  if (event.type === 'UPDATE_LEADER') return event.message.leader;
  return undefined;
}
