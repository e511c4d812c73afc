// `npx tsx bench/icode-network.ts`: committed bank transfers per second on a real network of
// `itchain start` processes (QuickJS, the default runtime), on four nodes and on one. Each run:
// a fresh testnet in a temp dir, examples/bank deployed from a real git repository through
// POST /icodes, ACCOUNTS accounts minted, then TRANSFERS transfers between them submitted through
// every node's POST /transactions/batch (BATCH per request) while at most IN_FLIGHT wait; the clock
// runs from the first submit to the block that commits the last one, counted from node 0's blocks. Every node executes
// every transfer (and every one writes two balances), so on one machine the nodes share its cores.
// Writes bench/results/icode-network.json (the lead merges icodeTxPerSec into the main bench).
//
//   BENCH_TRANSFERS (default 20000)  BENCH_NODES (default "4,1")  BENCH_BATCH (default 100)
//   BENCH_KEEP=1 keeps the nodes' logs  BENCH_LOG_LEVEL (default warn)
//   BENCH_PROFILE=1 writes a CPU profile per node (with BENCH_KEEP)
import { type ChildProcess, spawn } from 'node:child_process';
import { cp, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { simpleGit } from 'simple-git';
import { createTestnet, type Testnet } from '../cli/setup/testnet.ts';

const BIN = fileURLToPath(new URL('../bin/itchain.js', import.meta.url));
const BANK = fileURLToPath(new URL('../examples/bank/', import.meta.url));
const RESULTS = fileURLToPath(new URL('./results/icode-network.json', import.meta.url));
/** API base ports (gRPC: +1000), inside the IVM helper's range. */
const BASE_PORT: Record<number, number> = { 4: 21250, 1: 21260 };
const TRANSFERS = Number(process.env.BENCH_TRANSFERS ?? 20_000);
const NODE_COUNTS = (process.env.BENCH_NODES ?? '4,1').split(',').map(Number);
const ACCOUNTS = 100;
const BATCH = Number(process.env.BENCH_BATCH ?? 100);
const IN_FLIGHT = 8000;

interface Run {
  nodes: number;
  transfers: number;
  seconds: number;
  transfersPerSec: number;
  blocks: number;
  failedReceipts: number;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function api<T>(url: string, path: string, body?: unknown): Promise<{ status: number; body: T }> {
  const response = await fetch(`${url}${path}`, {
    method: body === undefined ? 'GET' : 'POST',
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
    signal: AbortSignal.timeout(30_000),
  });
  return { status: response.status, body: (await response.json()) as T };
}

async function until<T>(what: string, check: () => Promise<T | undefined>, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check().catch(() => undefined);
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(100);
  }
}

interface Block {
  height: number;
  timestamp: number;
  txs: { id: string }[];
}

class Network {
  private readonly children: ChildProcess[] = [];
  constructor(
    readonly testnet: Testnet,
    private readonly logDir: string,
  ) {}

  urls(): string[] {
    return this.testnet.nodes.map((n) => `http://127.0.0.1:${n.apiPort}`);
  }

  async start(): Promise<void> {
    const { openSync, closeSync } = await import('node:fs');
    for (const node of this.testnet.nodes) {
      const log = openSync(join(this.logDir, `node${node.index}.log`), 'a');
      const profile = process.env.BENCH_PROFILE
        ? ['--cpu-prof', '--cpu-prof-dir', join(this.logDir, `prof${node.index}`)]
        : [];
      const child = spawn(
        process.execPath,
        [...profile, BIN, 'start', '--home', node.home, '--log-format', 'json'],
        {
          env: { ...process.env, ITCHAIN_LOG_LEVEL: process.env.BENCH_LOG_LEVEL ?? 'warn' },
          stdio: ['ignore', log, log],
        },
      );
      closeSync(log);
      this.children.push(child);
    }
    await Promise.all(
      this.urls().map((url) =>
        until(`${url}/status`, async () => ((await api(url, '/status')).status === 200 ? true : undefined)),
      ),
    );
  }

  /** SIGTERM (a clean stop writes the profiles), SIGKILL after 15 s. */
  async stop(): Promise<void> {
    for (const child of this.children) child.kill('SIGTERM');
    const kill = setTimeout(() => {
      for (const child of this.children) child.kill('SIGKILL');
    }, 15_000);
    await Promise.all(
      this.children.map((c) =>
        c.exitCode !== null || c.signalCode !== null
          ? Promise.resolve()
          : new Promise((resolve) => c.once('exit', resolve)),
      ),
    );
    clearTimeout(kill);
  }
}

async function waitCommitted(url: string, txId: string): Promise<{ error?: unknown }> {
  return until(`tx ${txId}`, async () => {
    const { body } = await api<{ status: string; error?: unknown }>(url, `/transactions/${txId}`);
    return body.status === 'committed' ? body : undefined;
  });
}

async function bankRepo(dir: string): Promise<string> {
  const path = join(dir, 'bank');
  await cp(BANK, path, { recursive: true });
  const git = simpleGit(path, { config: ['user.name=bench', 'user.email=bench@itchain.invalid'] });
  await git.init(['--initial-branch=main']);
  await git.add('.');
  await git.commit('bank');
  return path;
}

async function submitBatch(url: string, calls: unknown[]): Promise<string[]> {
  for (;;) {
    const answer = await api<{ ids?: string[]; rejected?: { code: string }[]; error?: { code: string } }>(
      url,
      '/transactions/batch',
      { txs: calls },
    );
    if (answer.status === 202 && answer.body.ids && !answer.body.rejected) return answer.body.ids;
    // A full pool: wait and send the whole batch again (a duplicate is refused, never counted twice).
    if (answer.status === 503 || answer.body.rejected || answer.body.error?.code === 'pool_full') {
      await sleep(200);
      continue;
    }
    throw new Error(`POST /transactions/batch: ${answer.status} ${JSON.stringify(answer.body)}`);
  }
}

async function committedTxs(url: string, from: number): Promise<{ count: number; height: number }> {
  const { body: status } = await api<{ height: number }>(url, '/status');
  let count = 0;
  for (let h = from; h <= status.height; h += 500) {
    const limit = Math.min(500, status.height - h + 1);
    const { body } = await api<Block[]>(url, `/blocks?from=${h}&limit=${limit}`);
    for (const block of body) count += block.txs.length;
  }
  return { count, height: status.height };
}

async function run(nodes: number): Promise<Run> {
  const dir = await mkdtemp(join(tmpdir(), 'itchain-bench-icode-'));
  const logs = join(dir, 'logs');
  await mkdir(logs);
  const testnet = await createTestnet({
    dir: join(dir, 'testnet'),
    nodes,
    basePort: BASE_PORT[nodes] ?? 21270,
    networkId: 'itchain-bench-icode',
    organization: 'it-chain bench',
  });
  const net = new Network(testnet, logs);
  try {
    await net.start();
    const urls = net.urls();
    const deployed = await api<{ id: string; txId: string }>(urls[0]!, '/icodes', {
      gitUrl: await bankRepo(dir),
    });
    if (deployed.status !== 202) throw new Error(`deploy: ${JSON.stringify(deployed.body)}`);
    const bank = deployed.body.id;
    await waitCommitted(urls[0]!, deployed.body.txId);
    const accounts = Array.from({ length: ACCOUNTS }, (_, i) => `acct-${i}`);
    const mints = await submitBatch(
      urls[0]!,
      accounts.map((a) => ({ icodeId: bank, function: 'mint', args: [a, 1_000_000_000] })),
    );
    await waitCommitted(urls[0]!, mints.at(-1)!);
    await until('every mint', async () => {
      const views = await Promise.all(
        mints.map((id) => api<{ status: string }>(urls[0]!, `/transactions/${id}`)),
      );
      return views.every((v) => v.body.status === 'committed') ? true : undefined;
    });

    const startHeight = (await api<{ height: number }>(urls[0]!, '/status')).body.height + 1;
    const calls = Array.from({ length: TRANSFERS }, (_, i) => ({
      icodeId: bank,
      function: 'transfer',
      args: [accounts[i % ACCOUNTS]!, accounts[(i * 7 + 1) % ACCOUNTS]!, 1],
    }));
    const ids: string[] = [];
    const started = Date.now();
    let committed = 0;
    let height = startHeight - 1;
    for (let i = 0, turn = 0; i < calls.length; i += BATCH, turn++) {
      while (ids.length - committed >= IN_FLIGHT) {
        await sleep(50);
        ({ count: committed, height } = await committedTxs(urls[0]!, startHeight));
      }
      ids.push(...(await submitBatch(urls[turn % urls.length]!, calls.slice(i, i + BATCH))));
    }
    const done = await until(
      'every transfer committed',
      async () => {
        const c = await committedTxs(urls[0]!, startHeight);
        return c.count >= ids.length ? c : undefined;
      },
      300_000,
    );
    const seconds = (Date.now() - started) / 1000;
    height = done.height;
    // A sample of receipts: a transfer between funded accounts must succeed.
    let failedReceipts = 0;
    for (const id of ids.filter((_, i) => i % 997 === 0)) {
      const view = await waitCommitted(urls[urls.length - 1]!, id);
      if (view.error !== undefined) failedReceipts++;
    }
    return {
      nodes,
      transfers: ids.length,
      seconds: Math.round(seconds * 100) / 100,
      transfersPerSec: Math.round(ids.length / seconds),
      blocks: height - startHeight + 1,
      failedReceipts,
    };
  } finally {
    await net.stop();
    if (process.env.BENCH_KEEP) console.log(`kept ${dir} (logs in ${logs})`);
    else await rm(dir, { recursive: true, force: true });
  }
}

const runs: Run[] = [];
for (const nodes of NODE_COUNTS) {
  const result = await run(nodes);
  runs.push(result);
  console.log(
    `${nodes} node(s): ${result.transfers} bank transfers in ${result.seconds} s = ${result.transfersPerSec}/s ` +
      `(${result.blocks} blocks, ${result.failedReceipts} failed receipts in the sample)`,
  );
}
const byNodes = (n: number) => runs.find((r) => r.nodes === n)?.transfersPerSec;
const results = {
  bench: 'icode-network',
  date: new Date().toISOString(),
  node: process.version,
  cpu: cpus()[0]?.model ?? 'unknown',
  cores: cpus().length,
  runtime: 'quickjs',
  icodeTxPerSec: { quickjs: { fourNodes: byNodes(4), oneNode: byNodes(1) } },
  runs,
};
await writeFile(RESULTS, `${JSON.stringify(results, null, 2)}\n`);
console.log(`wrote ${RESULTS}`);
