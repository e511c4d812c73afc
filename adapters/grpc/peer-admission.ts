import { type KeyObject, X509Certificate } from 'node:crypto';
import type { NodeId } from '../../domain/identity.ts';
import {
  PeerCertificateError,
  type PeerCertificateProblem,
  peerNodeIdFromCertificate,
} from '../pki/peer-certificate.ts';
import { PROTOCOL_VERSION, type WireHandshake } from './peer-protocol.ts';

// What a peer must show before a stream carries its messages, checked by both ends: a certificate
// signed by the network CA for the node ID it claims (TLS only proves it holds the certificate's key;
// the CA and node-ID checks are done here, so the refusing side can log exactly why), and a handshake
// for the same network and genesis.

export type RefusalReason =
  | 'no-certificate'
  | 'unverified-certificate' // TLS did not verify it, yet the certificate the handshake shows passes
  | PeerCertificateProblem
  | 'bad-handshake' // the first frame was not a well-formed handshake
  | 'protocol-version'
  | 'node-id-mismatch' // the handshake claims another node than the certificate
  | 'unexpected-node' // dialled as nodeId@host:port, but another node answered
  | 'self-connection'
  | 'network-mismatch'
  | 'genesis-mismatch'
  | 'handshake-timeout';

export interface Refusal {
  readonly reason: RefusalReason;
  readonly message: string;
}

/** Why a dial did not produce a connection. */
export type DialFailureReason = RefusalReason | 'refused-by-peer' | 'unreachable' | 'stopped' | 'bad-address';

export class PeerDialError extends Error {
  constructor(
    readonly reason: DialFailureReason,
    message: string,
  ) {
    super(message);
    this.name = 'PeerDialError';
  }

  /** Redialling cannot help: the peer or this node would refuse again. */
  get permanent(): boolean {
    return this.reason !== 'unreachable' && this.reason !== 'handshake-timeout';
  }
}

export interface CertifiedPeer {
  readonly nodeId: NodeId;
  readonly publicKey: KeyObject;
}

/** The node ID and public key in a peer's TLS certificate (DER), or the refusal when it is not acceptable. */
export function certifiedPeer(
  certificate: Buffer | undefined,
  caCertificate: Buffer | X509Certificate,
): CertifiedPeer | Refusal {
  if (!certificate || certificate.length === 0) {
    return { reason: 'no-certificate', message: 'the peer presented no TLS certificate' };
  }
  try {
    const nodeId = peerNodeIdFromCertificate(certificate, caCertificate);
    return { nodeId, publicKey: new X509Certificate(certificate).publicKey };
  } catch (error) {
    if (error instanceof PeerCertificateError) return { reason: error.problem, message: error.message };
    return { reason: 'malformed', message: (error as Error).message };
  }
}

/**
 * Why a peer whose TLS certificate did not verify against the network CA is refused, told from the
 * certificate its handshake presents: grpc-js hands the server only verified certificates, and a
 * refusal that just said "unverified" would leave the operator guessing. The peer is refused either way.
 */
export function unverifiedPeerRefusal(
  presented: Buffer | undefined,
  caCertificate: Buffer | X509Certificate,
): Refusal {
  if (!presented || presented.length === 0) {
    return {
      reason: 'no-certificate',
      message: 'the peer presented no certificate that verifies against the network CA',
    };
  }
  const checked = certifiedPeer(presented, caCertificate);
  if (isRefusal(checked)) return checked;
  return {
    reason: 'unverified-certificate',
    message: `the peer's TLS certificate did not verify against the network CA (its handshake names node ${checked.nodeId})`,
  };
}

export function isRefusal(value: CertifiedPeer | Refusal | null): value is Refusal {
  return value !== null && 'reason' in value;
}

export interface LocalPeer {
  readonly nodeId: NodeId;
  readonly networkId: string;
  readonly genesisSeal: string;
}

/** Checks the other side's handshake against its certificate and this node; null when it is accepted. */
export function checkHandshake(
  local: LocalPeer,
  handshake: WireHandshake | undefined,
  certificateNodeId: NodeId,
  expectedNodeId?: NodeId,
): Refusal | null {
  if (!handshake || typeof handshake.nodeId !== 'string') {
    return { reason: 'bad-handshake', message: 'the first frame was not a handshake with a node ID' };
  }
  if ((handshake.protocolVersion ?? 0) !== PROTOCOL_VERSION) {
    return {
      reason: 'protocol-version',
      message: `peer speaks protocol version ${handshake.protocolVersion ?? 0}, this node ${PROTOCOL_VERSION}`,
    };
  }
  if (handshake.nodeId !== certificateNodeId) {
    return {
      reason: 'node-id-mismatch',
      message: `the handshake claims node ${handshake.nodeId} but the certificate is node ${certificateNodeId}`,
    };
  }
  if (expectedNodeId !== undefined && certificateNodeId !== expectedNodeId) {
    return {
      reason: 'unexpected-node',
      message: `dialled node ${expectedNodeId} but node ${certificateNodeId} answered`,
    };
  }
  if (certificateNodeId === local.nodeId) {
    return { reason: 'self-connection', message: 'the peer is this node itself' };
  }
  if (handshake.networkId !== local.networkId) {
    return {
      reason: 'network-mismatch',
      message: `peer is on network "${handshake.networkId ?? ''}", this node on "${local.networkId}"`,
    };
  }
  if (handshake.genesisSeal !== local.genesisSeal) {
    return {
      reason: 'genesis-mismatch',
      message: `peer's genesis seal is ${handshake.genesisSeal ?? '(none)'}, this node's ${local.genesisSeal}`,
    };
  }
  return null;
}
