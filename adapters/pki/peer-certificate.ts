import { X509Certificate } from 'node:crypto';
import { type NodeId, nodeIdOf } from '../../domain/identity.ts';

// Who is on the other end of a TLS connection: the node ID in a peer certificate, accepted only when the
// network CA signed it, it is in its validity period, it is a node certificate (not a CA, usable for
// TLS both ways), its CN and DNS SAN carry the same node ID, and that ID is the one derived from the
// certificate's own public key — so nobody can present a CA-signed certificate under another node's ID.

export type PeerCertificateProblem =
  | 'malformed' // not a parseable X.509 certificate
  | 'wrong-ca' // not issued and signed by the network CA
  | 'not-yet-valid'
  | 'expired'
  | 'not-a-node-certificate' // a CA certificate, or without serverAuth + clientAuth
  | 'no-node-id' // CN is not a node ID, or the DNS SAN does not carry it
  | 'key-mismatch'; // the node ID is not the one derived from the certificate's public key

export class PeerCertificateError extends Error {
  constructor(
    readonly problem: PeerCertificateProblem,
    message: string,
  ) {
    super(`peer certificate refused (${problem}): ${message}`);
    this.name = 'PeerCertificateError';
  }
}

const NODE_ID = /^[0-9a-f]{40}$/;
const SERVER_AUTH = '1.3.6.1.5.5.7.3.1';
const CLIENT_AUTH = '1.3.6.1.5.5.7.3.2';

function parse(certificate: Buffer | string | X509Certificate, what: string): X509Certificate {
  if (certificate instanceof X509Certificate) return certificate;
  try {
    return new X509Certificate(certificate);
  } catch (error) {
    throw new PeerCertificateError('malformed', `cannot parse the ${what}: ${(error as Error).message}`);
  }
}

function commonName(certificate: X509Certificate): string | undefined {
  return /^CN=(.*)$/m.exec(certificate.subject)?.[1];
}

function dnsNames(certificate: X509Certificate): string[] {
  return (certificate.subjectAltName ?? '')
    .split(', ')
    .filter((name) => name.startsWith('DNS:'))
    .map((name) => name.slice(4));
}

/**
 * Verifies a peer's certificate (DER or PEM) against the network CA (PEM or parsed) and returns the
 * peer's node ID; throws a PeerCertificateError naming the reason otherwise.
 */
export function peerNodeIdFromCertificate(
  certificate: Buffer | string | X509Certificate,
  caCertificate: Buffer | string | X509Certificate,
  now: Date = new Date(),
): NodeId {
  const peer = parse(certificate, 'peer certificate');
  const ca = parse(caCertificate, 'CA certificate');
  const name = commonName(peer) ?? peer.subject;

  if (!peer.checkIssued(ca) || !peer.verify(ca.publicKey)) {
    throw new PeerCertificateError(
      'wrong-ca',
      `"${name}" is not signed by the network CA "${commonName(ca)}"`,
    );
  }
  if (now < new Date(peer.validFrom)) {
    throw new PeerCertificateError('not-yet-valid', `"${name}" is not valid before ${peer.validFrom}`);
  }
  if (now > new Date(peer.validTo)) {
    throw new PeerCertificateError('expired', `"${name}" expired on ${peer.validTo}`);
  }
  const usages = peer.keyUsage ?? [];
  if (peer.ca || !usages.includes(SERVER_AUTH) || !usages.includes(CLIENT_AUTH)) {
    throw new PeerCertificateError(
      'not-a-node-certificate',
      `"${name}" is not a node certificate (a CA, or lacking serverAuth and clientAuth)`,
    );
  }
  const nodeId = commonName(peer);
  if (nodeId === undefined || !NODE_ID.test(nodeId)) {
    throw new PeerCertificateError('no-node-id', `the subject "${peer.subject}" has no node ID as its CN`);
  }
  if (!dnsNames(peer).includes(nodeId)) {
    throw new PeerCertificateError('no-node-id', `the DNS SAN does not carry the node ID ${nodeId}`);
  }
  let keyNodeId: string;
  try {
    keyNodeId = nodeIdOf(peer.publicKey);
  } catch (error) {
    throw new PeerCertificateError('key-mismatch', `node ${nodeId}: ${(error as Error).message}`);
  }
  if (keyNodeId !== nodeId) {
    throw new PeerCertificateError(
      'key-mismatch',
      `the certificate names node ${nodeId} but its public key is node ${keyNodeId}`,
    );
  }
  return nodeId;
}
