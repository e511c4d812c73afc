import { hashOf } from './hash.ts';
import type { NodeId } from './identity.ts';
import { merkleRoot } from './merkle.ts';
import type { Transaction } from './transaction.ts';

export const ZERO_SEAL = '0'.repeat(64);

/** Everything the seal covers; height and creator included (the original left them out). */
export interface BlockHeader {
  height: number;
  prevSeal: string;
  txRoot: string;
  stateRoot: string;
  timestamp: number;
  creator: NodeId;
}

export interface Block extends BlockHeader {
  seal: string;
  txs: Transaction[];
}

export function headerOf(block: BlockHeader): BlockHeader {
  const { height, prevSeal, txRoot, stateRoot, timestamp, creator } = block;
  return { height, prevSeal, txRoot, stateRoot, timestamp, creator };
}

export function sealOf(header: BlockHeader): string {
  return hashOf(headerOf(header));
}

export function txRootOf(txs: readonly Transaction[]): string {
  return merkleRoot(txs.map((tx) => tx.id));
}

export interface BlockDraft {
  height: number;
  prevSeal: string;
  stateRoot: string;
  timestamp: number;
  creator: NodeId;
  txs: Transaction[];
}

/** Assembles a block and computes its txRoot and seal. */
export function buildBlock(draft: BlockDraft): Block {
  const header: BlockHeader = {
    height: draft.height,
    prevSeal: draft.prevSeal,
    txRoot: txRootOf(draft.txs),
    stateRoot: draft.stateRoot,
    timestamp: draft.timestamp,
    creator: draft.creator,
  };
  return { ...header, seal: sealOf(header), txs: draft.txs };
}
