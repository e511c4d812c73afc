import type { NodeId } from '../../domain/identity.ts';
import {
  type ConsensusMachineSnapshots,
  type ConsensusSnapshot,
  consensusEventFrame,
  consensusSnapshotOf,
  type MachineSnapshot,
} from './consensus-snapshot.ts';

// Where GET /consensus and the `consensus` SSE event get their snapshots. The node integrator hands
// the live view one of these; consensusSourceOf builds it from the replica's four running actors.

export interface ConsensusSource {
  snapshot(): ConsensusSnapshot;
  /** Calls `listener` with the new snapshot after every change; returns the unsubscribe. */
  subscribe(listener: (snapshot: ConsensusSnapshot) => void): () => void;
}

/** Structurally an XState actor: what the source needs of one. */
export interface ObservableMachine<Context> {
  getSnapshot(): MachineSnapshot<Context>;
  subscribe(next: (snapshot: MachineSnapshot<Context>) => void): { unsubscribe(): void };
}

export type ConsensusActors = {
  [K in keyof ConsensusMachineSnapshots]: ObservableMachine<ConsensusMachineSnapshots[K]['context']>;
};

/**
 * A source over the running actors. A listener hears a snapshot only when it differs from the last
 * one it heard: actors also notify for context changes the view does not show (a vote counted).
 */
export function consensusSourceOf(nodeId: NodeId, actors: ConsensusActors): ConsensusSource {
  const snapshot = (): ConsensusSnapshot =>
    consensusSnapshotOf(nodeId, {
      election: actors.election.getSnapshot(),
      pbft: actors.pbft.getSnapshot(),
      batching: actors.batching.getSnapshot(),
      sync: actors.sync.getSnapshot(),
    });
  return {
    snapshot,
    subscribe(listener) {
      let last = JSON.stringify(snapshot());
      const changed = (): void => {
        const next = snapshot();
        const json = JSON.stringify(next);
        if (json === last) return;
        last = json;
        listener(next);
      };
      const subscriptions = [
        actors.election.subscribe(changed),
        actors.pbft.subscribe(changed),
        actors.batching.subscribe(changed),
        actors.sync.subscribe(changed),
      ];
      return () => {
        for (const s of subscriptions) s.unsubscribe();
      };
    },
  };
}

/**
 * Feeds the `consensus` SSE event of one /events stream: the current snapshot at once (so a client
 * that connects never misses the state it arrived in), then one frame per change. Returns the stop.
 */
export function forwardConsensusEvents(source: ConsensusSource, write: (frame: string) => void): () => void {
  write(consensusEventFrame(source.snapshot()));
  return source.subscribe((snapshot) => write(consensusEventFrame(snapshot)));
}
