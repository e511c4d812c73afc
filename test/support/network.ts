import { type ChildProcess, spawn } from 'node:child_process';
import { closeSync, openSync, readFileSync } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { onTestFailed } from 'vitest';
import { createTestnet, type Testnet } from '../../cli/setup/testnet.ts';
import type { Block } from '../../domain/block.ts';

// Real it-chain networks for end-to-end tests: `itchain testnet` homes in a temp dir, one real
// `node bin/itchain.js start --home …` process per node on 127.0.0.1, driven through the public
// REST API (SPEC §6) exactly as a user or an outside test would. Nothing is mocked; faults are real
// signals (SIGKILL, SIGSTOP/SIGCONT, SIGTERM).
//
//   const net = await TestNetwork.create({ basePort: PORTS.network });
//   await net.startAll();                       // spawns every node, waits for each GET /status
//   const id = await net.submit(2, 'kv', 'put', ['k', 'v']);   // POST /transactions → 202 {id}
//   await net.waitCommitted(id);                // GET /transactions/:id → committed on every node
//   net.kill(1); await net.start(1);            // SIGKILL, then restart from the same home
//   await net.dispose();                        // kills what runs, removes the directory
//
// Each node writes its stdout/stderr (JSON log lines) to <dir>/logs/node<i>.log, appended across
// restarts; `dumpLogsOnFailure(net)` (call it inside a test) prints their tails when the test fails.
//
// PORTS: node i listens on API basePort+i and gRPC basePort+1000+i. vitest runs two files at once,
// so every test file takes its own base from PORTS below (a file owns basePort..basePort+99 for APIs
// and +1000 for gRPC); add a line for a new file.

export const PORTS = {
  /** test/e2e/network.test.ts */
  network: 20000,
  /** test/e2e/failover.test.ts */
  failover: 20100,
  /** test/e2e/api-process.test.ts */
  apiProcess: 20200,
  /** test/e2e/up.test.ts */
  up: 20300,
  /** test/e2e/start-command.test.ts */
  startCommand: 20400,
  // 20500 … 20800: free for the fault suite; 20900: the benchmark.
  bench: 20900,
} as const;

const BIN = fileURLToPath(new URL('../../bin/itchain.js', import.meta.url));

export interface NetworkOptions {
  /** Node count (default 4). */
  nodes?: number;
  /** API of node i: basePort+i; gRPC: basePort+1000+i. Take it from PORTS. */
  basePort: number;
  /** bus.url of every node (default 'memory'); e.g. 'amqp://guest:guest@127.0.0.1:5672'. */
  busUrl?: string;
  /** More environment for every node: ITCHAIN_* config overrides (docs/config.md), e.g. ITCHAIN_TXPOOL_BATCH_INTERVAL_MS. */
  env?: Record<string, string>;
  /** log.level of the nodes (default 'info'). */
  logLevel?: 'debug' | 'info' | 'warn';
}

export interface StartOptions {
  /** `--only core` or `--only api` (needs an amqp busUrl). */
  only?: 'core' | 'api';
  /** More environment for this process only. */
  env?: Record<string, string>;
  /** Wait until GET /status answers (default true; never for --only core, which has no API). */
  waitReady?: boolean;
}

/** One node process. */
export interface NodeProcess {
  readonly index: number;
  readonly child: ChildProcess;
  readonly only?: 'core' | 'api';
  /** Resolves with the exit code (null after a signal) and the signal when the process ends. */
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

export interface ApiAnswer<T = unknown> {
  status: number;
  body: T;
}

export interface TxView {
  id: string;
  status: 'pending' | 'committed' | 'rejected';
  height?: number;
  result?: unknown;
  error?: { code: string; message: string };
}

export interface StatusView {
  nodeId: string;
  networkId: string;
  role: string;
  leader: string | null;
  term: number;
  height: number;
  lastSeal: string | null;
  peers: { id: string }[];
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Polls `check` every `everyMs` until it returns a value other than undefined, or throws after timeoutMs. */
export async function eventually<T>(
  what: string,
  check: () => Promise<T | undefined> | T | undefined,
  timeoutMs = 20_000,
  everyMs = 100,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value !== undefined) return value;
    } catch (error) {
      last = error;
    }
    if (Date.now() > deadline) {
      const reason = last instanceof Error ? `: ${last.message}` : '';
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${reason}`);
    }
    await sleep(everyMs);
  }
}

export class TestNetwork {
  readonly processes = new Map<number, NodeProcess>();

  private constructor(
    readonly dir: string,
    readonly testnet: Testnet,
    private readonly options: NetworkOptions,
  ) {}

  /** Writes a fresh testnet (CA, genesis, homes) into a new temp dir. Nothing runs yet. */
  static async create(options: NetworkOptions): Promise<TestNetwork> {
    const dir = await mkdtemp(join(tmpdir(), 'itchain-e2e-'));
    const testnet = await createTestnet({
      dir: join(dir, 'testnet'),
      nodes: options.nodes ?? 4,
      basePort: options.basePort,
      networkId: 'itchain-e2e',
      organization: 'it-chain e2e',
    });
    await mkdir(join(dir, 'logs'));
    return new TestNetwork(dir, testnet, options);
  }

  get size(): number {
    return this.testnet.nodes.length;
  }

  nodeId(index: number): string {
    return this.node(index).nodeId;
  }

  indexOf(nodeId: string): number {
    const found = this.testnet.nodes.find((n) => n.nodeId === nodeId);
    if (!found) throw new Error(`node ${nodeId} is not in this network`);
    return found.index;
  }

  apiUrl(index: number): string {
    return `http://127.0.0.1:${this.node(index).apiPort}`;
  }

