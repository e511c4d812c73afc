import { DEFAULT_SETTINGS, type ReplicaConfig, type ReplicaSettings } from '../actors/replica/config.ts';
import { describePeerMessage, type PeerMessage } from '../actors/replica/messages.ts';
import {
  REPLICA_TIMERS,
  Replica,
  type ReplicaHost,
  type ReplicaInspection,
  type ReplicaMachines,
  type ReplicaReport,
  type ReplicaTimer,
} from '../actors/replica/replica.ts';
import type { NodeId } from '../domain/identity.ts';
import type { Transaction } from '../domain/transaction.ts';
import { DiskLedger, simGenesis } from './disk-ledger.ts';
import { itchainRewriter } from './itchain-byzantine.ts';
import type * as sim from './replica.ts';
import { simNodeId } from './simulation.ts';
import { short } from './trace.ts';

// The real replica (actors/replica) on the simulator's host: the four machines, the same code the
// node runs, with the simulated network, timers, disk and an in-memory ledger on that disk. This is
// what `npm run sim` and the property tests run.
//
// Settings are the node's, scaled to the simulated network: one-way delays of up to ~120 ms (the
// node's LAN defaults assume ~1 ms), so the election waits 300–600 ms for a heartbeat sent every
// 75 ms, and a PBFT step waits 300–250 ms plus 50 ms per round.

export const SIM_SETTINGS: ReplicaSettings = {
  timeouts: {
    electionMinMs: 300,
    electionMaxMs: 600,
    heartbeatMs: 75,
    proposeMs: 300,
    prevoteMs: 250,
    precommitMs: 250,
    roundDeltaMs: 50,
    maxRoundGrowth: 10,
    resendMs: 250,
  },
  batching: { maxBatchTxs: 20, batchIntervalMs: 40, maxPoolTxs: 1_000 },
  sync: {
    batchSize: 16,
    fetchTimeoutMs: 400,
    statusTimeoutMs: 300,
    maxPeerTimeouts: 3,
    poolCapacity: 64,
    maxServedBlocks: 16,
    announceWindowMs: 2_000,
  },
  limits: DEFAULT_SETTINGS.limits,
};

export interface ItchainWiringOptions {
  /** Shown in traces and summaries; default 'itchain'. */
  name?: string;
  settings?: ReplicaSettings;
  /** Other machine definitions: the buggy variants (sim/variants.ts). */
  machines?: ReplicaMachines;
  /** Inspection observers, e.g. coverage (test/support/machine-coverage.ts). */
  inspect?: ReplicaInspection;
  /** Whether the checker demands a valid certificate with every commit (default true). */
  certifiesCommits?: boolean;
}

/** n0, n1 … for the simulator's node IDs; anything else by its first hex digits. */
const SIM_NAMES = new Map<NodeId, string>(Array.from({ length: 100 }, (_, i) => [simNodeId(i), `n${i}`]));
export const simName = (id: NodeId): string => SIM_NAMES.get(id) ?? short(id);

const isTimer = (id: string): id is ReplicaTimer => (REPLICA_TIMERS as readonly string[]).includes(id);

class SimReplica implements sim.Replica<PeerMessage> {
  private readonly replica: Replica;
  private readonly ledger: DiskLedger;

  constructor(ctx: sim.ReplicaContext<PeerMessage>, options: ItchainWiringOptions) {
    const out = ctx.host;
    this.ledger = new DiskLedger(
      simGenesis(ctx.networkId, ctx.validators, ctx.epochMs),
      ctx.disk.records,
      (key, value) => out.persist(key, value),
    );
    const host: ReplicaHost = {
      signer: ctx.signer,
      verifier: ctx.verifier,
      ledger: this.ledger,
      send: (to, message) => out.send(to, message),
      broadcast: (message) => out.broadcast(message),
      armTimer: (timer, ms) => out.armTimer(timer, ms),
      cancelTimer: (timer) => out.cancelTimer(timer),
      persist: (key, value) => out.persist(key, value),
      now: () => ctx.epochMs + Math.floor(out.now()),
      random: () => out.random(),
      report: (report) => reportTo(out, report),
    };
    const config: ReplicaConfig = {
      ...(options.settings ?? SIM_SETTINGS),
      self: ctx.nodeId,
      networkId: ctx.networkId,
      validators: ctx.validators,
      nameOf: simName,
    };
    this.replica = new Replica(config, host, {
      restored: ctx.disk.records,
      machines: options.machines,
      inspect: options.inspect,
    });
    this.replica.start();
  }

  deliver(from: NodeId, message: PeerMessage): void {
    this.replica.deliver(from, message);
  }

  fireTimer(timerId: string): void {
    if (!isTimer(timerId)) throw new Error(`unknown timer ${timerId}`);
    this.replica.fireTimer(timerId);
  }

  submitTx(tx: Transaction): void {
    this.replica.submitTx(tx);
  }

  status(): sim.ReplicaStatus {
    const s = this.replica.status();
    return { height: s.height, role: s.role, term: s.term, round: s.round };
  }
}

/** The replica's reports, as the simulator's checker and trace take them. */
function reportTo(out: sim.ReplicaHost<PeerMessage>, report: ReplicaReport): void {
  switch (report.type) {
    case 'block.committed':
      out.commit({
        height: report.block.height,
        blockHash: report.block.seal,
        txIds: report.block.txs.map((tx) => tx.id),
        certificate: report.cert,
      });
      if (report.via === 'sync') out.log(`synced h${report.block.height}`);
      return;
    case 'leader.elected':
      out.leaderElected(report.term, report.leader);
      return;
    case 'tx.rejected':
      out.log(`tx ${short(report.id)} rejected: ${report.reason}`);
      return;
    case 'sync.completed':
      out.log(`sync completed at h${report.height}`);
      return;
    case 'log':
      out.log(report.text);
      return;
    default:
      return;
  }
}

export function itchainWiring(options: ItchainWiringOptions = {}): sim.Wiring<PeerMessage> {
  return {
    name: options.name ?? 'itchain',
    certifiesCommits: options.certifiesCommits ?? true,
    create: (ctx) => new SimReplica(ctx, options),
    describe: (message) => describePeerMessage(message, simName),
    byzantine: itchainRewriter,
  };
}

/** For `npm run sim` (the default wiring module). */
export const wiring = itchainWiring();
