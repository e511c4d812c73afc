import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createCertificateAuthority,
  issueNodeCertificate,
  privateKeyPem,
} from '../../adapters/pki/certificate-authority.ts';
import { credentialFilesOf, loadNodeCredentials } from '../../adapters/pki/node-credentials.ts';
import { writeCertificatePem, writePrivateKeyPem } from '../../adapters/pki/pki-files.ts';
import { generateIdentity, type Identity } from '../../domain/identity.ts';

const dir = mkdtempSync(join(tmpdir(), 'itchain-credentials-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

let node: Identity;
const home = join(dir, 'home');

beforeAll(async () => {
  const ca = await createCertificateAuthority({ organization: 'O', networkId: 'n' });
  node = generateIdentity();
  const { certificatePem } = await issueNodeCertificate(ca, node.publicKey);
  const files = credentialFilesOf(home);
  await mkdir(home);
  await writePrivateKeyPem(files.keyFile, privateKeyPem(node));
  await writeCertificatePem(files.certFile, certificatePem);
  await writeCertificatePem(files.caFile, ca.certificatePem);

  // A second home whose CA file is another network's CA.
  const stranger = join(dir, 'stranger');
  await mkdir(stranger);
  const otherCa = await createCertificateAuthority({ organization: 'X', networkId: 'x' });
  copyFileSync(files.keyFile, join(stranger, 'node.key'));
  copyFileSync(files.certFile, join(stranger, 'node.crt'));
  await writeCertificatePem(join(stranger, 'ca.crt'), otherCa.certificatePem);

  // A third home whose key is not the certificate's key.
  const swapped = join(dir, 'swapped');
  await mkdir(swapped);
  await writePrivateKeyPem(join(swapped, 'node.key'), privateKeyPem(generateIdentity()));
  copyFileSync(files.certFile, join(swapped, 'node.crt'));
  copyFileSync(files.caFile, join(swapped, 'ca.crt'));
});

describe('loadNodeCredentials', () => {
  it("loads a home's key, certificate and CA as PEM Buffers with the node ID", () => {
    const credentials = loadNodeCredentials(home);
    expect(credentials.nodeId).toBe(node.nodeId);
    expect(credentials.privateKey.toString()).toMatch(/^-----BEGIN PRIVATE KEY-----/);
    expect(credentials.certificate.toString()).toMatch(/^-----BEGIN CERTIFICATE-----/);
    expect(credentials.caCertificate.toString()).toMatch(/^-----BEGIN CERTIFICATE-----/);
    expect(loadNodeCredentials(credentialFilesOf(home)).nodeId).toBe(node.nodeId);
  });

  it('refuses a certificate the CA file did not issue, naming both files', () => {
    const stranger = join(dir, 'stranger');
    expect(() => loadNodeCredentials(stranger)).toThrow(
      `${join(stranger, 'node.crt')} (checked against ${join(stranger, 'ca.crt')}): peer certificate refused (wrong-ca)`,
    );
  });

  it('refuses a key that is not the key of the certificate', () => {
    const swapped = join(dir, 'swapped');
    expect(() => loadNodeCredentials(swapped)).toThrow(`but ${join(swapped, 'node.key')} is the key of node`);
  });

  it('names a missing file', () => {
    expect(() => loadNodeCredentials(join(dir, 'nowhere'))).toThrow(
      `cannot read the node key ${join(dir, 'nowhere', 'node.key')} (ENOENT)`,
    );
  });
});
