import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { CA_FILES } from '../../config/home-layout.ts';
import { type CertificateAuthority, checkCertificateAuthority } from './certificate-authority.ts';

// Keys and certificates on disk. A private key is readable by its owner only (0600); the chmod after
// the write covers a file that already existed with looser bits, which `mode` alone leaves as it was.

export async function writePrivateKeyPem(path: string, pem: string): Promise<void> {
  await writeFile(path, pem, { mode: 0o600 });
  await chmod(path, 0o600);
}

export async function writeCertificatePem(path: string, pem: string): Promise<void> {
  await writeFile(path, pem, { mode: 0o644 });
}

/** Writes a CA directory: ca.key (0600) and ca.crt, in a directory only its owner can enter. */
export async function writeCaDirectory(dir: string, ca: CertificateAuthority): Promise<void> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  await writePrivateKeyPem(join(dir, CA_FILES.privateKey), ca.privateKeyPem);
  await writeCertificatePem(join(dir, CA_FILES.certificate), ca.certificatePem);
}

/** Reads a CA directory and checks that its key and certificate belong together. */
export async function readCaDirectory(dir: string): Promise<CertificateAuthority> {
  const read = async (name: string) => {
    try {
      return await readFile(join(dir, name), 'utf8');
    } catch (error) {
      const reason = error instanceof Error && 'code' in error ? String(error.code) : String(error);
      throw new Error(`cannot read ${join(dir, name)} (${reason})`);
    }
  };
  const ca = {
    privateKeyPem: await read(CA_FILES.privateKey),
    certificatePem: await read(CA_FILES.certificate),
  };
  try {
    checkCertificateAuthority(ca);
  } catch (error) {
    throw new Error(`${dir}: ${(error as Error).message}`);
  }
  return ca;
}
