import type { Canonical } from '../../domain/canonical.ts';
import { BUILTIN_KV_ID } from '../../domain/icode.ts';
import type { NodeId } from '../../domain/identity.ts';
import type { SyncProgress } from './api-topics.ts';

// The JSON the API answers with (SPEC §6 names the fields; the extras are documented in openapi.ts).

/** leader: this node leads; follower: it follows a known leader; electing: no leader known now. */
export type Role = 'leader' | 'follower' | 'electing';

export interface PeerView {
  id: NodeId;
  /** host:port of the peer's gRPC gateway. */
  address: string;
  outbound: boolean;
}

export interface StatusView {
  nodeId: NodeId;
  networkId: string;
  role: Role;
  leader: NodeId | null;
  term: number;
  /** Height of the last committed block the API has seen (0 with lastSeal null before genesis). */
  height: number;
  lastSeal: string | null;
  peers: PeerView[];
  /** Additions: the PBFT round in progress, the TxPool's size and block sync progress, when reported. */
  round: { height: number; round: number } | null;
  poolSize: number | null;
  sync: SyncProgress | null;
}

export type TxStatus = 'pending' | 'committed' | 'rejected';

export interface TxView {
  id: string;
  status: TxStatus;
  height?: number;
  result?: Canonical;
  /** For a rejected tx why it was refused; for a committed one the iCode's error (its receipt). */
  error?: { code: string; message: string };
}

export interface IcodeView {
  id: string;
  gitUrl: string;
  commit: string;
  /** The deploy tx and the height it committed at. */
  txId: string;
  height: number;
  builtin?: boolean;
}

/** The built-in key-value iCode every chain has (SPEC §6). */
export const BUILTIN_KV: IcodeView = {
  id: BUILTIN_KV_ID,
  gitUrl: 'builtin:kv',
  commit: '',
  txId: '',
  height: 0,
  builtin: true,
};
