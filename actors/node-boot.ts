import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { gatewayBus } from '../adapters/api/api-topics.ts';
import { type BusLogger, createBus } from '../adapters/bus/index.ts';
import { PeerGateway } from '../adapters/grpc/peer-gateway.ts';
import { loadNodeCredentials } from '../adapters/pki/node-credentials.ts';
import { ChainStore } from '../adapters/store/chain-store.ts';
import { HOME_FILES } from '../config/home-layout.ts';
import { loadConfig } from '../config/load-config.ts';
import type { Config } from '../config/schema.ts';
import { genesisCodec } from '../domain/codec.ts';
import { ValidationError } from '../domain/errors.ts';
import { type GenesisFile, genesisBlock } from '../domain/genesis.ts';
import { identityFromPrivatePem, KeyRing, signerOf } from '../domain/identity.ts';
import { DEFAULT_LIMITS, type ValidationLimits } from '../domain/validation.ts';
import { CachingVerifier } from './caching-verifier.ts';
import { IvmExecutor } from './icode-executor.ts';
import { openIcodeRuntime } from './icode-runtime.ts';
import { loadIcodeState } from './icode-state-loader.ts';
import { loadMembership } from './membership-loader.ts';
import { recordsFrom } from './node-host.ts';
import { NodeLedger } from './node-ledger.ts';
import type { CoreParts, NodeBase, NodeRole } from './node-parts.ts';
import { DEFAULT_SETTINGS, type ReplicaConfig } from './replica/config.ts';
import type { ReplicaInspection } from './replica/replica.ts';
import { WriteQueue } from './write-queue.ts';

// Opening a node, step by step, each failure one sentence that names what is wrong: the config
// (HOME/config.yaml, ITCHAIN_* overrides), the node key, the genesis file (strictly decoded; its
// seal must be the one in the store), the credentials (their CA must be the one pinned in genesis),
// the chain store and its genesis, the iCode runtime with the committed iCode state and the installed
// iCodes (icode-state-loader.ts), the ledger over both, the replica's records, the bus.

export function nodeConfig(home: string, env: NodeJS.ProcessEnv = process.env): Config {
  return loadConfig(join(home, HOME_FILES.config), env);
}

function readText(path: string, what: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (error) {
    const code = error instanceof Error && 'code' in error ? String(error.code) : String(error);
    throw new Error(`cannot read the ${what} ${path} (${code})`);
  }
}

function readGenesis(config: Config): GenesisFile {
  const path = config.network.genesisFile;
  let genesis: GenesisFile;
  try {
    genesis = genesisCodec.parse(readText(path, 'genesis file'));
  } catch (error) {
    if (error instanceof ValidationError)
      throw new Error(`the genesis file ${path} is invalid: ${error.message}`);
    throw error;
  }
  if (genesis.networkId !== config.network.id) {
    throw new Error(
      `the genesis file ${path} is for network "${genesis.networkId}" but network.id is "${config.network.id}"`,
    );
  }
  return genesis;
}

/**
 * The bus logs through the node's logger, except its warning about a subscription to a topic it does
 * not list: the API's extra topics (adapters/api/api-topics.ts) are not in its list yet, so that
 * warning would fire some twenty times at every start for subscriptions that are meant.
 */
function busLogger(log: Logger): BusLogger {
  return {
    info: (details, message) => log.info(details, message),
    warn: (details, message) =>
      message === 'event bus subscription matches no known topic'
        ? log.debug(details, message)
        : log.warn(details, message),
    error: (details, message) => log.error(details, message),
  };
}

/** What every role needs: config, key, genesis and the bus. */
export async function openBase(config: Config, role: NodeRole, logger: Logger): Promise<NodeBase> {
  let identity: ReturnType<typeof identityFromPrivatePem>;
  try {
    identity = identityFromPrivatePem(readText(config.node.keyFile, 'node key'));
  } catch (error) {
    throw new Error(`the node key ${config.node.keyFile} is unusable: ${(error as Error).message}`);
  }
  const genesis = readGenesis(config);
  const nodeId = identity.nodeId;
  const bus = await createBus(config.bus.url, nodeId, busLogger(logger.child({ component: 'bus' })));
  return {
    role,
    config,
    logger,
    nodeId,
    networkId: genesis.networkId,
    signer: signerOf(identity),
    bus,
    topics: gatewayBus(bus),
    genesis,
    genesisSeal: genesisBlock(genesis).seal,
  };
}

