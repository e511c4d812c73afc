import { X509Certificate } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  type CertificateAuthority,
  checkCertificateAuthority,
  createCertificateAuthority,
  issueNodeCertificate,
} from '../../adapters/pki/certificate-authority.ts';
import { PeerCertificateError, peerNodeIdFromCertificate } from '../../adapters/pki/peer-certificate.ts';
import { generateIdentity, type Identity, nodeIdOf } from '../../domain/identity.ts';
import { forgeCertificate } from './forge-certificate.ts';

const DAY_MS = 86_400_000;
let ca: CertificateAuthority;
let otherCa: CertificateAuthority;
let node: Identity;
let nodeCertificatePem: string;

beforeAll(async () => {
  ca = await createCertificateAuthority({ organization: 'Shop Association', networkId: 'net-1' });
  otherCa = await createCertificateAuthority({ organization: 'Someone Else', networkId: 'net-2' });
  node = generateIdentity();
  nodeCertificatePem = (await issueNodeCertificate(ca, node.publicKey, { organization: 'Shop Association' }))
    .certificatePem;
});

function refusal(certificate: string | Buffer, caPem: string, now?: Date): PeerCertificateError {
  try {
    peerNodeIdFromCertificate(certificate, caPem, now);
  } catch (error) {
    expect(error).toBeInstanceOf(PeerCertificateError);
    return error as PeerCertificateError;
  }
  throw new Error('expected the certificate to be refused');
}

describe('network CA', () => {
  it('is a self-signed CA certificate allowed to sign certificates', () => {
    const certificate = new X509Certificate(ca.certificatePem);
    expect(certificate.ca).toBe(true);
    expect(certificate.checkIssued(certificate)).toBe(true);
    expect(certificate.verify(certificate.publicKey)).toBe(true);
    expect(certificate.publicKey.asymmetricKeyType).toBe('ed25519');
    expect(certificate.subject).toContain('O=Shop Association');
    expect(() => checkCertificateAuthority(ca)).not.toThrow();
  });

  it('a CA key paired with another CA certificate is refused', () => {
    expect(() =>
      checkCertificateAuthority({ privateKeyPem: otherCa.privateKeyPem, certificatePem: ca.certificatePem }),
    ).toThrow('the CA private key does not match the CA certificate');
  });
});

describe('node certificate', () => {
  it('verifies against the CA with X509Certificate (verify and checkIssued)', () => {
    const leaf = new X509Certificate(nodeCertificatePem);
    const caCertificate = new X509Certificate(ca.certificatePem);
    expect(leaf.verify(caCertificate.publicKey)).toBe(true);
    expect(leaf.checkIssued(caCertificate)).toBe(true);
    expect(leaf.verify(new X509Certificate(otherCa.certificatePem).publicKey)).toBe(false);
  });

  it('carries the node ID of its key as CN and DNS SAN, for TLS server and client, and is no CA', () => {
    const leaf = new X509Certificate(nodeCertificatePem);
    expect(nodeIdOf(leaf.publicKey)).toBe(node.nodeId);
    expect(leaf.subject).toContain(`CN=${node.nodeId}`);
    expect(leaf.subjectAltName).toBe(`DNS:${node.nodeId}`);
    expect(leaf.keyUsage).toEqual(['1.3.6.1.5.5.7.3.1', '1.3.6.1.5.5.7.3.2']);
    expect(leaf.ca).toBe(false);
    expect(leaf.checkHost(node.nodeId)).toBe(node.nodeId);
  });

  it('never outlives its CA', async () => {
    const shortCa = await createCertificateAuthority({ organization: 'O', networkId: 'n', validityDays: 30 });
    const { certificatePem } = await issueNodeCertificate(shortCa, generateIdentity().publicKey);
    expect(new Date(new X509Certificate(certificatePem).validTo).getTime()).toBeLessThanOrEqual(
      new Date(new X509Certificate(shortCa.certificatePem).validTo).getTime(),
    );
  });
});

describe('peerNodeIdFromCertificate', () => {
  it('returns the node ID of a certificate the CA issued, from PEM or DER', () => {
    expect(peerNodeIdFromCertificate(nodeCertificatePem, ca.certificatePem)).toBe(node.nodeId);
    const der = new X509Certificate(nodeCertificatePem).raw;
    expect(peerNodeIdFromCertificate(der, Buffer.from(ca.certificatePem))).toBe(node.nodeId);
  });

  it('refuses a certificate from another CA', () => {
    const error = refusal(nodeCertificatePem, otherCa.certificatePem);
    expect(error.problem).toBe('wrong-ca');
    expect(error.message).toContain('is not signed by the network CA');
  });

  it('refuses an expired certificate and one not valid yet', async () => {
    const expired = await issueNodeCertificate(ca, node.publicKey, {
      now: new Date(Date.now() - 10 * DAY_MS),
      validityDays: 1,
    });
    expect(refusal(expired.certificatePem, ca.certificatePem).problem).toBe('expired');
    const early = await issueNodeCertificate(ca, node.publicKey, { now: new Date(Date.now() + 2 * DAY_MS) });
    expect(refusal(early.certificatePem, ca.certificatePem).problem).toBe('not-yet-valid');
  });

  it('refuses the CA certificate itself as a peer', () => {
    expect(refusal(ca.certificatePem, ca.certificatePem).problem).toBe('not-a-node-certificate');
  });

  it('refuses a CA-signed certificate whose CN is not a node ID', async () => {
    const pem = await forgeCertificate(ca, node.publicKey, { cn: 'mallory', dns: ['mallory'] });
    expect(refusal(pem, ca.certificatePem).problem).toBe('no-node-id');
  });

  it('refuses a certificate whose DNS SAN does not carry the node ID', async () => {
    const pem = await forgeCertificate(ca, node.publicKey, { cn: node.nodeId, dns: ['elsewhere'] });
    const error = refusal(pem, ca.certificatePem);
    expect(error.problem).toBe('no-node-id');
    expect(error.message).toContain('DNS SAN');
  });

  it("refuses a CA-signed certificate that names another node's ID over its own key", async () => {
    const victim = generateIdentity().nodeId;
    const pem = await forgeCertificate(ca, node.publicKey, { cn: victim, dns: [victim] });
    const error = refusal(pem, ca.certificatePem);
    expect(error.problem).toBe('key-mismatch');
    expect(error.message).toContain(`names node ${victim} but its public key is node ${node.nodeId}`);
  });

  it('refuses bytes that are not a certificate', () => {
    expect(refusal(Buffer.from('not a certificate'), ca.certificatePem).problem).toBe('malformed');
  });
});
