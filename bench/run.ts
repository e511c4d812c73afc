// `npm run bench`: the node's figures on this machine, measured end to end (not a test).
//
// A 4-node network of real `itchain start` processes (bench/network/cluster.ts), driven only through
// the public REST API by a load generator in this process with bounded concurrency
// (POST /transactions/batch, round-robin over the nodes; each tx is signed by the node that accepts
// it and verified by every node). Commit times come from each node's /events stream.
//
//   txPerSec          the highest offered rate the network SUSTAINS (bench/network/phases.ts: the rate
//                     goes up while everything acknowledged commits on all 4, the pools do not grow
//                     and the latency does not climb), as committed tx/s on all 4 — not a burst's peak
//   p50Ms, p99Ms      submit → committed on all 4, at that rate (about 600 sampled txs per level)
//   failoverMs        leader SIGKILL → the first block of a new proposer committed on all survivors,
//                     under half that load
//   syncBlocksPerSec  a fresh node (`itchain init --ca --genesis`, then POST /peers join) catching up
//                     with the chain the run built
//   rssMb             the largest peak resident set (VmHWM) of the 4 node processes
//   icodeTxPerSec     bank transfers (examples/bank, QuickJS) sustained on 4 nodes; null, with the
//                     reason, when the node does not run deployed iCode
// and, to explain them: the CPU the 4 node processes used (cores, and ms of CPU per committed tx).
//
// Prints a table and writes bench/results/latest.json. Knobs (environment): BENCH_START_RATE (200),
// BENCH_WINDOW_MS (6000), BENCH_MAX_LEVELS (12), BENCH_PROFILE=1 (nodes run with --cpu-prof into
// bench/results/profiles, written at their clean stop), BENCH_KEEP=1 (keep the network's directory and
// logs), and any ITCHAIN_* config override for the nodes (e.g. ITCHAIN_TXPOOL_MAX_BATCH_TXS).

import { mkdir, writeFile } from 'node:fs/promises';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { BlockClock } from './network/block-clock.ts';
import { Cluster, until } from './network/cluster.ts';
import type { Level } from './network/levels.ts';
import { Load } from './network/load.ts';
import { failover, freshSync, icodeTransfers, leaderOf, searchRate } from './network/phases.ts';
import { table } from './network/report.ts';

const BASE_PORT = 20900;
const NODES = 4;
const ALL = [0, 1, 2, 3];
const P99_BOUND_MS = 500;
const TARGET_TX_PER_SEC = 3_000;
const START_RATE = Number(process.env.BENCH_START_RATE ?? 200);
const WINDOW_MS = Number(process.env.BENCH_WINDOW_MS ?? 6_000);
const MAX_LEVELS = Number(process.env.BENCH_MAX_LEVELS ?? 12);
const PROFILE = process.env.BENCH_PROFILE === '1';
const KEEP = process.env.BENCH_KEEP === '1';
const RESULTS = fileURLToPath(new URL('./results/', import.meta.url));

const nodeEnv = Object.fromEntries(
  Object.entries(process.env).filter((entry): entry is [string, string] => entry[0].startsWith('ITCHAIN_')),
);

function log(line: string): void {
  process.stderr.write(`${new Date().toISOString().slice(11, 19)} ${line}\n`);
}

