import {
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  type KeyObject,
  sign as nodeSign,
  verify as nodeVerify,
} from 'node:crypto';
import { sha256Hex } from './hash.ts';

// A node's identity is an Ed25519 key pair. Its node ID is the first 40 hex characters (160 bits)
// of SHA-256 over the raw 32-byte public key: short enough for a DNS label in the certificate SAN,
// long enough that nobody finds a second key with the same ID.

export type NodeId = string;

export interface Identity {
  readonly nodeId: NodeId;
  readonly privateKey: KeyObject;
  readonly publicKey: KeyObject;
}

export function rawPublicKey(publicKey: KeyObject): Buffer {
  const jwk = publicKey.export({ format: 'jwk' });
  if (jwk.kty !== 'OKP' || jwk.crv !== 'Ed25519' || typeof jwk.x !== 'string') {
    throw new Error('only Ed25519 public keys are supported');
  }
  return Buffer.from(jwk.x, 'base64url');
}

export function nodeIdOf(publicKey: KeyObject): NodeId {
  return sha256Hex(rawPublicKey(publicKey)).slice(0, 40);
}

export function generateIdentity(): Identity {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  return { nodeId: nodeIdOf(publicKey), privateKey, publicKey };
}

export function identityFromPrivatePem(pem: string): Identity {
  const privateKey = createPrivateKey(pem);
  const publicKey = createPublicKey(privateKey);
  return { nodeId: nodeIdOf(publicKey), privateKey, publicKey };
}

// PKCS#8 (RFC 8410) for an Ed25519 private key is a fixed 16-byte DER prefix followed by the 32-byte seed.
const ED25519_PKCS8_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex');

/** The PKCS#8 DER of the Ed25519 private key with this 32-byte seed (RFC 8032 calls it the secret key). */
export function pkcs8FromSeed(seed: Uint8Array): Buffer {
  if (seed.length !== 32) throw new Error(`an Ed25519 seed is 32 bytes, got ${seed.length}`);
  return Buffer.concat([ED25519_PKCS8_PREFIX, seed]);
}

/** A deterministic identity, for test vectors and tests: the same seed always gives the same keys. */
export function identityFromSeed(seed: Uint8Array): Identity {
  const privateKey = createPrivateKey({ key: pkcs8FromSeed(seed), format: 'der', type: 'pkcs8' });
  const publicKey = createPublicKey(privateKey);
  return { nodeId: nodeIdOf(publicKey), privateKey, publicKey };
}

export function publicKeyFromPem(pem: string): KeyObject {
  return createPublicKey(pem);
}

export function signBytes(identity: Identity, bytes: Uint8Array): string {
  return nodeSign(null, bytes, identity.privateKey).toString('base64');
}

export function verifyBytes(publicKey: KeyObject, bytes: Uint8Array, signatureB64: string): boolean {
  try {
    return nodeVerify(null, bytes, publicKey, Buffer.from(signatureB64, 'base64'));
  } catch {
    return false;
  }
}

/** Checks signatures by signer ID: Ed25519 in the node, a cheap stand-in in the simulator. */
export interface SignatureVerifier {
  has(nodeId: NodeId): boolean;
  verify(nodeId: NodeId, bytes: Uint8Array, signatureB64: string): boolean;
}

/** Signs for one node ID. */
export interface Signer {
  readonly nodeId: NodeId;
  sign(bytes: Uint8Array): string;
}

export function signerOf(identity: Identity): Signer {
  return { nodeId: identity.nodeId, sign: (bytes) => signBytes(identity, bytes) };
}

/**
 * Public keys by node ID, imported once: re-importing a key on every verification halves throughput,
 * and verification is the node's ceiling.
 */
export class KeyRing implements SignatureVerifier {
  private readonly keys = new Map<NodeId, KeyObject>();

  add(publicKey: KeyObject | string): NodeId {
    const key = typeof publicKey === 'string' ? createPublicKey(publicKey) : publicKey;
    const id = nodeIdOf(key);
    this.keys.set(id, key);
    return id;
  }

  get(nodeId: NodeId): KeyObject | undefined {
    return this.keys.get(nodeId);
  }

  has(nodeId: NodeId): boolean {
    return this.keys.has(nodeId);
  }

  verify(nodeId: NodeId, bytes: Uint8Array, signatureB64: string): boolean {
    const key = this.keys.get(nodeId);
    return key !== undefined && verifyBytes(key, bytes, signatureB64);
  }
}
