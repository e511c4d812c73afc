import { createPrivateKey, createPublicKey, type KeyObject, webcrypto, X509Certificate } from 'node:crypto';
import {
  generateIdentity,
  type Identity,
  identityFromPrivatePem,
  type NodeId,
  nodeIdOf,
} from '../../domain/identity.ts';
import { x509 } from './x509.ts';

// The network CA admits nodes: a node is a member of the network's transport when its certificate is
// signed by the CA pinned in genesis. Both the CA and the nodes use Ed25519 keys. A node certificate
// carries the node ID (derived from its public key) as CN and as DNS SAN, so TLS can check the peer's
// name against the node ID a connection was dialled for.

const ED25519 = { name: 'Ed25519' };
const DAY_MS = 86_400_000;

export const CA_VALIDITY_DAYS = 20 * 365;
export const NODE_CERTIFICATE_VALIDITY_DAYS = 10 * 365;

export interface CertificateAuthority {
  /** PKCS#8 PEM of the CA's Ed25519 private key. */
  readonly privateKeyPem: string;
  readonly certificatePem: string;
}

export interface CaOptions {
  readonly organization: string;
  readonly networkId: string;
  readonly now?: Date;
  readonly validityDays?: number;
}

export interface NodeCertificateOptions {
  readonly organization?: string;
  readonly now?: Date;
  readonly validityDays?: number;
}

function signingKeyOf(privateKey: KeyObject): Promise<webcrypto.CryptoKey> {
  return webcrypto.subtle.importKey(
    'pkcs8',
    privateKey.export({ format: 'der', type: 'pkcs8' }),
    ED25519,
    false,
    ['sign'],
  );
}

function verifyingKeyOf(publicKey: KeyObject): Promise<webcrypto.CryptoKey> {
  return webcrypto.subtle.importKey(
    'spki',
    publicKey.export({ format: 'der', type: 'spki' }),
    ED25519,
    true,
    ['verify'],
  );
}

// A random positive 128-bit serial (the top bit cleared so the DER integer stays positive).
function serialNumber(): string {
  const bytes = webcrypto.getRandomValues(new Uint8Array(16));
  bytes[0] = (bytes[0]! & 0x7f) | 0x01;
  return Buffer.from(bytes).toString('hex');
}

function addDays(date: Date, days: number): Date {
  return new Date(date.getTime() + days * DAY_MS);
}

export function privateKeyPem(identity: Identity): string {
  return identity.privateKey.export({ format: 'pem', type: 'pkcs8' }).toString();
}

export function publicKeyPem(identity: Identity): string {
  return identity.publicKey.export({ format: 'pem', type: 'spki' }).toString();
}

/** Creates a new network CA: a fresh Ed25519 key and a self-signed CA certificate. */
export async function createCertificateAuthority(options: CaOptions): Promise<CertificateAuthority> {
  const key = generateIdentity();
  const keys = {
    privateKey: await signingKeyOf(key.privateKey),
    publicKey: await verifyingKeyOf(key.publicKey),
  };
  const notBefore = options.now ?? new Date();
  const certificate = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: serialNumber(),
    name: [{ CN: [`it-chain CA ${options.networkId}`] }, { O: [options.organization] }],
    notBefore,
    notAfter: addDays(notBefore, options.validityDays ?? CA_VALIDITY_DAYS),
    keys,
    extensions: [
      new x509.BasicConstraintsExtension(true, 0, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    ],
  });
  return { privateKeyPem: privateKeyPem(key), certificatePem: certificate.toString('pem') };
}

/**
 * Checks that a CA key and certificate belong together and that the certificate is a CA: a CA directory
 * with a key from one network and a certificate from another would issue certificates nobody accepts.
 */
export function checkCertificateAuthority(ca: CertificateAuthority): void {
  const certificate = new X509Certificate(ca.certificatePem);
  if (!certificate.ca)
    throw new Error('the CA certificate is not a CA certificate (basicConstraints CA is not set)');
  const keyOfCertificate = certificate.publicKey.export({ format: 'der', type: 'spki' });
  const keyOfPrivateKey = createPublicKey(createPrivateKey(ca.privateKeyPem)).export({
    format: 'der',
    type: 'spki',
  });
  if (!keyOfCertificate.equals(keyOfPrivateKey))
    throw new Error('the CA private key does not match the CA certificate');
}

/** Issues a node certificate for a node's public key: CN and DNS SAN = node ID, for TLS server and client. */
export async function issueNodeCertificate(
  ca: CertificateAuthority,
  nodePublicKey: KeyObject,
  options: NodeCertificateOptions = {},
): Promise<{ nodeId: NodeId; certificatePem: string }> {
  const caCertificate = new x509.X509Certificate(ca.certificatePem);
  const caKey = identityFromPrivatePem(ca.privateKeyPem);
  const nodeId = nodeIdOf(nodePublicKey);
  const publicKey = await verifyingKeyOf(nodePublicKey);
  const notBefore = options.now ?? new Date();
  // A node certificate never outlives the CA that vouches for it.
  const notAfter = new Date(
    Math.min(
      addDays(notBefore, options.validityDays ?? NODE_CERTIFICATE_VALIDITY_DAYS).getTime(),
      caCertificate.notAfter.getTime(),
    ),
  );
  const subject: x509.JsonName = [{ CN: [nodeId] }];
  if (options.organization) subject.push({ O: [options.organization] });
  const certificate = await x509.X509CertificateGenerator.create({
    serialNumber: serialNumber(),
    subject,
    issuer: caCertificate.subjectName,
    notBefore,
    notAfter,
    publicKey,
    signingKey: await signingKeyOf(caKey.privateKey),
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
      new x509.ExtendedKeyUsageExtension([
        x509.ExtendedKeyUsage.serverAuth,
        x509.ExtendedKeyUsage.clientAuth,
      ]),
      new x509.SubjectAlternativeNameExtension([{ type: 'dns', value: nodeId }]),
      await x509.AuthorityKeyIdentifierExtension.create(await verifyingKeyOf(caKey.publicKey)),
      await x509.SubjectKeyIdentifierExtension.create(publicKey),
    ],
  });
  return { nodeId, certificatePem: certificate.toString('pem') };
}
