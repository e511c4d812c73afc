import type { BlockClock } from './block-clock.ts';
import { sleep } from './cluster.ts';
import { type LatencyFigures, latencies } from './latency.ts';
import type { Load } from './load.ts';

// One step of the adaptive search: offer `rate` tx/s for a warm-up and a measured window, then stop
// offering, let the network drain what it acknowledged, and judge the step: SUSTAINABLE when the
// network committed (on every node) about what it acknowledged, the backlog did not grow, no offer was
// skipped or refused, and the p99 latency is within the bound.

export interface LevelOptions {
  rate: number;
  warmupMs: number;
  windowMs: number;
  p99BoundMs: number;
  nodes: readonly number[];
  /** The API the samples' heights are read from. */
  apiUrl: string;
  /** CPU ms the node processes have used so far (summed). */
  nodesCpuMs: () => number;
  /** A level is stable but too slow when its p99 is above this. */
  p99LimitMs: number;
}

export interface Level extends LatencyFigures {
  offeredPerSec: number;
  ackedPerSec: number;
  committedPerSec: number;
  blocksPerSec: number;
  /** (acknowledged − committed) in the window, per second: > 0 means the pools grew. */
  backlogGrowthPerSec: number;
  /** CPU cores the node processes used in the window, and their CPU ms per committed tx. */
  nodeCores: number;
  cpuMsPerTx: number | null;
  /** Everything acknowledged committed on all nodes, the pools did not grow, nothing was refused. */
  stable: boolean;
  skipped: number;
  refused: number;
  sustainable: boolean;
  /** Why not, when it is not. */
  verdict: string;
}

/** Requests of about 1/40 s of load each (10 … 500 txs). */
export function batchFor(rate: number): number {
  return Math.max(10, Math.min(500, Math.round(rate / 40)));
}

export async function runLevel(load: Load, clock: BlockClock, options: LevelOptions): Promise<Level> {
  const { rate, warmupMs, windowMs, nodes } = options;
  load.reset();
  const committedAtStart = clock.committedOnAll(nodes, 0, Number.MAX_SAFE_INTEGER).txs;
  // About 600 latency samples in the window, whatever the rate.
  load.setSampling((rate * windowMs) / 1000 / 600);
  load.setRate(rate, batchFor(rate));
  await sleep(warmupMs);
  const from = Date.now();
  const ackedBefore = load.acked;
  const offeredBefore = load.offered;
  const cpuBefore = options.nodesCpuMs();
  await sleep(windowMs);
  const to = Date.now();
  const cpu = options.nodesCpuMs() - cpuBefore;
  const acked = load.acked - ackedBefore;
  const offered = load.offered - offeredBefore;
  const committed = clock.committedOnAll(nodes, from, to);
  const seconds = (to - from) / 1000;
  load.setRate(0, 1);
  await load.idle();
  // Drain: whatever was acknowledged commits before the next level starts from an empty pool.
  const drainUntil = Date.now() + 30_000;
  let drained = false;
  while (!drained && Date.now() < drainUntil) {
    await sleep(250);
    drained = clock.committedOnAll(nodes, 0, Number.MAX_SAFE_INTEGER).txs >= committedAtStart + load.acked;
  }
  const window = load.samples.filter((s) => s.sentAt >= from && s.sentAt < to);
  const figures = await latencies(window, options.apiUrl, clock, nodes);
  const refused = [...load.refusals.values()].reduce((a, b) => a + b, 0);
  const level: Level = {
    ...figures,
    offeredPerSec: Math.round(offered / seconds),
    ackedPerSec: Math.round(acked / seconds),
    committedPerSec: Math.round(committed.txs / seconds),
    blocksPerSec: Math.round((committed.blocks / seconds) * 10) / 10,
    backlogGrowthPerSec: Math.round((acked - committed.txs) / seconds),
    nodeCores: Math.round((cpu / (to - from)) * 100) / 100,
    cpuMsPerTx: committed.txs > 0 ? Math.round((cpu / committed.txs) * 100) / 100 : null,
    skipped: load.skipped,
    refused,
    stable: false,
    sustainable: false,
    verdict: '',
  };
  const problems: string[] = [];
  if (load.skipped > 0) problems.push(`${load.skipped} offers skipped (API busy)`);
  if (refused > 0) problems.push(`${refused} refused (${[...load.refusals.keys()].join(', ')})`);
  if (level.backlogGrowthPerSec > Math.max(50, 0.1 * level.ackedPerSec)) {
    problems.push(`pool grew ${level.backlogGrowthPerSec} tx/s`);
  }
  if (level.ackedPerSec < 0.9 * rate) problems.push(`acknowledged ${level.ackedPerSec} of ${rate} tx/s`);
  if (level.uncommitted > 0) problems.push(`${level.uncommitted} samples not committed on all`);
  if (!drained) problems.push('the backlog did not drain in 30 s');
  level.stable = problems.length === 0;
  if (level.p99Ms === null || level.p99Ms > options.p99LimitMs) problems.push(`p99 ${level.p99Ms} ms`);
  level.sustainable = problems.length === 0;
  const withinTarget = level.p99Ms !== null && level.p99Ms <= options.p99BoundMs;
  level.verdict =
    problems.length > 0
      ? problems.join('; ')
      : withinTarget
        ? 'sustainable'
        : `sustainable, but p99 ${level.p99Ms} ms is over ${options.p99BoundMs} ms`;
  return level;
}
