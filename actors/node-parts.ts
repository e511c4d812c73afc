import type { Logger } from 'pino';
import type { GatewayBus } from '../adapters/api/api-topics.ts';
import type { EventBus } from '../adapters/bus/event-bus.ts';
import type { PeerGateway } from '../adapters/grpc/peer-gateway.ts';
import type { ChainStore } from '../adapters/store/chain-store.ts';
import type { Config } from '../config/schema.ts';
import type { GenesisFile } from '../domain/genesis.ts';
import type { NodeId, Signer } from '../domain/identity.ts';
import type { CachingVerifier } from './caching-verifier.ts';
import type { IvmExecutor } from './icode-executor.ts';
import type { Membership } from './membership.ts';
import type { NodeLedger } from './node-ledger.ts';
import type { ReplicaConfig } from './replica/config.ts';
import type { ReplicaInspection } from './replica/replica.ts';
import type { WriteQueue } from './write-queue.ts';

// What the node's components share, opened once at start (node-boot.ts) and handed to every
// component actor as its input. Each component owns its part: the consensus component the replica,
// the blockchain component the store's reads for replays, the gRPC component the peer gateway.

/** Which components a process runs: all of them, all but the API, or the API alone (`--only`). */
export type NodeRole = 'full' | 'core' | 'api';

export interface NodeBase {
  role: NodeRole;
  config: Config;
  logger: Logger;
  nodeId: NodeId;
  networkId: string;
  /** The node key: signs client txs (API), votes and envelopes (core). */
  signer: Signer;
  bus: EventBus;
  /** The same bus with the API's extra topics (adapters/api/api-topics.ts). */
  topics: GatewayBus;
  genesis: GenesisFile;
  genesisSeal: string;
}

export interface CoreParts extends NodeBase {
  /** Who may sign txs: the genesis validators and the admitted members (actors/membership.ts). */
  membership: Membership;
  validators: readonly NodeId[];
  verifier: CachingVerifier;
  store: ChainStore;
  writes: WriteQueue;
  ledger: NodeLedger;
  /** Runs committed blocks' txs and queries in the iCode runtime (ivm.runtime); closed by the IVM component. */
  executor: IvmExecutor;
  /** The replica's records as read from the store at start. */
  records: Map<string, unknown>;
  replicaConfig: ReplicaConfig;
  gateway: PeerGateway;
  /** Inspection hooks for the replica's four machines (--inspect, the live view). */
  inspect: ReplicaInspection;
}
