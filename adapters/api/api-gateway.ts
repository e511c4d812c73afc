import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import type { Router } from '@koa/router';
import type { Config } from '../../config/schema.ts';
import type { NodeId, Signer } from '../../domain/identity.ts';
import type { BusLogger, EventBus } from '../bus/event-bus.ts';
import { gatewayBus } from './api-topics.ts';
import { startBusPorts } from './bus-ports.ts';
import { type EventSource, EventStreams } from './event-streams.ts';
import { ApiMetrics } from './metrics.ts';
import type { IcodeDeployer, IcodeQuerier, PeerControl } from './ports.ts';
import { ReadModel } from './read-model.ts';
import { ReadModelStore } from './read-model-store.ts';
import { createApiApp } from './server.ts';
import { TxSubmitter } from './tx-submitter.ts';

// The API gateway as one unit: its read model (own LevelDB), the tx submitter, the Koa app and the
// HTTP server. It depends on the bus and nothing else of the node, so the node runs it in-process on
// the memory bus, or `itchain start --only api` runs it as its own process on the AMQP bus.

export interface ApiGatewayOptions {
  config: Config;
  nodeId: NodeId;
  networkId: string;
  /** The node key: the accepting node signs every tx it takes from a client. */
  signer: Signer;
  bus: EventBus;
  /** Clones and bundles iCodes for POST /icodes; without it that route answers 501. */
  deployer?: IcodeDeployer;
  /** Defaults to requests over the bus (query.requested), answered by the IVM. */
  querier?: IcodeQuerier;
  /** Defaults to requests over the bus (peer.requested), answered by the gRPC gateway. */
  peers?: PeerControl;
  logger: BusLogger;
  /** Overrides config.api.port (0: any free port, for tests). */
  port?: number;
  /** Where the read model's LevelDB lives (default <storage.path>/api-read-model). */
  readModelPath?: string;
  /** How long a submit waits for the TxPool's verdict (default 2000 ms). */
  verdictTimeoutMs?: number;
  /** SSE heartbeat interval (default 15000 ms). */
  heartbeatMs?: number;
  /** Ask again for a replay that made no progress for this long (default 2000 ms). */
  replayRetryMs?: number;
  /** More routes on the API port (the live view's page and JSON), tried after the API's own. */
  routers?: readonly Router[];
  /** More kinds of GET /events, by name (the live view's `consensus`). */
  eventSources?: Readonly<Record<string, EventSource>>;
}

export interface ApiGateway {
  /** http://host:port the API listens on. */
  readonly url: string;
  readonly readModel: ReadModel;
  close(): Promise<void>;
}

/** Most txs in one POST /transactions/batch. */
export const MAX_BATCH_TXS = 1000;
const MAX_BATCH_BODY_BYTES = 16 * 1024 * 1024;

export async function startApiGateway(options: ApiGatewayOptions): Promise<ApiGateway> {
  const { config, logger } = options;
  const bus = gatewayBus(options.bus);
  const cleanups: (() => Promise<void> | void)[] = [];
  const cleanUp = async () => {
    for (const step of cleanups.reverse()) {
      try {
        await step();
      } catch (error) {
        logger.warn({ err: String(error) }, 'API gateway: a shutdown step failed');
      }
    }
  };
  try {
    const store = await ReadModelStore.open(
      options.readModelPath ?? join(config.storage.path, 'api-read-model'),
    );
    cleanups.push(() => store.close());
    const readModel = new ReadModel(store, bus, {
      nodeId: options.nodeId,
      networkId: options.networkId,
      logger,
      replayRetryMs: options.replayRetryMs,
    });
    cleanups.push(() => readModel.close());
    const metrics = new ApiMetrics(readModel);
    cleanups.push(() => metrics.stop());
    const submitter = new TxSubmitter(bus, options.signer, readModel, metrics, {
      maxTxBytes: config.txpool.maxTxBytes,
      verdictTimeoutMs: options.verdictTimeoutMs,
      logger,
    });
    await submitter.start();
    cleanups.push(() => submitter.stop());
    let querier = options.querier;
    let peers = options.peers;
    if (!querier || !peers) {
      const busPorts = await startBusPorts(bus);
      cleanups.push(() => busPorts.close());
      querier ??= busPorts.querier;
      peers ??= busPorts.peers;
    }
    const events = new EventStreams(readModel, options.heartbeatMs ?? 15_000, options.eventSources);
    cleanups.push(() => events.close());
    const { app } = createApiApp(
      {
        readModel,
        submitter,
        metrics,
        events,
        deployer: options.deployer,
        querier,
        peers,
        limits: {
          txBodyBytes: config.txpool.maxTxBytes,
          batchBodyBytes: Math.max(config.txpool.maxTxBytes, MAX_BATCH_BODY_BYTES),
          batchTxs: MAX_BATCH_TXS,
        },
        logger,
      },
      config.api.token,
      options.routers,
    );
    await readModel.start();

    const server = createServer(app.callback());
    server.keepAliveTimeout = 65_000;
    const host = config.api.host;
    await listen(server, host, options.port ?? config.api.port);
    // Ends SSE streams first (close() runs the cleanups in reverse), then the server.
    cleanups.splice(cleanups.length - 1, 0, () => closeServer(server));
    const { port } = server.address() as AddressInfo;
    const url = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
    logger.info({ url }, 'API gateway listening');
    let closing: Promise<void> | undefined;
    return {
      url,
      readModel,
      close: () => {
        closing ??= cleanUp();
        return closing;
      },
    };
  } catch (error) {
    await cleanUp();
    throw error;
  }
}

function listen(server: Server, host: string, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (error: NodeJS.ErrnoException) => {
      const reason = error.code === 'EADDRINUSE' ? 'the address is in use' : error.message;
      reject(new Error(`the API cannot listen on ${host}:${port}: ${reason}`));
    };
    server.once('error', onError);
    server.listen(port, host, () => {
      server.off('error', onError);
      resolve();
    });
  });
}

function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => {
    // Connections that finish their response become idle and are closed at the next tick of this
    // loop; requests still running get half a second to answer, then their connections are cut.
    const idle = setInterval(() => server.closeIdleConnections(), 20);
    const cut = setTimeout(() => server.closeAllConnections(), 500);
    server.close(() => {
      clearInterval(idle);
      clearTimeout(cut);
      resolve();
    });
    server.closeIdleConnections();
  });
}
