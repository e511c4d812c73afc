// The replica's settings: timeouts, batching and sync sizes. The node fills them from its config
// file (consensus, txpool sections); the simulator from sim/wiring.ts, scaled to its network.

import type { NodeId } from '../../domain/identity.ts';
import { DEFAULT_LIMITS, type ValidationLimits } from '../../domain/validation.ts';

export interface ReplicaTimeouts {
  /** The election timer's range; the replica draws each duration with host.random(). SPEC: 150–300. */
  electionMinMs: number;
  electionMaxMs: number;
  /** The leader's heartbeat period: well below electionMinMs. */
  heartbeatMs: number;
  /** PBFT step timeouts in round 0 … */
  proposeMs: number;
  prevoteMs: number;
  precommitMs: number;
  /** … each growing by this much per round (so a slow network still converges) … */
  roundDeltaMs: number;
  /** … up to this round: the growth stops there, so a long outage does not leave minutes-long rounds. */
  maxRoundGrowth: number;
  /** While a round lasts, its messages are sent again this often (lost messages are not lost for good). */
  resendMs: number;
}

export interface ReplicaBatching {
  maxBatchTxs: number;
  batchIntervalMs: number;
  maxPoolTxs: number;
}

export interface ReplicaSync {
  /** Blocks asked for in one request. */
  batchSize: number;
  fetchTimeoutMs: number;
  statusTimeoutMs: number;
  maxPeerTimeouts: number;
  /** Blocks parked in the block pool at most. */
  poolCapacity: number;
  /** Blocks served in one answer at most, whatever a peer asks for. */
  maxServedBlocks: number;
  /** A peer that asked for status or blocks this recently is sent each block this node commits. */
  announceWindowMs: number;
}

export interface ReplicaSettings {
  timeouts: ReplicaTimeouts;
  batching: ReplicaBatching;
  sync: ReplicaSync;
  limits: ValidationLimits;
}

export interface ReplicaConfig extends ReplicaSettings {
  self: NodeId;
  networkId: string;
  /** The representatives (validators), in validator order: the same list on every node. */
  validators: readonly NodeId[];
  /** A short name for a node ID in log lines (the simulator's n0, n1 …). */
  nameOf?: (id: NodeId) => string;
}

/** SPEC defaults for a LAN: election 150–300 ms, heartbeat well inside it. */
export const DEFAULT_SETTINGS: ReplicaSettings = {
  timeouts: {
    electionMinMs: 150,
    electionMaxMs: 300,
    heartbeatMs: 50,
    proposeMs: 1_000,
    prevoteMs: 500,
    precommitMs: 500,
    roundDeltaMs: 250,
    maxRoundGrowth: 20,
    resendMs: 1_000,
  },
  batching: { maxBatchTxs: 500, batchIntervalMs: 200, maxPoolTxs: 10_000 },
  sync: {
    batchSize: 64,
    fetchTimeoutMs: 5_000,
    statusTimeoutMs: 2_000,
    maxPeerTimeouts: 3,
    poolCapacity: 1_024,
    maxServedBlocks: 64,
    announceWindowMs: 10_000,
  },
  limits: DEFAULT_LIMITS,
};

/** The duration of a PBFT step timer in `round`. */
export function stepTimeoutMs(
  timeouts: ReplicaTimeouts,
  step: 'propose' | 'prevote' | 'precommit',
  round: number,
): number {
  const base =
    step === 'propose' ? timeouts.proposeMs : step === 'prevote' ? timeouts.prevoteMs : timeouts.precommitMs;
  return base + Math.min(round, timeouts.maxRoundGrowth) * timeouts.roundDeltaMs;
}
