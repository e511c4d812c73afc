import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { simpleGit } from 'simple-git';
import type { BlockClock } from './block-clock.ts';
import { type Cluster, type NodeHandle, sleep, until } from './cluster.ts';
import { type Level, runLevel } from './levels.ts';
import { type Call, Load } from './load.ts';

// The benchmark's phases, each on the running 4-node cluster: the adaptive rate search, a leader
// crash under load, bank transfers through deployed iCode, and a fresh node's sync.

const EXAMPLES = fileURLToPath(new URL('../../examples/', import.meta.url));

export interface SearchOptions {
  label: string;
  startRate: number;
  maxLevels: number;
  windowMs: number;
  p99BoundMs: number;
  nodes: readonly number[];
  log: (line: string) => void;
}

/**
 * Adaptive search: the offered rate goes up 40% at a time while the level is sustainable — stable
 * (everything acknowledged commits on all nodes, the pools do not grow, nothing refused or skipped)
 * and its p99 not over max(p99BoundMs, twice the first stable level's p99), so latency that climbs
 * with the load stops it too. A failed level is run once more (the machine may have had a bad moment)
 * and counts as failed only if it fails again. After the first failure it tries halfway between the
 * best and the failed rate, until they are within 10%.
 */
export async function searchRate(
  load: Load,
  clock: BlockClock,
  cluster: Cluster,
  options: SearchOptions,
): Promise<{ levels: Level[]; best: Level | null }> {
  const levels: Level[] = [];
  let best: Level | null = null;
  let rate = options.startRate;
  let failedAt: number | null = null;
  let firstP99: number | null = null;
  let retried = false;
  for (let i = 0; i < options.maxLevels; i++) {
    const level = await runLevel(load, clock, {
      rate,
      warmupMs: 1_500,
      windowMs: options.windowMs,
      p99BoundMs: options.p99BoundMs,
      p99LimitMs: firstP99 === null ? Number.POSITIVE_INFINITY : Math.max(options.p99BoundMs, 2 * firstP99),
      nodes: options.nodes,
      apiUrl: cluster.nodes[0]!.apiUrl,
      nodesCpuMs: () => cluster.nodes.reduce((sum, node) => sum + cluster.cpuMs(node), 0),
    });
    levels.push(level);
    if (level.stable && firstP99 === null) firstP99 = level.p99Ms;
    options.log(
      `${options.label} offered ${rate}/s: committed ${level.committedPerSec}/s on all, p50 ${level.p50Ms} ms, ` +
        `p99 ${level.p99Ms} ms, nodes ${level.nodeCores} cores (${level.cpuMsPerTx} ms CPU/tx) — ${level.verdict}`,
    );
    // A machine shared with other work has bad seconds: a level fails only when it fails twice running.
    if (!level.sustainable && !retried) {
      retried = true;
      continue;
    }
    retried = false;
    if (level.sustainable && (best === null || level.committedPerSec > best.committedPerSec)) best = level;
    if (!level.sustainable) failedAt = failedAt === null ? rate : Math.min(failedAt, rate);
    if (failedAt === null) {
      rate = Math.round(rate * 1.4);
      continue;
    }
    if (best === null) {
      if (rate <= 50) break;
      rate = Math.round(rate / 2);
      continue;
    }
    const low = best.offeredPerSec;
    if (failedAt - low <= Math.max(50, low * 0.1)) break;
    rate = Math.round((low + failedAt) / 2);
  }
  return { levels, best };
}

export async function leaderOf(cluster: Cluster, nodes: readonly number[]): Promise<number> {
  return until('one leader', async () => {
    const statuses = await Promise.all(nodes.map((i) => cluster.status(cluster.nodes[i]!)));
    const leader = statuses[0]?.leader;
    return leader && statuses.every((s) => s?.leader === leader) ? cluster.indexOf(leader) : undefined;
  });
}

/**
 * Leader SIGKILL under load → the first block of another proposer committed on every survivor (ms).
 * The killed node is restarted and caught up before it returns.
 */
export async function failover(
  cluster: Cluster,
  clock: BlockClock,
  load: Load,
  rate: number,
  nodes: readonly number[],
  log: (line: string) => void,
): Promise<number> {
  load.reset();
  load.setRate(rate, Math.max(10, Math.round(rate / 40)));
  await sleep(2_000);
  const leader = await leaderOf(cluster, nodes);
  const leaderId = cluster.nodeId(leader);
  const survivors = nodes.filter((i) => i !== leader);
  const before = Math.max(...survivors.map((i) => clock.height(i)));
  const firstByOthers = new Map<number, number>();
  const off = clock.on((node, event) => {
    if (survivors.includes(node) && event.height > before && event.creator !== leaderId) {
      if (!firstByOthers.has(node)) firstByOthers.set(node, event.at);
    }
  });
  const killedAt = Date.now();
  await cluster.kill(cluster.nodes[leader]!);
  await until('a commit by a new proposer on every survivor', async () =>
    firstByOthers.size === survivors.length ? true : undefined,
  );
  off();
  const ms = Math.max(...firstByOthers.values()) - killedAt;
  load.setRate(0, 1);
  await load.idle();
  log(
    `failover: leader node${leader} killed; a new proposer's block committed on all survivors after ${ms} ms`,
  );
  await cluster.start(cluster.nodes[leader]!);
  await clock.reconnect(leader);
  const top = Math.max(...survivors.map((i) => clock.height(i)));
  await until(
    'the restarted node to catch up',
    async () => {
      const status = await cluster.status(cluster.nodes[leader]!);
      return status && status.height >= top ? true : undefined;
    },
    60_000,
  );
  return ms;
}

