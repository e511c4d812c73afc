import type { NodeId, SignatureVerifier } from '../domain/identity.ts';

// Every signature is checked once per node. The same tx signature is looked at when the tx is
// submitted or forwarded, when a proposal carrying it is validated, and again by the chain store
// before it writes the block; Ed25519 verification (~10k/s per core) is the node's ceiling, so the
// answers are kept. A hit needs the same signer, signature AND bytes: a valid signature reused over
// other bytes is checked for real (and fails).

const DEFAULT_CAPACITY = 100_000;

export class CachingVerifier implements SignatureVerifier {
  private readonly verified = new Map<string, Uint8Array>();
  private hitCount = 0;
  private missCount = 0;

  constructor(
    private readonly inner: SignatureVerifier,
    private readonly capacity = DEFAULT_CAPACITY,
  ) {}

  has(nodeId: NodeId): boolean {
    return this.inner.has(nodeId);
  }

  verify(nodeId: NodeId, bytes: Uint8Array, signatureB64: string): boolean {
    const key = `${nodeId}:${signatureB64}`;
    const known = this.verified.get(key);
    if (known !== undefined && Buffer.compare(known, bytes) === 0) {
      this.hitCount++;
      return true;
    }
    this.missCount++;
    if (!this.inner.verify(nodeId, bytes, signatureB64)) return false;
    // Forgetting the oldest half at once keeps the bookkeeping off the hot path.
    if (this.verified.size >= this.capacity) {
      let drop = this.capacity / 2;
      for (const old of this.verified.keys()) {
        this.verified.delete(old);
        if (--drop <= 0) break;
      }
    }
    this.verified.set(key, Uint8Array.from(bytes));
    return true;
  }

  get stats(): { hits: number; misses: number; size: number } {
    return { hits: this.hitCount, misses: this.missCount, size: this.verified.size };
  }
}
