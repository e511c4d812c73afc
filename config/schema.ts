import { z } from 'zod';
import { HOME_FILES } from './home-layout.ts';
import { type PeerAddress, parsePeerAddress } from './peer-address.ts';

// The node's config file [contract: SPEC §8]. Every section and field has a default, so an empty file is
// a valid config for a home laid out as `itchain testnet` writes it. Unknown keys are errors (strict
// objects): a typo must not silently fall back to a default. Messages say what was expected; the loader
// prefixes the file (or environment variable) and the key path.

const positiveInt = () =>
  z.int({ error: 'expected a positive integer' }).positive({ error: 'expected a positive integer' });

const port = () =>
  z
    .int({ error: 'expected a port number from 1 to 65535' })
    .min(1, { error: 'expected a port number from 1 to 65535' })
    .max(65535, { error: 'expected a port number from 1 to 65535' });

const host = () =>
  z
    .string({ error: 'expected a host name or IP address' })
    .regex(/^([A-Za-z0-9.-]+|[0-9A-Fa-f:.]+)$/, { error: 'expected a host name or IP address' });

const path = () => z.string({ error: 'expected a path' }).min(1, { error: 'expected a path' });

const peerAddress = z.string({ error: 'expected "nodeId@host:port"' }).transform((text, ctx): PeerAddress => {
  const peer = parsePeerAddress(text);
  if (peer) return peer;
  ctx.issues.push({
    code: 'custom',
    input: text,
    message: `expected "nodeId@host:port" (node ID = 40 lowercase hex characters), got "${text}"`,
  });
  return z.NEVER;
});

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export const IVM_RUNTIMES = ['quickjs', 'docker'] as const;

const nodeSection = z
  .strictObject({
    /** The node's home directory; relative to the config file's directory. */
    home: path().default('.'),
    keyFile: path().default(HOME_FILES.privateKey),
    certFile: path().default(HOME_FILES.certificate),
    caFile: path().default(HOME_FILES.caCertificate),
  })
  .prefault({});

const networkSection = z
  .strictObject({
    id: z
      .string({ error: 'expected a network ID' })
      .regex(/^[A-Za-z0-9._-]{1,64}$/, { error: 'expected 1 to 64 letters, digits, ".", "_" or "-"' })
      .default('itchain'),
    genesisFile: path().default(HOME_FILES.genesis),
  })
  .prefault({});

const grpcSection = z
  .strictObject({
    host: host().default('127.0.0.1'),
    port: port().default(5000),
    bootstrapPeers: z.array(peerAddress, { error: 'expected a list of "nodeId@host:port"' }).default([]),
  })
  .prefault({});

const apiSection = z
  .strictObject({
    host: host().default('127.0.0.1'),
    port: port().default(4000),
    token: z
      .string({ error: 'expected a token string' })
      .min(1, { error: 'expected a non-empty token (leave the key out for no token)' })
      .nullable()
      .default(null),
  })
  .prefault({});

const busSection = z
  .strictObject({
    url: z
      .string({ error: 'expected "memory" or an amqp:// URL' })
      .refine((url) => url === 'memory' || /^amqps?:\/\/\S+$/.test(url), {
        error: 'expected "memory" or an amqp:// or amqps:// URL',
      })
      .default('memory'),
  })
  .prefault({});

const consensusSection = z
  .strictObject({
    electionTimeoutMinMs: positiveInt().default(150),
    electionTimeoutMaxMs: positiveInt().default(300),
    heartbeatIntervalMs: positiveInt().default(50),
    proposeTimeoutMs: positiveInt().default(1000),
    prevoteTimeoutMs: positiveInt().default(1000),
    precommitTimeoutMs: positiveInt().default(1000),
  })
  .superRefine((c, ctx) => {
    if (c.electionTimeoutMaxMs <= c.electionTimeoutMinMs) {
      ctx.addIssue({
        code: 'custom',
        path: ['electionTimeoutMaxMs'],
        message: `must be greater than consensus.electionTimeoutMinMs (${c.electionTimeoutMinMs})`,
      });
    }
    // A leader must be heard from before followers time out, or every heartbeat gap starts an election.
    if (c.heartbeatIntervalMs >= c.electionTimeoutMinMs) {
      ctx.addIssue({
        code: 'custom',
        path: ['heartbeatIntervalMs'],
        message: `must be less than consensus.electionTimeoutMinMs (${c.electionTimeoutMinMs})`,
      });
    }
  })
  .prefault({});

const txpoolSection = z
  .strictObject({
    batchIntervalMs: positiveInt().default(200),
    maxBatchTxs: positiveInt().default(500),
    maxPoolTxs: positiveInt().default(20000),
    maxTxBytes: positiveInt().default(1048576),
  })
  .superRefine((t, ctx) => {
    if (t.maxBatchTxs > t.maxPoolTxs) {
      ctx.addIssue({
        code: 'custom',
        path: ['maxBatchTxs'],
        message: `must not exceed txpool.maxPoolTxs (${t.maxPoolTxs})`,
      });
    }
  })
  .prefault({});

const ivmSection = z
  .strictObject({
    runtime: z.enum(IVM_RUNTIMES, { error: `expected one of ${IVM_RUNTIMES.join(', ')}` }).default('quickjs'),
    gasLimit: positiveInt().default(10_000_000),
    memoryLimitMb: positiveInt().default(64),
  })
  .prefault({});

const storageSection = z
  .strictObject({
    path: path().default(HOME_FILES.storage),
  })
  .prefault({});

const logSection = z
  .strictObject({
    level: z.enum(LOG_LEVELS, { error: `expected one of ${LOG_LEVELS.join(', ')}` }).default('info'),
  })
  .prefault({});

export const configSchema = z.strictObject({
  node: nodeSection,
  network: networkSection,
  grpc: grpcSection,
  api: apiSection,
  bus: busSection,
  consensus: consensusSection,
  txpool: txpoolSection,
  ivm: ivmSection,
  storage: storageSection,
  log: logSection,
  inspect: z.boolean({ error: 'expected true or false' }).default(false),
});

/** A config as written in YAML (every field optional). */
export type ConfigInput = z.input<typeof configSchema>;

/** A validated config; `loadConfig` also makes every path in it absolute. */
export type Config = z.output<typeof configSchema>;
