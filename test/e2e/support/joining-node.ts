import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { closeSync, openSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Block } from '../../../domain/block.ts';
import { type ApiAnswer, eventually, type StatusView, type TestNetwork } from '../../support/network.ts';

// A node from outside the testnet, as a new organisation would add one: its home is written by
// `itchain init --home D --ca <the network's CA dir> --genesis <the network's genesis.json>` (a
// certificate from the network's CA, the same genesis, no validator), it runs as a real
// `itchain start --home D` process, and it is driven through its REST API like any other node.

const BIN = fileURLToPath(new URL('../../../bin/itchain.js', import.meta.url));

export interface JoiningNodeOptions {
  /** Directory name under the network's dir, e.g. 'node4'. */
  name: string;
  apiPort: number;
  grpcPort: number;
  env?: Record<string, string>;
}

export class JoiningNode {
  private child: ChildProcess | null = null;
  private exitedPromise: Promise<unknown> = Promise.resolve();

  private constructor(
    readonly home: string,
    readonly logFile: string,
    private readonly options: JoiningNodeOptions,
  ) {}

  /** Writes the node's home with `itchain init --ca --genesis` (the network's CA and genesis file). */
  static async init(net: TestNetwork, options: JoiningNodeOptions): Promise<JoiningNode> {
    const home = join(net.dir, options.name);
    const args = [
      BIN,
      'init',
      '--home',
      home,
      '--ca',
      net.testnet.caDir,
      '--genesis',
      net.testnet.genesisFile,
      '--api-port',
      String(options.apiPort),
      '--grpc-port',
      String(options.grpcPort),
    ];
    await new Promise<void>((resolve, reject) => {
      execFile(process.execPath, args, { timeout: 30_000 }, (error, _stdout, stderr) =>
        error ? reject(new Error(`itchain init failed: ${stderr || error.message}`)) : resolve(),
      );
    });
    return new JoiningNode(home, join(net.dir, 'logs', `${options.name}.log`), options);
  }

  get apiUrl(): string {
    return `http://127.0.0.1:${this.options.apiPort}`;
  }

  /** `nodeId@127.0.0.1:port` of a node's gRPC gateway, as `POST /peers` takes it. */
  static peerAddress(net: TestNetwork, index: number): string {
    const node = net.testnet.nodes[index];
    if (!node) throw new Error(`no node${index}`);
    return `${node.nodeId}@127.0.0.1:${node.grpcPort}`;
  }

  /** Starts `itchain start --home …` and waits until its API answers. */
  async start(): Promise<StatusView> {
    const log = openSync(this.logFile, 'a');
    const child = spawn(process.execPath, [BIN, 'start', '--home', this.home, '--log-format', 'json'], {
      env: { ...process.env, ITCHAIN_LOG_LEVEL: 'info', ...this.options.env },
      stdio: ['ignore', log, log],
    });
    closeSync(log);
    this.child = child;
    this.exitedPromise = new Promise((resolve) => child.once('exit', resolve));
    return eventually(
      `${this.options.name}'s API`,
      async () => {
        if (child.exitCode !== null || child.signalCode !== null) {
          throw new Error(`${this.options.name} exited:\n${this.logs().slice(-3000)}`);
        }
        const answer = await this.get<StatusView>('/status').catch(() => undefined);
        return answer?.status === 200 ? answer.body : undefined;
      },
      30_000,
      150,
    );
  }

  async kill(): Promise<void> {
    if (this.child && this.child.exitCode === null && this.child.signalCode === null) {
      this.child.kill('SIGKILL');
      await this.exitedPromise;
    }
  }

  logs(): string {
    try {
      return readFileSync(this.logFile, 'utf8');
    } catch {
      return '';
    }
  }

  /** Its log lines as JSON objects (lines that are not JSON are skipped). */
  logLines(): Record<string, unknown>[] {
    return this.logs()
      .split('\n')
      .filter((line) => line.startsWith('{'))
      .map((line) => JSON.parse(line) as Record<string, unknown>);
  }

  async get<T = unknown>(path: string): Promise<ApiAnswer<T>> {
    const response = await fetch(`${this.apiUrl}${path}`, { signal: AbortSignal.timeout(5_000) });
    return { status: response.status, body: (await response.json()) as T };
  }

  async post<T = unknown>(path: string, body: unknown): Promise<ApiAnswer<T>> {
    const response = await fetch(`${this.apiUrl}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(10_000),
    });
    return { status: response.status, body: (await response.json()) as T };
  }

  async status(): Promise<StatusView> {
    const answer = await this.get<StatusView>('/status');
    if (answer.status !== 200) throw new Error(`GET /status: ${answer.status}`);
    return answer.body;
  }

  /** Its chain from the API, heights 0..height. */
  async chain(height: number): Promise<Block[]> {
    const blocks: Block[] = [];
    for (let from = 0; from <= height; from += 1000) {
      const limit = Math.min(1000, height - from + 1);
      blocks.push(...(await this.get<Block[]>(`/blocks?from=${from}&limit=${limit}`)).body);
    }
    return blocks;
  }
}
