import type { Canonical } from '../domain/canonical.ts';
import type { NodeId, SignatureVerifier, Signer } from '../domain/identity.ts';
import type { Ledger } from './replica/ledger.ts';
import type { PeerMessage } from './replica/messages.ts';
import type { RecordKey } from './replica/records.ts';
import type { ReplicaHost, ReplicaReport, ReplicaTimer } from './replica/replica.ts';
import type { WriteQueue } from './write-queue.ts';

// The replica's host in the node (the interface is in actors/replica/replica.ts). It keeps the
// replica's promise of DURABILITY ORDER with the node's write queue: persist() queues the consensus
// record (all of the replica's records in one value, written with fsync; a burst is coalesced into
// one write), the ledger queues each appended block on the same queue, and every send or broadcast
// waits behind the writes queued before it (a barrier), then leaves in the order it was issued.
// Timers go to the timer actor; the election timeout's randomness comes from random().

/** Where messages to peers go (the gRPC gateway). Best effort: a message may be lost. */
export interface PeerPort {
  send(to: NodeId, message: PeerMessage): void;
  broadcast(message: PeerMessage): void;
}

/** The timer actor: fires the replica's timer after ms; arming an armed timer replaces it. */
export interface TimerPort {
  arm(timer: ReplicaTimer, ms: number): void;
  cancel(timer: ReplicaTimer): void;
}

export interface NodeHostOptions {
  signer: Signer;
  verifier: SignatureVerifier;
  ledger: Ledger;
  peers: PeerPort;
  timers: TimerPort;
  writes: WriteQueue;
  /** The replica's records as they are on disk (restored at start); persist() keeps it current. */
  records: Map<string, unknown>;
  /** Writes the whole record durably (ChainStore.putConsensusRecord: a synced write). */
  saveRecords: (record: Canonical) => Promise<void>;
  report: (report: ReplicaReport) => void;
  now?: () => number;
  random?: () => number;
}

const RECORD_SLOT = 'consensus-record';

export class NodeHost implements ReplicaHost {
  readonly signer: Signer;
  readonly verifier: SignatureVerifier;
  readonly ledger: Ledger;

  constructor(private readonly options: NodeHostOptions) {
    this.signer = options.signer;
    this.verifier = options.verifier;
    this.ledger = options.ledger;
  }

  send(to: NodeId, message: PeerMessage): void {
    this.options.writes.afterDurable(() => this.options.peers.send(to, message));
  }

  broadcast(message: PeerMessage): void {
    this.options.writes.afterDurable(() => this.options.peers.broadcast(message));
  }

  armTimer(timer: ReplicaTimer, ms: number): void {
    this.options.timers.arm(timer, ms);
  }

  cancelTimer(timer: ReplicaTimer): void {
    this.options.timers.cancel(timer);
  }

  persist(key: RecordKey, value: unknown): void {
    const { records, writes, saveRecords } = this.options;
    if (value === undefined) records.delete(key);
    else records.set(key, value);
    // The value is taken now: a later persist replaces it only while this write has not started.
    writes.replace(RECORD_SLOT, recordOf(records), saveRecords);
  }

  now(): number {
    return (this.options.now ?? Date.now)();
  }

  random(): number {
    return (this.options.random ?? Math.random)();
  }

  report(report: ReplicaReport): void {
    this.options.report(report);
  }
}

/**
 * The replica's records as one JSON value. They are plain data (actors/replica/records.ts: numbers,
 * strings, null, arrays, objects); the store's canonical encoding refuses anything else, and the
 * write queue then stops the node rather than lose a record.
 */
export function recordOf(records: ReadonlyMap<string, unknown>): Canonical {
  return Object.fromEntries(records) as Canonical;
}

/** The records as the replica wants them back after a restart (`restored`). */
export function recordsFrom(stored: Canonical | undefined): Map<string, unknown> {
  if (stored === undefined) return new Map();
  if (typeof stored !== 'object' || stored === null || Array.isArray(stored)) {
    throw new Error('the stored consensus record is not an object');
  }
  return new Map(Object.entries(stored));
}
