import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Logger as PinoLogger } from 'pino';
import type { LogFields, Logger } from '../../../adapters/grpc/logger.ts';
import { PeerGateway, type PeerGatewayOptions } from '../../../adapters/grpc/peer-gateway.ts';
import type { PeerNetworkEvents } from '../../../adapters/grpc/peer-network.ts';
import { loadNodeCredentials, type NodeCredentials } from '../../../adapters/pki/node-credentials.ts';
import { createTestnet, type Testnet } from '../../../cli/setup/testnet.ts';
import { genesisBlock } from '../../../domain/genesis.ts';
import { identityFromPrivatePem, type Signer, signerOf } from '../../../domain/identity.ts';

// A real testnet (CA, certificates, genesis) in a temp dir, and gateways for its nodes on loopback.

export interface GrpcTestnet {
  readonly dir: string;
  readonly testnet: Testnet;
  readonly genesisSeal: string;
  readonly credentials: NodeCredentials[];
  remove(): Promise<void>;
}

export async function makeTestnet(nodes: number, networkId = 'grpc-test'): Promise<GrpcTestnet> {
  const dir = await mkdtemp(join(tmpdir(), 'itchain-grpc-'));
  const testnet = await createTestnet({
    dir: join(dir, 'net'),
    nodes,
    networkId,
    organization: 'Test Co-op',
  });
  return {
    dir,
    testnet,
    genesisSeal: genesisBlock(testnet.genesis).seal,
    credentials: testnet.nodes.map((node) => loadNodeCredentials(node.home)),
    remove: () => rm(dir, { recursive: true, force: true }),
  };
}

export function signerFor(credentials: NodeCredentials): Signer {
  return signerOf(identityFromPrivatePem(credentials.privateKey.toString()));
}

export interface LogEntry {
  readonly level: 'debug' | 'info' | 'warn' | 'error';
  readonly fields: LogFields;
  readonly message: string;
}

/** Keeps every entry so tests can assert on what was logged and why. */
export class RecordingLogger implements Logger {
  readonly entries: LogEntry[] = [];
  debug(fields: LogFields, message: string): void {
    this.entries.push({ level: 'debug', fields, message });
  }
  info(fields: LogFields, message: string): void {
    this.entries.push({ level: 'info', fields, message });
  }
  warn(fields: LogFields, message: string): void {
    this.entries.push({ level: 'warn', fields, message });
  }
  error(fields: LogFields, message: string): void {
    this.entries.push({ level: 'error', fields, message });
  }
  find(level: LogEntry['level'], message: string): LogEntry[] {
    return this.entries.filter((entry) => entry.level === level && entry.message === message);
  }
}

// The node passes its pino logger; this line fails to compile if pino's no longer fits the interface.
export const pinoFits = (logger: PinoLogger): Logger => logger;

/** Fast timers so the suite stays quick: redials from 50 ms up to 400 ms. */
export const TEST_BACKOFF = { initialMs: 50, maxMs: 400 };

export function gatewayFor(
  net: GrpcTestnet,
  index: number,
  options: Partial<PeerGatewayOptions> = {},
): { gateway: PeerGateway; logger: RecordingLogger } {
  const credentials = net.credentials[index]!;
  const logger = new RecordingLogger();
  const gateway = new PeerGateway({
    credentials,
    signer: signerFor(credentials),
    networkId: net.testnet.genesis.networkId,
    genesisSeal: net.genesisSeal,
    logger,
    backoff: TEST_BACKOFF,
    ...options,
  });
  return { gateway, logger };
}

export function addressOf(gateway: PeerGateway): string {
  const address = gateway.address;
  if (!address) throw new Error('the gateway is not started');
  return `${gateway.nodeId}@${address.host}:${address.port}`;
}

export async function eventually(check: () => boolean, what: string, timeoutMs = 5_000): Promise<void> {
  const started = Date.now();
  while (!check()) {
    if (Date.now() - started > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

export function nextEvent<E extends keyof PeerNetworkEvents>(
  gateway: PeerGateway,
  event: E,
  matches: (value: PeerNetworkEvents[E]) => boolean = () => true,
  timeoutMs = 5_000,
): Promise<PeerNetworkEvents[E]> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      off();
      reject(new Error(`no ${event} event within ${timeoutMs} ms`));
    }, timeoutMs);
    const off = gateway.on(event, (value) => {
      if (!matches(value)) return;
      clearTimeout(timer);
      off();
      resolve(value);
    });
  });
}
