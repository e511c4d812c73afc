// One Replica on a host that records every call, for tests that drive it by hand: signatures from
// the simulator's keys, a DiskLedger on a plain Map, timers and sends only written down.

import { DEFAULT_SETTINGS, type ReplicaConfig } from '../../../actors/replica/config.ts';
import type { PeerMessage } from '../../../actors/replica/messages.ts';
import {
  Replica,
  type ReplicaHost,
  type ReplicaOptions,
  type ReplicaReport,
} from '../../../actors/replica/replica.ts';
import type { NodeId, Signer } from '../../../domain/identity.ts';
import { DiskLedger, simGenesis } from '../../../sim/disk-ledger.ts';
import { SimKeys } from '../../../sim/sim-signer.ts';
import { simNodeId } from '../../../sim/simulation.ts';

export const NETWORK = 'itchain-test';
export const IDS: readonly NodeId[] = [0, 1, 2, 3].map(simNodeId);
export const KEYS = new SimKeys(IDS, 'replica-test');
export const EPOCH = Date.UTC(2025, 0, 1);

export type HostCall =
  | { call: 'send'; to: NodeId; message: PeerMessage }
  | { call: 'broadcast'; message: PeerMessage }
  | { call: 'armTimer'; timer: string; ms: number }
  | { call: 'cancelTimer'; timer: string }
  | { call: 'persist'; key: string; value: unknown }
  | { call: 'report'; report: ReplicaReport };

export interface HandDriven {
  replica: Replica;
  calls: HostCall[];
  disk: Map<string, unknown>;
  ledger: DiskLedger;
  signer: Signer;
  /** The calls since the last take(). */
  take(): HostCall[];
  setNow(ms: number): void;
}

export function handDriven(
  index = 0,
  options: ReplicaOptions & { disk?: Map<string, unknown> } = {},
): HandDriven {
  const self = IDS[index]!;
  const disk = options.disk ?? new Map<string, unknown>();
  const calls: HostCall[] = [];
  let now = EPOCH;
  const ledger = new DiskLedger(simGenesis(NETWORK, IDS, EPOCH), disk, (key, value) => {
    disk.set(key, structuredClone(value));
    calls.push({ call: 'persist', key, value });
  });
  const signer = KEYS.signerFor(self);
  const host: ReplicaHost = {
    signer,
    verifier: KEYS,
    ledger,
    send: (to, message) => calls.push({ call: 'send', to, message }),
    broadcast: (message) => calls.push({ call: 'broadcast', message }),
    armTimer: (timer, ms) => calls.push({ call: 'armTimer', timer, ms }),
    cancelTimer: (timer) => calls.push({ call: 'cancelTimer', timer }),
    persist: (key, value) => {
      disk.set(key, structuredClone(value));
      calls.push({ call: 'persist', key, value });
    },
    now: () => now,
    random: () => 0.5,
    report: (report) => calls.push({ call: 'report', report }),
  };
  const config: ReplicaConfig = { ...DEFAULT_SETTINGS, self, networkId: NETWORK, validators: IDS };
  const replica = new Replica(config, host, { ...options, restored: new Map(disk) });
  replica.start();
  let taken = 0;
  return {
    replica,
    calls,
    disk,
    ledger,
    signer,
    take: () => {
      const fresh = calls.slice(taken);
      taken = calls.length;
      return fresh;
    },
    setNow: (ms) => {
      now = ms;
    },
  };
}
