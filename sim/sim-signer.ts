import { createHmac, createSecretKey, type KeyObject } from 'node:crypto';
import type { NodeId, SignatureVerifier, Signer } from '../domain/identity.ts';

// Signatures for the simulator: HMAC-SHA256 under a per-node secret that the verifier also holds.
// Ed25519 verifies about 11k signatures a second here, which would make thousands of simulated runs
// crawl; an HMAC is ~10x cheaper and keeps the property that matters: a signature only verifies
// for the node whose secret made it, so a vote forged under another node's ID is refused by the
// same code path (`SignatureVerifier.verify`) as in the node. A Byzantine node in the simulator is
// only ever handed its own Signer.

export class SimKeys implements SignatureVerifier {
  private readonly secrets = new Map<NodeId, KeyObject>();

  /** Secrets derive from the node ID and a network label, so a run needs no key files. */
  constructor(nodeIds: readonly NodeId[], label = 'itchain-sim') {
    for (const id of nodeIds) {
      const secret = createHmac('sha256', label).update(id).digest();
      this.secrets.set(id, createSecretKey(secret));
    }
  }

  signerFor(nodeId: NodeId): Signer {
    const key = this.secrets.get(nodeId);
    if (key === undefined) throw new Error(`no simulated key for node ${nodeId}`);
    return { nodeId, sign: (bytes) => createHmac('sha256', key).update(bytes).digest('base64') };
  }

  has(nodeId: NodeId): boolean {
    return this.secrets.has(nodeId);
  }

  verify(nodeId: NodeId, bytes: Uint8Array, signatureB64: string): boolean {
    const key = this.secrets.get(nodeId);
    if (key === undefined) return false;
    return createHmac('sha256', key).update(bytes).digest('base64') === signatureB64;
  }
}