const loadAtStart = loadavg()[0]!;
const cluster = await Cluster.create({
  nodes: NODES,
  basePort: BASE_PORT,
  env: nodeEnv,
  nodeArgs: PROFILE ? ['--cpu-prof', '--cpu-prof-dir', join(RESULTS, 'profiles')] : [],
});
const clock = new BlockClock(cluster.nodes.map((n) => n.apiUrl));
const load = new Load({
  apiUrls: cluster.nodes.map((n) => n.apiUrl),
  call: (k) => ({ icodeId: 'kv', function: 'put', args: [`k${k % 10_000}`, k] }),
  maxInFlight: 32,
  sampleEvery: 25,
});
try {
  log(`network of ${NODES} nodes in ${cluster.dir}`);
  await cluster.startAll();
  await clock.start();
  await leaderOf(cluster, ALL);
  // One tx first: the leader is settled and every stream sees blocks.
  const first = await cluster.post(cluster.nodes[0]!, '/transactions', {
    icodeId: 'kv',
    function: 'put',
    args: ['warm-up', 1],
  });
  if (first.status !== 202) throw new Error(`the first tx answered ${first.status}`);
  await until('the first block on all nodes', async () => (clock.onAll(1, ALL) ? true : undefined));

  const search = {
    startRate: START_RATE,
    maxLevels: MAX_LEVELS,
    windowMs: WINDOW_MS,
    p99BoundMs: P99_BOUND_MS,
  };
  const throughput = await searchRate(load, clock, cluster, { ...search, label: 'kv', nodes: ALL, log });
  const best = throughput.best;
  const withinTarget = throughput.levels
    .filter((l) => l.sustainable && l.p99Ms !== null && l.p99Ms <= P99_BOUND_MS)
    .reduce<Level | null>(
      (top, l) => (top === null || l.committedPerSec > top.committedPerSec ? l : top),
      null,
    );
  const failoverMs = await failover(
    cluster,
    clock,
    load,
    Math.max(50, Math.round((best?.committedPerSec ?? 100) / 2)),
    ALL,
    log,
  );
  await load.stop();
  const icode = await icodeTransfers(cluster, clock, {
    ...search,
    startRate: Math.max(50, Math.round((best?.committedPerSec ?? 200) / 4)),
    nodes: ALL,
    log,
  });
  log(`icode: ${icode.txPerSec === null ? `null (${icode.reason})` : `${icode.txPerSec} transfers/s`}`);
  const rssMb = Math.max(...cluster.nodes.map((n) => cluster.peakRssMb(n) ?? 0));
  const sync = await freshSync(cluster, BASE_PORT + NODES, BASE_PORT + 1000 + NODES);
  log(`sync: a fresh node caught up ${sync.blocks} blocks in ${sync.seconds.toFixed(1)} s`);

  const results = {
    bench: 'network',
    date: new Date().toISOString(),
    node: process.version,
    platform: `${process.platform} ${process.arch}`,
    cpu: cpus()[0]?.model ?? 'unknown',
    cores: cpus().length,
    loadAverage1m: {
      atStart: Math.round(loadAtStart * 100) / 100,
      atEnd: Math.round(loadavg()[0]! * 100) / 100,
    },
    setup:
      `${NODES} itchain start processes on 127.0.0.1 (default config` +
      `${Object.keys(nodeEnv).length > 0 ? ` + ${JSON.stringify(nodeEnv)}` : ''}), load from this ` +
      'process through POST /transactions/batch (at most 32 requests in flight, round-robin); commit ' +
      "times from each node's /events; latency = submit → committed on all 4 (about 600 sampled txs per level)",
    target: { txPerSec: TARGET_TX_PER_SEC, p99Ms: P99_BOUND_MS },
    txPerSec: best?.committedPerSec ?? 0,
    p50Ms: best?.p50Ms ?? null,
    p99Ms: best?.p99Ms ?? null,
    failoverMs,
    syncBlocksPerSec: sync.blocksPerSec,
    rssMb,
    icodeTxPerSec: icode.txPerSec,
    ...(icode.reason ? { icodeNote: icode.reason } : {}),
    txPerSecWithinP99Target: withinTarget?.committedPerSec ?? null,
    nodeCores: best?.nodeCores ?? null,
    cpuMsPerTx: best?.cpuMsPerTx ?? null,
    peakCommittedTxPerSec: Math.max(0, ...throughput.levels.map((l) => l.committedPerSec)),
    sync: { blocks: sync.blocks, seconds: Math.round(sync.seconds * 10) / 10 },
    levels: throughput.levels,
    icodeLevels: icode.levels ?? [],
  };
  await mkdir(RESULTS, { recursive: true });
  await writeFile(join(RESULTS, 'latest.json'), `${JSON.stringify(results, null, 2)}\n`);
  process.stdout.write(
    table({
      title: `it-chain network bench — ${NODES} nodes, ${results.cores} cores (${results.cpu}), load average ${results.loadAverage1m.atStart} → ${results.loadAverage1m.atEnd}`,
      levels: throughput.levels,
      lines: [
        `txPerSec          ${results.txPerSec} (sustained, committed on all 4; target ≥ ${TARGET_TX_PER_SEC})`,
        `p50Ms / p99Ms     ${results.p50Ms} / ${results.p99Ms} (target p99 ≤ ${P99_BOUND_MS}; highest rate within it: ${results.txPerSecWithinP99Target ?? 'none'})`,
        `node CPU          ${results.nodeCores} cores for the 4 nodes, ${results.cpuMsPerTx} ms CPU per committed tx`,
        `failoverMs        ${failoverMs}`,
        `syncBlocksPerSec  ${sync.blocksPerSec} (${sync.blocks} blocks in ${sync.seconds.toFixed(1)} s)`,
        `rssMb             ${rssMb}`,
        `icodeTxPerSec     ${icode.txPerSec ?? `null — ${icode.reason}`}`,
        '',
        `written to bench/results/latest.json${KEEP ? `; logs kept in ${cluster.dir}/logs` : ''}`,
      ],
    }),
  );
} finally {
  clock.stop();
  await load.stop();
  await cluster.dispose(KEEP);
}