  logFile(index: number): string {
    return join(this.dir, 'logs', `node${index}.log`);
  }

  /** Everything node i has logged so far (all its runs). */
  logs(index: number): string {
    try {
      return readFileSync(this.logFile(index), 'utf8');
    } catch {
      return '';
    }
  }

  isRunning(index: number): boolean {
    const p = this.processes.get(index);
    return p !== undefined && p.child.exitCode === null && p.child.signalCode === null;
  }

  // ── processes ──────────────────────────────────────────────────────────────────────────────────────

  /** Starts node i (`itchain start --home …`) and, by default, waits until its API answers. */
  async start(index: number, options: StartOptions = {}): Promise<NodeProcess> {
    if (this.isRunning(index) && options.only === undefined)
      throw new Error(`node${index} is already running`);
    const args = [BIN, 'start', '--home', this.node(index).home, '--log-format', 'json'];
    if (options.only) args.push('--only', options.only);
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      ITCHAIN_LOG_LEVEL: this.options.logLevel ?? 'info',
      ...(this.options.busUrl ? { ITCHAIN_BUS_URL: this.options.busUrl } : {}),
      ...this.options.env,
      ...options.env,
    };
    const log = openSync(this.logFile(index), 'a');
    const child = spawn(process.execPath, args, { env, stdio: ['ignore', log, log] });
    closeSync(log);
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
      child.once('exit', (code, signal) => resolve({ code, signal })),
    );
    const started: NodeProcess = { index, child, only: options.only, exited };
    // A split node (--only) runs two processes on one home; the API one is tracked under index+100.
    this.processes.set(options.only === 'api' ? index + 100 : index, started);
    if (options.waitReady !== false && options.only !== 'core') await this.waitReady(index, started);
    return started;
  }

  /** Starts every node at once and waits until each API answers. */
  async startAll(options: StartOptions = {}): Promise<void> {
    await Promise.all(this.testnet.nodes.map((n) => this.start(n.index, options)));
  }

  /** Waits until node i's GET /status answers 200; fails early (with its log) if the process died. */
  async waitReady(
    index: number,
    process = this.processes.get(index),
    timeoutMs = 30_000,
  ): Promise<StatusView> {
    return eventually(
      `node${index}'s API`,
      async () => {
        if (process && (process.child.exitCode !== null || process.child.signalCode !== null)) {
          throw new Error(
            `node${index} exited (${process.child.exitCode ?? process.child.signalCode}):\n${tail(this.logs(index))}`,
          );
        }
        const answer = await this.get<StatusView>(index, '/status').catch(() => undefined);
        return answer?.status === 200 ? answer.body : undefined;
      },
      timeoutMs,
      150,
    );
  }

  /** SIGKILL: the process dies at once, no clean stop (a crash). */
  kill(index: number): Promise<unknown> {
    const p = this.required(index);
    p.child.kill('SIGKILL');
    return p.exited;
  }

  /** SIGSTOP: the process freezes (sockets stay open, nothing answers) until resume(). */
  pause(index: number): void {
    this.required(index).child.kill('SIGSTOP');
  }

  resume(index: number): void {
    this.required(index).child.kill('SIGCONT');
  }

  /** SIGTERM and wait for a clean exit; SIGKILL after timeoutMs. Resolves with the exit code. */
  async stop(index: number, timeoutMs = 15_000): Promise<number | null> {
    const p = this.processes.get(index);
    if (!p || !this.isRunning(index)) return p?.child.exitCode ?? null;
    p.child.kill('SIGTERM');
    const timer = setTimeout(() => p.child.kill('SIGKILL'), timeoutMs);
    const { code } = await p.exited;
    clearTimeout(timer);
    return code;
  }

  /** Kills every process still running and removes the directory. */
  async dispose(): Promise<void> {
    for (const p of this.processes.values()) {
      if (p.child.exitCode === null && p.child.signalCode === null) {
        p.child.kill('SIGCONT');
        p.child.kill('SIGKILL');
      }
    }
    await Promise.all([...this.processes.values()].map((p) => p.exited));
    this.processes.clear();
    await rm(this.dir, { recursive: true, force: true });
  }

  // ── the REST API ───────────────────────────────────────────────────────────────────────────────────

  async get<T = unknown>(index: number, path: string): Promise<ApiAnswer<T>> {
    const response = await fetch(`${this.apiUrl(index)}${path}`, { signal: AbortSignal.timeout(5_000) });
    return { status: response.status, body: (await response.json()) as T };
  }

  async post<T = unknown>(index: number, path: string, body: unknown): Promise<ApiAnswer<T>> {
    const response = await fetch(`${this.apiUrl(index)}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(10_000),
    });
    return { status: response.status, body: (await response.json()) as T };
  }

  async status(index: number): Promise<StatusView> {
    const answer = await this.get<StatusView>(index, '/status');
    if (answer.status !== 200) throw new Error(`node${index} GET /status: ${answer.status}`);
    return answer.body;
  }

  /** POST /transactions through node i; expects 202 and returns the tx id. */
  async submit(index: number, icodeId: string, fn: string, args: unknown[]): Promise<string> {
    const answer = await this.post<{ id?: string }>(index, '/transactions', { icodeId, function: fn, args });
    if (answer.status !== 202 || typeof answer.body.id !== 'string') {
      throw new Error(`node${index} POST /transactions: ${answer.status} ${JSON.stringify(answer.body)}`);
    }
    return answer.body.id;
  }

  async tx(index: number, id: string): Promise<TxView | undefined> {
    const answer = await this.get<TxView>(index, `/transactions/${id}`);
    return answer.status === 200 ? answer.body : undefined;
  }

  /** Waits until tx `id` shows committed on each of `nodes` (default: every running node). */
  async waitCommitted(id: string, nodes = this.running(), timeoutMs = 20_000): Promise<TxView[]> {
    return Promise.all(
      nodes.map((index) =>
        eventually(
          `tx ${id.slice(0, 12)} committed on node${index}`,
          async () => {
            const view = await this.tx(index, id);
            if (view?.status === 'rejected') throw new Error(`rejected: ${JSON.stringify(view.error)}`);
            return view?.status === 'committed' ? view : undefined;
          },
          timeoutMs,
        ),
      ),
    );
  }

  /** Waits until every one of `nodes` reports at least `height`. */
  async waitHeight(height: number, nodes = this.running(), timeoutMs = 20_000): Promise<void> {
    await Promise.all(
      nodes.map((index) =>
        eventually(
          `node${index} at height ${height}`,
          async () => ((await this.status(index)).height >= height ? true : undefined),
          timeoutMs,
        ),
      ),
    );
  }

  /** The leader as the running nodes agree on it (undefined while they do not). */
  async leader(nodes = this.running()): Promise<string | undefined> {
    const leaders = await Promise.all(nodes.map(async (i) => (await this.status(i)).leader));
    const first = leaders[0];
    return first !== null && first !== undefined && leaders.every((l) => l === first) ? first : undefined;
  }

  /** Node i's chain from the API, heights 0..height, every block in full. */
  async chain(index: number, height?: number): Promise<Block[]> {
    const top = height ?? (await this.status(index)).height;
    const blocks: Block[] = [];
    for (let from = 0; from <= top; from += 1000) {
      const answer = await this.get<Block[]>(
        index,
        `/blocks?from=${from}&limit=${Math.min(1000, top - from + 1)}`,
      );
      blocks.push(...answer.body);
    }
    return blocks;
  }

  /** The indexes of the nodes whose main process is running. */
  running(): number[] {
    return this.testnet.nodes.map((n) => n.index).filter((i) => this.isRunning(i));
  }

  private node(index: number) {
    const node = this.testnet.nodes[index];
    if (!node) throw new Error(`no node${index} in this ${this.size}-node network`);
    return node;
  }

  private required(index: number): NodeProcess {
    const p = this.processes.get(index);
    if (!p) throw new Error(`node${index} was never started`);
    return p;
  }
}

function tail(text: string, lines = 40): string {
  return text.trimEnd().split('\n').slice(-lines).join('\n');
}

/** Inside a test: when it fails, print the last lines of every node's log. */
export function dumpLogsOnFailure(network: () => TestNetwork | undefined, lines = 60): void {
  onTestFailed(() => {
    const net = network();
    if (!net) return;
    for (const node of net.testnet.nodes) {
      process.stderr.write(
        `\n──── node${node.index} (${node.nodeId.slice(0, 8)}) ────\n${tail(net.logs(node.index), lines)}\n`,
      );
    }
  });
}
