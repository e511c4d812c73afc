import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  type ApiGateway,
  type ApiGatewayOptions,
  startApiGateway,
} from '../../../adapters/api/api-gateway.ts';
import type { IcodeDeployer } from '../../../adapters/api/ports.ts';
import type { BusLogger, EventBus } from '../../../adapters/bus/event-bus.ts';
import { MemoryBus } from '../../../adapters/bus/memory-bus.ts';
import { configSchema } from '../../../config/schema.ts';
import type { IcodeDeployment } from '../../../domain/icode.ts';
import { IcodeSourceError } from '../../../domain/icode-errors.ts';
import { generateIdentity, type Identity, signerOf } from '../../../domain/identity.ts';
import { type ChainFixture, createChainFixture } from '../../support/chain-fixture.ts';
import { CoreStandIn, type CoreStandInOptions } from './core-stand-in.ts';

// One API gateway on a real memory bus with a core stand-in behind it, a real LevelDB read model in a
// temp dir and a real HTTP server on 127.0.0.1: what the API tests and the CLI client tests run against.

export class QuietLogger implements BusLogger {
  readonly errors: string[] = [];
  info(): void {}
  warn(): void {}
  error(_details: object, message: string): void {
    this.errors.push(message);
  }
}

export const COUNTER_URL = 'https://git.example/counter.git';

/** A stand-in for the git adapter (adapters/git): one known repository, everything else missing. */
export class StandInDeployer implements IcodeDeployer {
  readonly asked: string[] = [];
  async deploy(gitUrl: string): Promise<IcodeDeployment> {
    this.asked.push(gitUrl);
    if (gitUrl !== COUNTER_URL && !gitUrl.startsWith('/')) {
      throw new IcodeSourceError('repo-not-found', `no repository at ${gitUrl}`);
    }
    return {
      gitUrl,
      commit: 'c0ffee'.padEnd(40, '0'),
      bundle: {
        entry: 'index.js',
        files: [{ path: 'index.js', content: 'export function count() { return 1; }' }],
      },
    };
  }
}

export interface HarnessOptions {
  token?: string | null;
  maxTxBytes?: number;
  core?: CoreStandInOptions;
  /** The API node's identity; default: validator 0 of the fixture (so the pool knows its key). */
  identity?: Identity | 'outsider';
  verdictTimeoutMs?: number;
  heartbeatMs?: number;
  deployer?: IcodeDeployer | null;
  /** Buses for the API and the core stand-in (default: one MemoryBus for both). */
  buses?: { api: EventBus; core: EventBus };
  /** Extra routers and event kinds, as the node adds the live view's. */
  extras?: Pick<ApiGatewayOptions, 'routers' | 'eventSources'>;
}

export interface HttpAnswer {
  status: number;
  headers: Headers;
  text: string;
  json: unknown;
}

export class ApiHarness {
  gateway!: ApiGateway;
  readonly bus: EventBus;
  private readonly coreBus: EventBus;
  readonly core: CoreStandIn;
  readonly logger = new QuietLogger();
  readonly deployer: IcodeDeployer | undefined;
  readonly identity: Identity;

  private constructor(
    readonly fixture: ChainFixture,
    readonly dir: string,
    private readonly options: HarnessOptions,
  ) {
    this.bus = options.buses?.api ?? new MemoryBus(this.logger);
    this.coreBus = options.buses?.core ?? this.bus;
    this.core = new CoreStandIn(this.coreBus, fixture, options.core);
    this.deployer = options.deployer === null ? undefined : (options.deployer ?? new StandInDeployer());
    this.identity =
      options.identity === 'outsider'
        ? generateIdentity()
        : (options.identity ?? (fixture.validators[0] as Identity));
  }

  static async start(options: HarnessOptions = {}): Promise<ApiHarness> {
    const dir = await mkdtemp(join(tmpdir(), 'itchain-api-'));
    const harness = new ApiHarness(createChainFixture(), dir, options);
    await harness.core.start();
    await harness.startGateway();
    await harness.gateway.readModel.caughtUp;
    return harness;
  }

  get url(): string {
    return this.gateway.url;
  }

  get nodeId(): string {
    return this.identity.nodeId;
  }

  async startGateway(): Promise<void> {
    const config = configSchema.parse({
      api: { token: this.options.token ?? null },
      txpool: { maxTxBytes: this.options.maxTxBytes ?? 1_048_576 },
      storage: { path: this.dir },
    });
    const options: ApiGatewayOptions = {
      config,
      nodeId: this.identity.nodeId,
      networkId: this.fixture.networkId,
      signer: signerOf(this.identity),
      bus: this.bus,
      logger: this.logger,
      port: 0,
      readModelPath: join(this.dir, 'api-read-model'),
      verdictTimeoutMs: this.options.verdictTimeoutMs ?? 2_000,
      heartbeatMs: this.options.heartbeatMs ?? 15_000,
      replayRetryMs: 200,
    };
    if (this.deployer) options.deployer = this.deployer;
    Object.assign(options, this.options.extras);
    this.gateway = await startApiGateway(options);
  }

  async request(
    method: string,
    path: string,
    options: { body?: unknown; raw?: string | Buffer; headers?: Record<string, string> } = {},
  ): Promise<HttpAnswer> {
    const headers: Record<string, string> = { ...options.headers };
    let body: string | Buffer | undefined = options.raw;
    if (options.body !== undefined) {
      body = JSON.stringify(options.body);
      headers['content-type'] ??= 'application/json';
    }
    const response = await fetch(`${this.url}${path}`, { method, headers, body });
    const text = await response.text();
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      json = undefined;
    }
    return { status: response.status, headers: response.headers, text, json };
  }

  get(path: string): Promise<HttpAnswer> {
    return this.request('GET', path);
  }

  post(path: string, body: unknown, headers?: Record<string, string>): Promise<HttpAnswer> {
    return this.request('POST', path, { body, headers });
  }

  /** Polls GET /transactions/:id until it is no longer pending. */
  async settled(id: string, timeoutMs = 5_000): Promise<HttpAnswer> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const answer = await this.get(`/transactions/${id}`);
      const status = (answer.json as { status?: string } | undefined)?.status;
      if (status !== 'pending') return answer;
      if (Date.now() > deadline) throw new Error(`tx ${id} still pending after ${timeoutMs} ms`);
      await sleep(10);
    }
  }

  async close(): Promise<void> {
    await this.gateway.close();
    await this.core.stop();
    await this.bus.close();
    if (this.coreBus !== this.bus) await this.coreBus.close();
    await rm(this.dir, { recursive: true, force: true });
  }
}

export async function waitFor(condition: () => boolean | Promise<boolean>, what: string, timeoutMs = 5_000) {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(10);
  }
}
