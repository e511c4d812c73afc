import { type Block, buildBlock, ZERO_SEAL } from './block.ts';
import { hashOf } from './hash.ts';
import type { NodeId } from './identity.ts';

/** The genesis file every node of a network shares [contract]. */
export interface GenesisFile {
  organization: string;
  networkId: string;
  /** Node ID of the node (or operator key) that created the network. */
  creator: NodeId;
  /** Milliseconds since the epoch. */
  timestamp: number;
  /** PEM of the network CA certificate that every peer certificate must chain to. */
  caCertificate: string;
  /** The initial parliament: representatives and their public keys (PEM, SPKI). */
  validators: { nodeId: NodeId; publicKey: string }[];
}

/**
 * The genesis block: height 0, no txs, stateRoot = hash of the genesis file, so the same file gives
 * the same genesis seal on every node and a node with another file is told apart by its seal.
 */
export function genesisBlock(file: GenesisFile): Block {
  return buildBlock({
    height: 0,
    prevSeal: ZERO_SEAL,
    stateRoot: hashOf(file),
    timestamp: file.timestamp,
    creator: file.creator,
    txs: [],
  });
}
