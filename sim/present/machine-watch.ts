import { type InspectionEvent, isMachineSnapshot, type StateValue } from 'xstate';
import type { PeerMessage } from '../../actors/replica/messages.ts';
import type { ReplicaInspection } from '../../actors/replica/replica.ts';
import type { BatchingContext } from '../../machines/batching.ts';
import type { ElectionContext } from '../../machines/election.ts';
import { certificateFor, decision } from '../../machines/pbft-log.ts';
import type { PbftContext } from '../../machines/pbft-round.ts';
import { type SyncContext, targetOf } from '../../machines/sync.ts';
import { poolSize } from '../../machines/tx-pool.ts';
import type { ReplicaHost, Wiring } from '../replica.ts';
import { short } from '../trace.ts';
import { itchainWiring, simName } from '../wiring.ts';

// The real replica's four machines, watched: every state change of a machine becomes a trace line,
// so a run can be shown (and replayed) transition by transition. It is built on the wiring's own
// inspection option (`itchainWiring({ inspect })`), one observer set per replica, and writes through
// the replica's host `log`: the line lands in the trace at the very step that caused it, and like
// every other trace line it is the same for the same seed. Logging changes nothing a replica does.
//
// Two line shapes (after the simulator's `n0 ` prefix):
//   machines: election follower · t0 | pbft idle · h1 r0 | batching following · pool 0 | sync synced · h0 of 0
//             when a replica (re)starts: where each machine begins
//   machine pbft: round.prevote → round.precommit · h1 r0 locked r0 ec3585
//             a change of state, or of the facts that name where a machine is (term, height, round);
//             entering pbft's `committed` also names the commit certificate's signers

export const WATCHED_MACHINES = ['election', 'pbft', 'batching', 'sync'] as const;
export type WatchedMachine = (typeof WATCHED_MACHINES)[number];

/** 'idle' → 'idle'; {round: 'prevote'} → 'round.prevote'. */
export function statePath(value: StateValue): string {
  if (typeof value === 'string') return value;
  const [key, child] = Object.entries(value)[0] ?? [];
  if (key === undefined) return '';
  const rest = child === undefined ? '' : statePath(child);
  return rest ? `${key}.${rest}` : key;
}

/** The commit certificate the round decided with, as `pbft.commit` carries it: who signed the 2f+1 PreCommits. */
function certificateText(c: PbftContext): string {
  const decided = decision(c.log);
  if (decided === undefined) return '';
  const cert = certificateFor(c.log, decided.round, decided.blockHash);
  const signers = cert.precommits.map((v) => simName(v.voter)).join(' ');
  return ` · certificate ${short(cert.blockHash)} r${cert.round}: precommits by ${signers}`;
}

interface Facts {
  /** Shown after the state. */
  text: string;
  /** The part whose change is worth a line even when the state stays (a new term, round or height). */
  moves: string;
}

function factsOf(machine: WatchedMachine, path: string, context: unknown): Facts {
  switch (machine) {
    case 'election': {
      const c = context as ElectionContext;
      return { text: `t${c.term}`, moves: `t${c.term}` };
    }
    case 'pbft': {
      const c = context as PbftContext;
      const lock = c.lockedRound >= 0 ? ` locked r${c.lockedRound} ${short(c.lockedBlockHash)}` : '';
      const text = `h${c.height} r${c.round}${lock}${path === 'committed' ? certificateText(c) : ''}`;
      return { text, moves: text };
    }
    case 'batching': {
      const c = context as BatchingContext;
      return { text: `pool ${poolSize(c.pool)}`, moves: '' };
    }
    case 'sync': {
      const c = context as SyncContext;
      return { text: `h${c.height} of ${targetOf(c)}`, moves: '' };
    }
  }
}

interface Seen {
  path: string;
  facts: string;
  key: string;
}

/** One replica's observers; `log` is that replica's host log. */
class MachineWatch {
  private readonly seen = new Map<WatchedMachine, Seen>();
  private starting = true;

  constructor(private readonly log: (text: string) => void) {}

  readonly inspection: ReplicaInspection = {
    election: (event) => this.observe('election', event),
    pbft: (event) => this.observe('pbft', event),
    batching: (event) => this.observe('batching', event),
    sync: (event) => this.observe('sync', event),
  };

  private observe(machine: WatchedMachine, event: InspectionEvent): void {
    if (event.type !== '@xstate.snapshot') return;
    const snapshot = event.snapshot;
    if (!isMachineSnapshot(snapshot) || snapshot.machine.id !== machine) return;
    const path = statePath(snapshot.value);
    const facts = factsOf(machine, path, snapshot.context);
    const now: Seen = { path, facts: facts.text, key: `${path}|${facts.moves}` };
    const before = this.seen.get(machine);
    this.seen.set(machine, now);
    // While the replica starts, its machines settle; one `machines:` line says where they ended up.
    if (this.starting || before === undefined || before.key === now.key) return;
    this.log(`machine ${machine}: ${before.path} → ${path} · ${facts.text}`);
  }

  /** The replica is up: where each machine stands. */
  started(): void {
    this.starting = false;
    const parts = WATCHED_MACHINES.map((m) => {
      const s = this.seen.get(m);
      return s === undefined ? `${m} ?` : `${m} ${s.path} · ${s.facts}`;
    });
    this.log(`machines: ${parts.join(' | ')}`);
  }
}

/** Builds the real wiring with inspection observers: itchainWiring, or a buggy variant's. */
export type InspectableWiring = (options: { inspect: ReplicaInspection }) => Wiring<PeerMessage>;

/**
 * The real wiring (sim/wiring.ts) with every replica's machines watched. Same replicas, same
 * messages, same decisions as the wiring without the watch; the trace gains the machines' transitions.
 */
export function watchedItchainWiring(
  make: InspectableWiring = (options) => itchainWiring(options),
): Wiring<PeerMessage> {
  const plain = make({ inspect: {} });
  return {
    ...plain,
    create: (ctx) => {
      const host: ReplicaHost<PeerMessage> = ctx.host;
      const watch = new MachineWatch((text) => host.log(text));
      const replica = make({ inspect: watch.inspection }).create(ctx);
      watch.started();
      return replica;
    },
  };
}
