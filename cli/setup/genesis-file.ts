import { X509Certificate } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { z } from 'zod';
import type { GenesisFile } from '../../domain/genesis.ts';
import { nodeIdOf, publicKeyFromPem } from '../../domain/identity.ts';

// The genesis file as `itchain testnet` / `itchain init` write it and read it back when a node joins an
// existing network. Reading checks what a joining node relies on: the fields are there, the CA
// certificate parses, and each validator's node ID is the one its public key gives.

const validator = z.strictObject({ nodeId: z.string(), publicKey: z.string() }).superRefine((v, ctx) => {
  try {
    if (nodeIdOf(publicKeyFromPem(v.publicKey)) !== v.nodeId) {
      ctx.addIssue({ code: 'custom', path: ['nodeId'], message: 'is not the node ID of its publicKey' });
    }
  } catch {
    ctx.addIssue({
      code: 'custom',
      path: ['publicKey'],
      message: 'expected an Ed25519 public key (SPKI PEM)',
    });
  }
});

const genesisSchema = z.strictObject({
  organization: z.string().min(1),
  networkId: z.string().min(1),
  creator: z.string().min(1),
  timestamp: z.int().nonnegative(),
  caCertificate: z.string().refine(
    (pem) => {
      try {
        return new X509Certificate(pem).ca;
      } catch {
        return false;
      }
    },
    { message: 'expected the PEM of a CA certificate' },
  ),
  validators: z.array(validator).min(1),
});

/** The file's text, byte for byte, is what every home gets, so all nodes hash the same file. */
export function formatGenesisFile(genesis: GenesisFile): string {
  return `${JSON.stringify(genesis, null, 2)}\n`;
}

export async function readGenesisFile(path: string): Promise<{ genesis: GenesisFile; text: string }> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    const reason = error instanceof Error && 'code' in error ? String(error.code) : String(error);
    throw new Error(`cannot read the genesis file ${path} (${reason})`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new Error(`${path}: not JSON (${(error as Error).message})`);
  }
  const parsed = genesisSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const key = issue.path.map(String).join('.') || '(top level)';
    throw new Error(`${path}: ${key}: ${issue.message}`);
  }
  return { genesis: parsed.data, text };
}
