import type { StateValue } from 'xstate';
import type { NodeId } from '../../domain/identity.ts';
import type { BatchingContext } from '../../machines/batching.ts';
import type { ElectionContext } from '../../machines/election.ts';
import type { PbftContext } from '../../machines/pbft-round.ts';
import { type SyncContext, targetOf } from '../../machines/sync.ts';
import { poolSize } from '../../machines/tx-pool.ts';

// What the live view shows of a node's four protocol machines: GET /consensus answers one snapshot,
// and /events sends the same shape as an SSE event named `consensus` after every change.
//
// `state` is XState's `snapshot.value` as it is: a string ('follower') or a nested object for a
// state inside a compound one ({round: 'prevote'}). The page highlights it by path (round.prevote),
// so any machine, however deep, needs nothing special here.

export interface ConsensusSnapshot {
  nodeId: NodeId;
  election: { state: StateValue; term: number; leader: NodeId | null };
  /** height is the one being decided (last committed + 1); step is the innermost state's name. */
  pbft: {
    state: StateValue;
    height: number;
    round: number;
    step: string;
    locked?: { round: number; blockHash: string };
  };
  /** pool: txs held until they commit (waiting and proposed). */
  batching: { state: StateValue; pool: number };
  /** target: the highest height this node knows the network has reached. */
  sync: { state: StateValue; height: number; target: number };
}

/** The four machines' snapshot keys, which are also their machine ids (checked by the tests). */
export const CONSENSUS_MACHINES = ['election', 'pbft', 'batching', 'sync'] as const;

/** The part of an XState snapshot the view reads: structurally what `actor.getSnapshot()` returns. */
export interface MachineSnapshot<Context> {
  value: StateValue;
  context: Context;
}

export interface ConsensusMachineSnapshots {
  election: MachineSnapshot<ElectionContext>;
  pbft: MachineSnapshot<PbftContext>;
  batching: MachineSnapshot<BatchingContext>;
  sync: MachineSnapshot<SyncContext>;
}

/** The innermost state's name: 'prevote' for {round: 'prevote'}. */
export function innermostState(value: StateValue): string {
  if (typeof value === 'string') return value;
  const [key, child] = Object.entries(value)[0] ?? [''];
  return child === undefined ? key : innermostState(child);
}

export function consensusSnapshotOf(nodeId: NodeId, machines: ConsensusMachineSnapshots): ConsensusSnapshot {
  const { election, pbft, batching, sync } = machines;
  const p = pbft.context;
  return {
    nodeId,
    election: { state: election.value, term: election.context.term, leader: election.context.leader },
    pbft: {
      state: pbft.value,
      height: p.height,
      round: p.round,
      step: innermostState(pbft.value),
      ...(p.lockedRound >= 0 && p.lockedBlockHash !== null
        ? { locked: { round: p.lockedRound, blockHash: p.lockedBlockHash } }
        : {}),
    },
    batching: { state: batching.value, pool: poolSize(batching.context.pool) },
    sync: { state: sync.value, height: sync.context.height, target: targetOf(sync.context) },
  };
}

/** One SSE frame of the `consensus` event, as /events writes it. */
export function consensusEventFrame(snapshot: ConsensusSnapshot): string {
  return `event: consensus\ndata: ${JSON.stringify(snapshot)}\n\n`;
}
