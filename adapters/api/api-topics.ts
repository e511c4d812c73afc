import type { Canonical } from '../../domain/canonical.ts';
import type { ReceiptError } from '../../domain/icode.ts';
import type { NodeId } from '../../domain/identity.ts';
import type { EventBus, Subscription } from '../bus/event-bus.ts';
import type { BusTopics, PeerAddress } from '../bus/topics.ts';

// Bus topics the API gateway needs beyond adapters/bus/topics.ts, as a typed extension until they are
// merged there. Same wire rules: the payload is plain JSON. Request/reply pairs carry a requestId
// chosen by the asker; a reply answers exactly one request, and a request nobody answers times out on
// the asking side (the API answers 503), so a component that does not know a topic is never harmed.

/** The TxPool's answer to one tx.submitted: admitted, or refused with a reason. */
export type TxVerdict =
  | { txId: string; status: 'accepted' }
  | { txId: string; status: 'rejected'; code: TxRejectionCode; message: string };

/**
 * pool_full: the pool holds maxPoolTxs txs (retry later); duplicate: the tx is already pending or
 * committed; invalid: it failed validation (signature, size, unknown iCode...).
 */
export type TxRejectionCode = 'pool_full' | 'duplicate' | 'invalid';

/** A receipt as block.committed may carry it (the IVM's outcome of one tx of the block). */
export interface CommittedReceipt {
  status: 'ok' | 'error';
  result?: Canonical;
  error?: ReceiptError;
  gasUsed: number;
}

/** block.committed's payload with the optional receipts (tx id → receipt) the read model uses. */
export type CommittedBlock = BusTopics['block.committed'] & {
  receipts?: Record<string, CommittedReceipt>;
};

/** What a component knows of the node's state; every field optional, each reporter sends its part. */
export interface StatusReport {
  /** Set when it answers a status.requested; absent on a spontaneous report (a change). */
  requestId?: string;
  /** Consensus: the leader it follows (null: none, an election runs) and the term. */
  leader?: { leader: NodeId | null; term: number };
  /** Consensus: the PBFT round in progress. */
  round?: { height: number; round: number };
  /** TxPool: txs waiting to commit. */
  poolSize?: number;
  /** gRPC gateway: the peers connected now (replaces the API's list). */
  peers?: (PeerAddress & { outbound: boolean })[];
  /** Blockchain: block sync progress; null when it is not syncing. */
  sync?: SyncProgress | null;
}

export interface SyncProgress {
  height: number;
  targetHeight: number;
  blocksPerSec: number;
  /** Seconds to the target at the current rate; null when unknown. */
  etaSec: number | null;
}

export type PeerCommand = { type: 'dial' | 'join'; address: string } | { type: 'disconnect'; peerId: NodeId };

/** A peer command failed: the code maps to an HTTP status (see routes/peers.ts). */
export type PeerFailureCode = 'bad_address' | 'not_found' | 'unreachable' | 'refused' | 'unavailable';

export type PeerCommandReply =
  | { requestId: string; ok: true; peerId?: NodeId }
  | { requestId: string; ok: false; code: PeerFailureCode; message: string };

export interface QueryOutcome {
  status: 'ok' | 'error';
  result?: Canonical;
  error?: ReceiptError;
  gasUsed: number;
}

export interface ApiTopics {
  /** TxPool → API: admission verdicts for tx.submitted, in any grouping (one tx or many per message). */
  'tx.verdict': { verdicts: TxVerdict[] };
  /** API → Blockchain: send me the committed blocks from this height on (a restarted API catches up). */
  'replay.requested': { requestId: string; fromHeight: number };
  /** Blockchain → API: committed blocks in height order, in chunks; the last chunk has done: true. */
  'replay.delivered': { requestId: string; entries: CommittedBlock[]; done: boolean };
  /** API → all: report your part of the node's status (a StatusReport with this requestId). */
  'status.requested': { requestId: string };
  /** Consensus, TxPool, gRPC gateway, Blockchain → API: status, on request or when it changes. */
  'status.reported': StatusReport;
  /** API → gRPC gateway: connect to (dial, join) or disconnect a peer. */
  'peer.requested': { requestId: string; command: PeerCommand };
  /** gRPC gateway → API: the outcome of a peer.requested. */
  'peer.answered': PeerCommandReply;
  /** API → IVM: run a read-only function of an iCode against committed state. */
  'query.requested': { requestId: string; icodeId: string; function: string; args: Canonical[] };
  /** IVM → API: the outcome of a query.requested (not-deployed when the iCode is unknown). */
  'query.answered': { requestId: string; outcome: QueryOutcome };
}

export type ApiTopic = keyof ApiTopics;

/** One line per extra topic (who publishes → who listens), as TOPICS in topics.ts. */
export const API_TOPICS: Readonly<Record<ApiTopic, string>> = {
  'tx.verdict': 'TxPool → API gateway: admitted or refused (pool_full, duplicate, invalid)',
  'replay.requested': 'API gateway → Blockchain: committed blocks from a height on, please',
  'replay.delivered': 'Blockchain → API gateway: a chunk of committed blocks, in height order',
  'status.requested': 'API gateway → all: report your part of the node status',
  'status.reported': 'Consensus, TxPool, gRPC gateway, Blockchain → API gateway: status parts',
  'peer.requested': 'API gateway → gRPC gateway: dial, join or disconnect a peer',
  'peer.answered': 'gRPC gateway → API gateway: the outcome of a peer command',
  'query.requested': 'API gateway → IVM: a read-only iCode call',
  'query.answered': 'IVM → API gateway: the outcome of a query',
};

export type GatewayTopics = BusTopics & ApiTopics;
export type GatewayTopic = keyof GatewayTopics;

/** The bus as the API gateway uses it: the node's topics plus ApiTopics, one payload per handler. */
export interface GatewayBus {
  publish<T extends GatewayTopic>(topic: T, payload: GatewayTopics[T]): Promise<void>;
  on<T extends GatewayTopic>(
    topic: T,
    handler: (payload: GatewayTopics[T]) => void | Promise<void>,
  ): Promise<Subscription>;
}

type LoosePublish = (topic: string, payload: unknown) => Promise<void>;
type LooseSubscribe = (
  pattern: string,
  handler: (message: { topic: string; payload: unknown }) => void | Promise<void>,
) => Promise<Subscription>;

/**
 * Widens an EventBus to the extra topics. The bus routes any well-formed topic at run time; only its
 * type lists the known ones, so this is where the two meet. (Once ApiTopics is merged into topics.ts
 * this becomes a plain pass-through.)
 */
export function gatewayBus(bus: EventBus): GatewayBus {
  const publish = bus.publish.bind(bus) as LoosePublish;
  const subscribe = bus.subscribe.bind(bus) as LooseSubscribe;
  return {
    publish: (topic, payload) => publish(topic, payload),
    on: (topic, handler) =>
      subscribe(topic, (message) => handler(message.payload as GatewayTopics[typeof topic])),
  };
}
