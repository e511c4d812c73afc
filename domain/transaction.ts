import type { Canonical } from './canonical.ts';
import { canonicalBytes } from './canonical.ts';
import { hashOf } from './hash.ts';
import type { NodeId, Signer } from './identity.ts';

export type TxKind = 'invoke' | 'deploy' | 'undeploy' | 'membership';
export const TX_KINDS: readonly TxKind[] = ['invoke', 'deploy', 'undeploy', 'membership'];

/** What the accepting node signs: everything but the id (derived) and the signature. */
export interface TxBody {
  kind: TxKind;
  icodeId: string;
  function: string;
  args: Canonical[];
  /** Milliseconds since the epoch on the accepting node's clock. */
  timestamp: number;
  /** Node ID of the node that accepted the tx from a client and signed it. */
  signer: NodeId;
  /** Makes two otherwise equal submissions two different transactions. */
  nonce: string;
}

export interface Transaction extends TxBody {
  /** hex SHA-256 of the canonical encoding of the body. */
  id: string;
  /** base64 Ed25519 signature by `signer` over txSigningBytes(id). */
  signature: string;
}

export function txBodyOf(tx: Transaction): TxBody {
  const { kind, icodeId, function: fn, args, timestamp, signer, nonce } = tx;
  return { kind, icodeId, function: fn, args, timestamp, signer, nonce };
}

export function txIdOf(body: TxBody): string {
  return hashOf(txBodyOf(body as Transaction));
}

/** Domain-separated so a tx signature can never be replayed as a vote signature. */
export function txSigningBytes(id: string): Uint8Array {
  return canonicalBytes({ domain: 'itchain/tx/v1', id });
}

export function signTransaction(body: TxBody, signer: Signer): Transaction {
  const id = txIdOf(body);
  return { ...txBodyOf(body as Transaction), id, signature: signer.sign(txSigningBytes(id)) };
}
