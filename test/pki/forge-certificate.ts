import { createPrivateKey, type KeyObject, webcrypto } from 'node:crypto';
import type { CertificateAuthority } from '../../adapters/pki/certificate-authority.ts';
import { x509 } from '../../adapters/pki/x509.ts';

// Certificates the product never issues (a CN that is not a node ID, a node ID that belongs to another
// key), signed by a real CA, to check that the peer check refuses them.

const ED25519 = { name: 'Ed25519' };

export async function forgeCertificate(
  ca: CertificateAuthority,
  subjectPublicKey: KeyObject,
  names: { cn: string; dns: string[] },
): Promise<string> {
  const der = (key: KeyObject, type: 'spki' | 'pkcs8') => key.export({ format: 'der', type });
  const signingKey = await webcrypto.subtle.importKey(
    'pkcs8',
    der(createPrivateKey(ca.privateKeyPem), 'pkcs8'),
    ED25519,
    false,
    ['sign'],
  );
  const publicKey = await webcrypto.subtle.importKey('spki', der(subjectPublicKey, 'spki'), ED25519, true, [
    'verify',
  ]);
  const certificate = await x509.X509CertificateGenerator.create({
    subject: [{ CN: [names.cn] }],
    issuer: new x509.X509Certificate(ca.certificatePem).subjectName,
    notAfter: new Date(Date.now() + 86_400_000),
    publicKey,
    signingKey,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.ExtendedKeyUsageExtension([
        x509.ExtendedKeyUsage.serverAuth,
        x509.ExtendedKeyUsage.clientAuth,
      ]),
      new x509.SubjectAlternativeNameExtension(names.dns.map((value) => ({ type: 'dns' as const, value }))),
    ],
  });
  return certificate.toString('pem');
}
