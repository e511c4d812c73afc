import type { CommitCertificate } from '../domain/commit-certificate.ts';
import type { NodeId, SignatureVerifier, Signer } from '../domain/identity.ts';
import type { Transaction } from '../domain/transaction.ts';
import type { ByzantineRewriter } from './byzantine.ts';

// The replica boundary: everything the simulator needs from one node, and everything one node may
// ask of the world. It is the etcd-raft shape: the replica is *stepped* (a message arrives, a timer
// fires, a client submits a tx) and answers through the host; it never touches a socket, a disk or
// a clock. The node's actor layer implements the same host over gRPC, LevelDB and real timers, so
// the machines that run here are the machines that run in production.
//
// Rules a replica can rely on:
// - One call at a time. Host calls made inside `deliver`, `fireTimer`, `submitTx` or `create` take
//   effect after that call returns (a send is queued, never delivered re-entrantly).
// - A step is atomic with respect to crashes unless the scenario asks for a torn crash: then only
//   the first k effects (sends, writes, timer changes) of that step happen, and nothing after the
//   first one refused — reports included. Persist before you send; persist before you report.
// - Messages are values: once sent they are frozen, and the receiver gets the same frozen object.
//   A replica must not mutate a message it sent or received (it would throw).
// - After a crash the old replica object is never called again. `create` is called anew with the
//   disk as it was at the crash: every `persist` that happened before it, nothing else.
// - Nothing else survives a crash: not the tx pool, not timers, not the in-memory chain.
//
// Rules the checker holds a replica to (sim/invariants.ts):
// - `commit` reports each height once, in order (1, 2, 3 …), never again after a restart: a
//   restarted replica resumes from what it persisted, and `status().height` says where that is.
// - `leaderElected(term, leader)` is reported when the replica becomes leader of a term or learns
//   who the leader is; honest reports must never name two honest leaders for one term.

/** What a replica reports when a block commits on it. */
export interface CommitReport {
  height: number;
  /** The block's seal. */
  blockHash: string;
  /** The ids of the block's txs, in block order. */
  txIds: readonly string[];
  /** The 2f+1 PreCommits; checked when the wiring says it certifies commits. */
  certificate: CommitCertificate | null;
}

/** A replica's view of itself, shown in traces and checked after a restart. */
export interface ReplicaStatus {
  /** Height of the last committed block (0: only genesis). */
  height: number;
  /** e.g. 'leader' | 'follower' | 'candidate' | 'syncing'. */
  role?: string;
  term?: number;
  round?: number;
}

/** What the replica asks of the world. Bound to one node and one incarnation. */
export interface ReplicaHost<M> {
  /** Sends to one node; to itself it arrives at once, without faults. */
  send(to: NodeId, message: M): void;
  /** Sends to every other node. */
  broadcast(message: M): void;
  /** Fires `fireTimer(timerId)` after `ms` of virtual time; arming an armed id re-arms it. */
  armTimer(timerId: string, ms: number): void;
  cancelTimer(timerId: string): void;
  /** Writes to the simulated disk (a deep copy is stored); `undefined` erases the key. */
  persist(key: string, value: unknown): void;
  /** Reports a committed block to the checker. Persist the block first: this is not a write. */
  commit(report: CommitReport): void;
  /** Reports who leads `term` as this replica knows it (itself when it won the election). */
  leaderElected(term: number, leader: NodeId): void;
  /** A float in [0, 1) from this node's seeded stream (e.g. randomized election timeouts). */
  random(): number;
  /** Virtual milliseconds since the start of the run. */
  now(): number;
  /** A line for the trace: a state transition, a decision (`election: follower → candidate t3`). */
  log(text: string): void;
}

/** The disk a replica (re)starts from. */
export interface RestoredDisk {
  /** Everything persisted by earlier incarnations, as written (deep copies). */
  readonly records: ReadonlyMap<string, unknown>;
  /** 0 on the first start, then 1, 2 … after each restart. */
  readonly incarnation: number;
}

/** Everything `create` gets. */
export interface ReplicaContext<M> {
  readonly nodeId: NodeId;
  /** Short name for traces: n0, n1 … */
  readonly name: string;
  /** The validator set, in node-index order. */
  readonly validators: readonly NodeId[];
  readonly networkId: string;
  /** Epoch milliseconds of virtual time 0, for block and tx timestamps. */
  readonly epochMs: number;
  readonly signer: Signer;
  readonly verifier: SignatureVerifier;
  readonly disk: RestoredDisk;
  readonly host: ReplicaHost<M>;
}

/** One node's protocol stack as the simulator steps it. */
export interface Replica<M> {
  deliver(from: NodeId, message: M): void;
  fireTimer(timerId: string): void;
  /** A client submits a tx (already signed by this node, as the node's API would). */
  submitTx(tx: Transaction): void;
  status(): ReplicaStatus;
}

/**
 * How a protocol plugs into the simulator: a factory for replicas, a one-line description of a
 * message for traces (short hashes: `prevote h3 r0 9f2c1a by n2`), and the protocol-specific
 * rewriting Byzantine nodes use.
 */
export interface Wiring<M extends object> {
  readonly name: string;
  create(ctx: ReplicaContext<M>): Replica<M>;
  describe(message: M): string;
  /** When true, every honest commit's certificate must verify (2f+1 valid distinct PreCommits). */
  readonly certifiesCommits: boolean;
  readonly byzantine?: ByzantineRewriter<M>;
}
