import type { ChainStore } from '../adapters/store/chain-store.ts';
import { SPACES } from '../adapters/store/layout.ts';
import type { Block } from '../domain/block.ts';
import { blockCodec } from '../domain/codec.ts';
import type { GenesisFile } from '../domain/genesis.ts';
import type { KeyRing } from '../domain/identity.ts';
import { type AdmissionOutcome, Membership } from './membership.ts';

// Members survive restarts: at boot, before the replica or the store verifies anything, the key ring
// gets back every member the stored chain admitted, by replaying the chain's membership txs in height
// order exactly as they were applied at commit (membership.ts). The chain is the only record, so
// nothing can disagree with it.
//
// Membership txs are rare, so the scan reads the raw block records and decodes only those whose bytes
// mention "membership" (a cheap substring test); a chain of 10,000 blocks is read in well under a second.

const MARKER = Buffer.from('"membership"', 'utf8');

export interface LoadedMembership {
  membership: Membership;
  /** What each stored membership tx did, in chain order (for the boot log). */
  outcomes: AdmissionOutcome[];
}

/** Replays the stored chain's membership txs into a Membership over `keys` (the node's key ring). */
export async function loadMembership(
  store: ChainStore,
  genesis: GenesisFile,
  keys: KeyRing,
): Promise<LoadedMembership> {
  const membership = new Membership(
    keys,
    genesis.caCertificate,
    genesis.validators.map((v) => v.nodeId),
  );
  const blocks: Block[] = [];
  for await (const [seal, bytes] of store.records(SPACES.blockHash)) {
    if (!Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).includes(MARKER)) continue;
    const block = blockCodec.decode(bytes);
    // Only blocks of the stored chain count (the index says which block holds each height).
    if (block.height <= store.height && (await store.getSealAt(block.height)) === seal) blocks.push(block);
  }
  blocks.sort((a, b) => a.height - b.height);
  const outcomes = blocks.flatMap((block) => membership.applyBlock(block));
  return { membership, outcomes };
}