export interface SyncFigure {
  blocksPerSec: number;
  blocks: number;
  seconds: number;
  node: NodeHandle;
}

/** A fresh node (`itchain init --ca --genesis`) joins through node0 and syncs the whole chain. */
export async function freshSync(cluster: Cluster, apiPort: number, grpcPort: number): Promise<SyncFigure> {
  const node = await cluster.outsider('fresh', apiPort, grpcPort);
  await cluster.start(node);
  const target = (await cluster.status(cluster.nodes[0]!))?.height ?? 0;
  const started = Date.now();
  const joined = await cluster.post(node, '/peers', { type: 'join', address: cluster.grpcAddress(0) });
  if (joined.status !== 202)
    throw new Error(`join answered ${joined.status}: ${JSON.stringify(joined.body)}`);
  await until(
    'the fresh node to reach the top',
    async () => {
      const status = await cluster.status(node);
      return status && status.height >= target ? true : undefined;
    },
    300_000,
    50,
  );
  const seconds = (Date.now() - started) / 1000;
  return { blocksPerSec: Math.round(target / seconds), blocks: target, seconds, node };
}

export interface IcodeFigure {
  txPerSec: number | null;
  reason?: string;
  levels?: Level[];
}

/** examples/bank in a fresh local git repository under `dir`, deployable by file:// URL. */
async function bankRepository(dir: string): Promise<string> {
  const repo = join(dir, 'bank');
  await mkdir(repo);
  for (const file of ['accounts.js', 'icode.json', 'index.js']) {
    await writeFile(join(repo, file), await readFile(join(EXAMPLES, 'bank', file)));
  }
  const git = simpleGit(repo, { config: ['user.name=itchain bench', 'user.email=bench@itchain.invalid'] });
  await git.init(['--initial-branch=main']);
  await git.add('.');
  await git.commit('bank');
  return repo;
}

/**
 * Deploys examples/bank through POST /icodes, mints, then searches the sustainable rate of transfers
 * (each reads and writes two balances in the QuickJS sandbox on every node). Null, with the reason,
 * when the node cannot deploy or run it.
 */
export async function icodeTransfers(
  cluster: Cluster,
  clock: BlockClock,
  options: Omit<SearchOptions, 'label'>,
): Promise<IcodeFigure> {
  const node0 = cluster.nodes[0]!;
  const deploy = await cluster.post<{ id?: string; txId?: string; error?: { message: string } }>(
    node0,
    '/icodes',
    { gitUrl: `file://${await bankRepository(cluster.dir)}` },
  );
  if (deploy.status !== 202 || !deploy.body.id || !deploy.body.txId) {
    return {
      txPerSec: null,
      reason: `POST /icodes answered ${deploy.status}: ${deploy.body.error?.message ?? ''}`,
    };
  }
  const icodeId = deploy.body.id;
  const outcome = (txId: string) =>
    until(`tx ${txId.slice(0, 8)} committed`, async () => {
      const view = await cluster.get<{ status: string; error?: { code: string; message: string } }>(
        node0,
        `/transactions/${txId}`,
      );
      return view.body.status === 'committed' || view.body.status === 'rejected' ? view.body : undefined;
    });
  const deployed = await outcome(deploy.body.txId);
  if (deployed.status !== 'committed' || deployed.error) {
    return {
      txPerSec: null,
      reason: `the deploy tx did not install the iCode: ${deployed.error?.message ?? deployed.status}`,
    };
  }
  const mint = await cluster.post<{ id: string }>(node0, '/transactions', {
    icodeId,
    function: 'mint',
    args: ['alice', 1_000_000_000_000],
  });
  const minted = await outcome(mint.body.id);
  if (minted.error) return { txPerSec: null, reason: `mint failed: ${minted.error.message}` };
  const transfers = new Load({
    apiUrls: cluster.nodes.map((n) => n.apiUrl),
    call: (k): Call => ({ icodeId, function: 'transfer', args: ['alice', `bob${k % 100}`, 1] }),
    maxInFlight: 32,
    sampleEvery: 25,
  });
  const { levels, best } = await searchRate(transfers, clock, cluster, { ...options, label: 'icode' });
  await transfers.stop();
  return { txPerSec: best?.committedPerSec ?? 0, levels };
}