/** The replica's settings from the config's consensus and txpool sections. */
export function replicaConfigOf(base: NodeBase, limits: ValidationLimits): ReplicaConfig {
  const { consensus, txpool } = base.config;
  return {
    self: base.nodeId,
    networkId: base.networkId,
    validators: base.genesis.validators.map((v) => v.nodeId),
    timeouts: {
      ...DEFAULT_SETTINGS.timeouts,
      electionMinMs: consensus.electionTimeoutMinMs,
      electionMaxMs: consensus.electionTimeoutMaxMs,
      heartbeatMs: consensus.heartbeatIntervalMs,
      proposeMs: consensus.proposeTimeoutMs,
      prevoteMs: consensus.prevoteTimeoutMs,
      precommitMs: consensus.precommitTimeoutMs,
    },
    batching: {
      maxBatchTxs: txpool.maxBatchTxs,
      batchIntervalMs: txpool.batchIntervalMs,
      maxPoolTxs: txpool.maxPoolTxs,
    },
    sync: DEFAULT_SETTINGS.sync,
    limits,
  };
}

export interface CoreOptions {
  /** A failed write: the node must stop (nothing queued after it leaves). */
  onFatal: (error: Error) => void;
  inspect: ReplicaInspection;
}

/** Everything the core components share; closes what it opened when a step fails. */
export async function openCore(base: NodeBase, options: CoreOptions): Promise<CoreParts> {
  const { config, genesis, nodeId, logger } = base;
  const credentials = loadNodeCredentials({
    keyFile: config.node.keyFile,
    certFile: config.node.certFile,
    caFile: config.node.caFile,
  });
  if (credentials.nodeId !== nodeId) {
    throw new Error(
      `${config.node.certFile} is for node ${credentials.nodeId}, not for this key's ${nodeId}`,
    );
  }
  const pinned = new X509Certificate(genesis.caCertificate).fingerprint256;
  if (new X509Certificate(credentials.caCertificate).fingerprint256 !== pinned) {
    throw new Error(
      `${config.node.caFile} is not the CA pinned in the genesis file ${config.network.genesisFile}`,
    );
  }
  const keys = new KeyRing();
  for (const [i, validator] of genesis.validators.entries()) {
    if (keys.add(validator.publicKey) !== validator.nodeId) {
      throw new Error(`genesis validators[${i}]: the public key is not node ${validator.nodeId}'s`);
    }
  }
  const verifier = new CachingVerifier(keys);
  const validators = genesis.validators.map((v) => v.nodeId);
  const limits: ValidationLimits = { ...DEFAULT_LIMITS, maxTxBytes: config.txpool.maxTxBytes };

  let store: ChainStore;
  try {
    store = await ChainStore.open(config.storage.path, {
      networkId: base.networkId,
      keys: verifier,
      validatorsAt: () => validators,
      limits,
    });
  } catch (error) {
    const cause =
      error instanceof Error
        ? error.cause instanceof Error
          ? error.cause.message
          : error.message
        : String(error);
    throw new Error(`cannot open the chain store ${config.storage.path}: ${cause}`);
  }
  const runtime = openIcodeRuntime(config.ivm, logger.child({ component: 'ivm' }));
  try {
    await store.initGenesis(genesis);
    // Members admitted on the stored chain: their keys join the ring before anything is verified.
    const { membership } = await loadMembership(store, genesis, keys);
    const executor = new IvmExecutor(runtime, await loadIcodeState(store));
    const writes = new WriteQueue(options.onFatal, (error) =>
      logger.error({ err: (error as Error).message }, 'an effect after a durable write failed'),
    );
    const ledger = await NodeLedger.open(store, executor, writes);
    const records = recordsFrom(await store.getConsensusRecord());
    const gateway = new PeerGateway({
      credentials,
      signer: base.signer,
      networkId: base.networkId,
      genesisSeal: base.genesisSeal,
      logger: logger.child({ component: 'grpc' }),
      bootstrapPeers: config.grpc.bootstrapPeers,
      height: () => ledger.height(),
    });
    return {
      ...base,
      validators,
      verifier,
      store,
      writes,
      ledger,
      executor,
      records,
      replicaConfig: replicaConfigOf(base, limits),
      gateway,
      inspect: options.inspect,
      membership,
    };
  } catch (error) {
    await runtime.close().catch(() => {});
    await store.close();
    throw error;
  }
}
