import type { BusLogger } from '../bus/event-bus.ts';
import type { EventStreams } from './event-streams.ts';
import type { ApiMetrics } from './metrics.ts';
import type { IcodeDeployer, IcodeQuerier, PeerControl } from './ports.ts';
import type { ReadModel } from './read-model.ts';
import type { TxSubmitter } from './tx-submitter.ts';

/** What the route handlers work with; server.ts hands the same object to every routes/ file. */
export interface RouteDeps {
  readModel: ReadModel;
  submitter: TxSubmitter;
  metrics: ApiMetrics;
  events: EventStreams;
  /** Absent: POST /icodes answers 501 (this process cannot clone and bundle). */
  deployer: IcodeDeployer | undefined;
  querier: IcodeQuerier;
  peers: PeerControl;
  limits: {
    /** Body limit of a single tx submit (txpool.maxTxBytes). */
    txBodyBytes: number;
    /** Body limit of POST /transactions/batch. */
    batchBodyBytes: number;
    /** Most txs in one batch. */
    batchTxs: number;
  };
  logger: BusLogger;
}
