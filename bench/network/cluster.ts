import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { closeSync, openSync, readFileSync } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createTestnet, type Testnet } from '../../cli/setup/testnet.ts';

// The benchmark's network: `itchain testnet` homes in a temp dir and one real `itchain start` process
// per node on 127.0.0.1 — what `itchain up` runs — used only through the public REST API, like any
// client. A node from outside the testnet (`itchain init --ca --genesis`) can be added to measure a
// fresh node's sync. Node logs go to <dir>/logs/<name>.log.

const BIN = fileURLToPath(new URL('../../bin/itchain.js', import.meta.url));

export interface ClusterOptions {
  nodes: number;
  /** API of node i: basePort+i; gRPC: basePort+1000+i. */
  basePort: number;
  /** ITCHAIN_* overrides for every node (docs/config.md). */
  env?: Record<string, string>;
  /** Node arguments before the script, e.g. ['--cpu-prof', '--cpu-prof-dir', dir]. */
  nodeArgs?: string[];
}

export interface NodeHandle {
  readonly name: string;
  readonly home: string;
  readonly apiUrl: string;
  child: ChildProcess | null;
}

/** USER_HZ on Linux (the unit of /proc/<pid>/stat times). */
const CLOCK_TICKS_PER_SEC = 100;

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export async function until<T>(
  what: string,
  check: () => Promise<T | undefined>,
  timeoutMs = 30_000,
  everyMs = 100,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check().catch(() => undefined);
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(everyMs);
  }
}

export interface Status {
  nodeId: string;
  leader: string | null;
  term: number;
  height: number;
}

export class Cluster {
  readonly nodes: NodeHandle[];
  /** Nodes from outside the testnet (outsider()), stopped with the rest. */
  readonly outsiders: NodeHandle[] = [];

  private constructor(
    readonly dir: string,
    readonly testnet: Testnet,
    private readonly options: ClusterOptions,
  ) {
    this.nodes = testnet.nodes.map((node) => ({
      name: `node${node.index}`,
      home: node.home,
      apiUrl: `http://127.0.0.1:${node.apiPort}`,
      child: null,
    }));
  }

  static async create(options: ClusterOptions): Promise<Cluster> {
    const dir = await mkdtemp(join(tmpdir(), 'itchain-bench-'));
    const testnet = await createTestnet({
      dir: join(dir, 'testnet'),
      nodes: options.nodes,
      basePort: options.basePort,
      networkId: 'itchain-bench',
      organization: 'it-chain bench',
    });
    await mkdir(join(dir, 'logs'));
    return new Cluster(dir, testnet, options);
  }

  nodeId(index: number): string {
    return this.testnet.nodes[index]!.nodeId;
  }

  indexOf(nodeId: string): number {
    return this.testnet.nodes.findIndex((n) => n.nodeId === nodeId);
  }

  grpcAddress(index: number): string {
    const node = this.testnet.nodes[index]!;
    return `${node.nodeId}@127.0.0.1:${node.grpcPort}`;
  }

  async startAll(): Promise<void> {
    await Promise.all(this.nodes.map((node) => this.start(node)));
  }

  /** Starts a node's process and waits until its API answers. */
  async start(node: NodeHandle): Promise<void> {
    const log = openSync(join(this.dir, 'logs', `${node.name}.log`), 'a');
    const child = spawn(
      process.execPath,
      [...(this.options.nodeArgs ?? []), BIN, 'start', '--home', node.home, '--log-format', 'json'],
      {
        env: { ...process.env, ITCHAIN_LOG_LEVEL: 'info', ...this.options.env },
        stdio: ['ignore', log, log],
      },
    );
    closeSync(log);
    node.child = child;
    await until(
      `${node.name}'s API`,
      async () => {
        if (child.exitCode !== null || child.signalCode !== null) throw new Error(`${node.name} exited`);
        return (await this.status(node)) ?? undefined;
      },
      30_000,
      150,
    );
  }

  /** `itchain init --ca --genesis` of a node outside the testnet (not started). */
  async outsider(name: string, apiPort: number, grpcPort: number): Promise<NodeHandle> {
    const home = join(this.dir, name);
    const args = [
      BIN,
      'init',
      '--home',
      home,
      '--ca',
      this.testnet.caDir,
      '--genesis',
      this.testnet.genesisFile,
    ];
    args.push('--api-port', String(apiPort), '--grpc-port', String(grpcPort));
    await new Promise<void>((resolve, reject) =>
      execFile(process.execPath, args, (error, _out, stderr) =>
        error ? reject(new Error(stderr || error.message)) : resolve(),
      ),
    );
    const node: NodeHandle = { name, home, apiUrl: `http://127.0.0.1:${apiPort}`, child: null };
    this.outsiders.push(node);
    return node;
  }

  /** SIGKILL; resolves when the process is gone. */
  async kill(node: NodeHandle): Promise<void> {
    const child = node.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const gone = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGKILL');
    await gone;
  }

  /** Peak resident set (VmHWM) of a running node's process, in MiB. */
  peakRssMb(node: NodeHandle): number | null {
    const pid = node.child?.pid;
    if (pid === undefined) return null;
    try {
      const match = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
      return match ? Math.round(Number(match[1]) / 1024) : null;
    } catch {
      return null;
    }
  }

  /** CPU time (user + system) a running node's process has used so far, in ms (Linux /proc). */
  cpuMs(node: NodeHandle): number {
    const pid = node.child?.pid;
    if (pid === undefined) return 0;
    try {
      // Fields after the command name (which may hold spaces): utime and stime are the 12th and 13th.
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      return (Number(fields[11]) + Number(fields[12])) * (1000 / CLOCK_TICKS_PER_SEC);
    } catch {
      return 0;
    }
  }

  async status(node: NodeHandle): Promise<Status | null> {
    const response = await fetch(`${node.apiUrl}/status`, { signal: AbortSignal.timeout(5_000) });
    return response.ok ? ((await response.json()) as Status) : null;
  }

  async post<T>(
    node: NodeHandle,
    path: string,
    body: unknown,
    timeoutMs = 30_000,
  ): Promise<{ status: number; body: T }> {
    const response = await fetch(`${node.apiUrl}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(timeoutMs),
    });
    return { status: response.status, body: (await response.json()) as T };
  }

  async get<T>(node: NodeHandle, path: string): Promise<{ status: number; body: T }> {
    const response = await fetch(`${node.apiUrl}${path}`, { signal: AbortSignal.timeout(10_000) });
    return { status: response.status, body: (await response.json()) as T };
  }

  /** SIGTERM (a clean stop: logs flushed, --cpu-prof written), SIGKILL after 15 s. */
  async stop(node: NodeHandle): Promise<void> {
    const child = node.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const gone = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
    await gone;
    clearTimeout(timer);
  }

  /** Stops every process it started and removes the directory (unless keep). */
  async dispose(keep = false): Promise<void> {
    await Promise.all([...this.nodes, ...this.outsiders].map((node) => this.stop(node)));
    if (!keep) await rm(this.dir, { recursive: true, force: true });
  }
}
