import { type KeyObject, randomUUID, X509Certificate } from 'node:crypto';
import { peerNodeIdFromCertificate } from '../adapters/pki/peer-certificate.ts';
import type { Block } from '../domain/block.ts';
import type { KeyRing, NodeId, Signer } from '../domain/identity.ts';
import { signTransaction, type Transaction } from '../domain/transaction.ts';

// Membership (SPEC §4, docs/membership.md): who may sign transactions. The genesis validators may from
// the start; any other node whose certificate the network CA issued becomes a MEMBER when a
// `membership` tx admitting it commits, and its signed txs are valid from the next height on. A member
// is not a representative: the validator set stays the genesis one (docs/membership.md says why).
//
// The tx is the admission's whole record: `{kind: 'membership', icodeId: 'membership', function:
// 'admit', args: [nodeId, certificatePem]}`, signed by the member that accepted the request. Every node
// applies it the same way when the block commits: the certificate must chain to the genesis CA and
// name that node ID, judged at the BLOCK's timestamp (not the local clock, so every node, now or when
// it replays the chain later, decides alike); then the certificate's key joins the node's key ring,
// which the replica and the chain store verify tx signatures with. A tx that fails the check commits
// as a no-op, and says why in the log.

export const MEMBERSHIP_ICODE = 'membership';
export const ADMIT_FUNCTION = 'admit';

/** What a membership tx asks for: admit this node, with this certificate (PEM). */
export interface Admission {
  nodeId: NodeId;
  certificate: string;
}

export interface Member extends Admission {
  /** The height of the block whose membership tx admitted it (its txs count from the next one). */
  height: number;
}

export type AdmissionOutcome =
  | { txId: string; status: 'admitted'; member: Member }
  | { txId: string; status: 'already-member'; nodeId: NodeId }
  | { txId: string; status: 'refused'; reason: string };

/** The membership tx admitting `admission.nodeId`, signed by a member (the node that accepted the request). */
export function admissionTx(admission: Admission, signer: Signer, now: number): Transaction {
  return signTransaction(
    {
      kind: 'membership',
      icodeId: MEMBERSHIP_ICODE,
      function: ADMIT_FUNCTION,
      args: [admission.nodeId, admission.certificate],
      timestamp: now,
      signer: signer.nodeId,
      nonce: randomUUID(),
    },
    signer,
  );
}

/** The admission a membership tx carries, or why it carries none. */
export function readAdmission(tx: Transaction): Admission | string {
  if (tx.kind !== 'membership') return `a ${tx.kind} tx is not a membership tx`;
  if (tx.icodeId !== MEMBERSHIP_ICODE || tx.function !== ADMIT_FUNCTION) {
    return `a membership tx is ${MEMBERSHIP_ICODE}.${ADMIT_FUNCTION}, not ${tx.icodeId}.${tx.function}`;
  }
  const [nodeId, certificate] = tx.args;
  if (tx.args.length !== 2 || typeof nodeId !== 'string' || typeof certificate !== 'string') {
    return 'a membership tx carries [nodeId, certificatePem]';
  }
  return { nodeId, certificate };
}

/**
 * Checks that `certificate` is a node certificate of the network CA for `nodeId`, as of `at`; returns
 * the node's public key (what its tx signatures verify with), or throws saying why not.
 */
export function admittedKey(admission: Admission, caCertificate: string, at: Date): KeyObject {
  const nodeId = peerNodeIdFromCertificate(admission.certificate, caCertificate, at);
  if (nodeId !== admission.nodeId) {
    throw new Error(`the certificate is node ${nodeId}'s, not ${admission.nodeId}'s`);
  }
  return new X509Certificate(admission.certificate).publicKey;
}

/** The network's members as this node knows them, and the key ring their signatures are checked with. */
export class Membership {
  private readonly admitted = new Map<NodeId, Member>();
  private readonly validators: ReadonlySet<NodeId>;

  /**
   * `keys` is the ring the node verifies tx signatures with (the replica's and the chain store's,
   * node-boot.ts); null when the node was opened without one, and then it admits nobody (a key the
   * store does not know would make the next block unstorable).
   */
  constructor(
    private readonly keys: KeyRing | null,
    private readonly caCertificate: string,
    validators: readonly NodeId[],
  ) {
    this.validators = new Set(validators);
  }

  /** Whether this node can add admitted keys to the ring its signatures are verified with. */
  get canAdmit(): boolean {
    return this.keys !== null;
  }

  /** A genesis validator or an admitted member: its signed txs are valid. */
  isMember(nodeId: NodeId): boolean {
    return this.validators.has(nodeId) || this.admitted.has(nodeId);
  }

  /** The admitted members (genesis validators not included), in admission order. */
  members(): Member[] {
    return [...this.admitted.values()];
  }

  /** Applies the membership txs of a committed block, in block order; other txs are skipped. */
  applyBlock(block: Block): AdmissionOutcome[] {
    const outcomes: AdmissionOutcome[] = [];
    for (const tx of block.txs) {
      if (tx.kind === 'membership') outcomes.push(this.apply(tx, block));
    }
    return outcomes;
  }

  private apply(tx: Transaction, block: Block): AdmissionOutcome {
    const admission = readAdmission(tx);
    if (typeof admission === 'string') return { txId: tx.id, status: 'refused', reason: admission };
    if (this.isMember(admission.nodeId)) {
      return { txId: tx.id, status: 'already-member', nodeId: admission.nodeId };
    }
    if (this.keys === null) {
      return { txId: tx.id, status: 'refused', reason: 'this node has no key ring to admit members to' };
    }
    let key: KeyObject;
    try {
      key = admittedKey(admission, this.caCertificate, new Date(block.timestamp));
    } catch (error) {
      return {
        txId: tx.id,
        status: 'refused',
        reason: error instanceof Error ? error.message : String(error),
      };
    }
    this.keys.add(key);
    const member: Member = { ...admission, height: block.height };
    this.admitted.set(member.nodeId, member);
    return { txId: tx.id, status: 'admitted', member };
  }
}
