// The replica's view of the committed chain. The node backs it with LevelDB and the IVM (a block,
// its receipts and its state writes in one atomic batch); the simulator with an in-memory chain on
// its simulated disk (sim/disk-ledger.ts). Synchronous on purpose: the replica is stepped one event
// at a time and must see its own appends at once; a host whose store is asynchronous keeps the
// committed head in memory and puts a write barrier before the next message that leaves the node.
// Only the state root may come later: a ledger whose txs run asynchronously (the node's IVM) answers
// nextStateRoot() with null until they have, and the replica waits for whenReady() before it builds
// or checks the next block (replica.ts: A LEDGER THAT RUNS TXS LATER).

import type { Block } from '../../domain/block.ts';
import type { CommitCertificate } from '../../domain/commit-certificate.ts';
import type { CertifiedBlock } from '../../machines/block-pool.ts';

export interface Ledger {
  /** Height of the last committed block; 0 while only genesis is stored. */
  height(): number;
  /** The last committed block (the genesis block at height 0). */
  last(): Block;
  /**
   * Stores the next block (height() + 1) with the certificate that committed it and runs its txs.
   * The replica has validated it (validateNextBlock) before calling. Durable before any message the
   * replica sends afterwards leaves the node.
   */
  append(block: Block, cert: CommitCertificate): void;
  /** Committed blocks from..to (inclusive, clipped to what is stored, genesis never), for peers that sync. */
  range(from: number, to: number): CertifiedBlock[];
  /** True when a committed block carries this tx. */
  hasTx(id: string): boolean;
  /**
   * The stateRoot the next block must carry: the world state after the last committed block; null
   * while that block's txs still run.
   */
  nextStateRoot(): string | null;
  /**
   * Resolves once nextStateRoot() is known. Needed only by a ledger that ever answers null there; the
   * simulator's runs every block's txs inside append() and has none.
   */
  whenReady?(): Promise<void>;
}
