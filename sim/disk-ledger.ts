import type { Ledger } from '../actors/replica/ledger.ts';
import { type Block, buildBlock, ZERO_SEAL } from '../domain/block.ts';
import type { CommitCertificate } from '../domain/commit-certificate.ts';
import { hashOf } from '../domain/hash.ts';
import type { NodeId } from '../domain/identity.ts';
import type { CertifiedBlock } from '../machines/block-pool.ts';

// The simulator's ledger: an in-memory chain backed by the simulated disk, so a crash keeps exactly
// the blocks that were written before it. Layout:
//
//   ledger/block/<h>   {block, cert}   written first
//   ledger/head        h               written second: a crash between the two leaves the block
//                                      unreferenced, and the restarted node is at h - 1
//
// World state is not simulated; the state root after block h chains the previous root with the ids
// of h's txs, so every node computes the same roots and a proposer cannot make one up.

export const LEDGER_HEAD = 'ledger/head';
export const ledgerBlockKey = (height: number): string => `ledger/block/${height}`;

/** The simulated network's genesis block: the same on every node of a run. */
export function simGenesis(networkId: string, validators: readonly NodeId[], epochMs: number): Block {
  return buildBlock({
    height: 0,
    prevSeal: ZERO_SEAL,
    stateRoot: hashOf({ domain: 'itchain/sim/genesis', networkId, validators: [...validators] }),
    timestamp: epochMs,
    creator: validators[0] ?? ZERO_SEAL.slice(0, 40),
    txs: [],
  });
}

function stateRootAfter(previous: string, block: Block): string {
  return hashOf({ domain: 'itchain/sim/state', previous, txs: block.txs.map((tx) => tx.id) });
}

export class DiskLedger implements Ledger {
  private readonly chain: CertifiedBlock[] = [];
  private readonly txIds = new Set<string>();
  /** roots[h]: the state root after block h (roots[0] is genesis's). */
  private readonly roots: string[];

  /** Restores the chain `records` holds (the disk after a crash); `persist` writes to that disk. */
  constructor(
    private readonly genesis: Block,
    records: ReadonlyMap<string, unknown>,
    private readonly persist: (key: string, value: unknown) => void,
  ) {
    this.roots = [genesis.stateRoot];
    const head = records.get(LEDGER_HEAD) ?? 0;
    if (typeof head !== 'number' || !Number.isSafeInteger(head) || head < 0) {
      throw new Error(`${LEDGER_HEAD} is corrupt`);
    }
    for (let h = 1; h <= head; h++) {
      const entry = records.get(ledgerBlockKey(h)) as CertifiedBlock | undefined;
      if (entry === undefined || entry.block.height !== h || entry.block.prevSeal !== this.last().seal) {
        throw new Error(`${ledgerBlockKey(h)} is missing or does not link to block ${h - 1}`);
      }
      this.remember(entry);
    }
  }

  height(): number {
    return this.chain.length;
  }

  last(): Block {
    return this.chain.at(-1)?.block ?? this.genesis;
  }

  append(block: Block, cert: CommitCertificate): void {
    if (block.height !== this.height() + 1) {
      throw new Error(`append: block ${block.height} does not follow ${this.height()}`);
    }
    this.persist(ledgerBlockKey(block.height), { block, cert });
    this.persist(LEDGER_HEAD, block.height);
    this.remember({ block, cert });
  }

  range(from: number, to: number): CertifiedBlock[] {
    const first = Math.max(1, from);
    const last = Math.min(to, this.height());
    return first > last ? [] : this.chain.slice(first - 1, last);
  }

  hasTx(id: string): boolean {
    return this.txIds.has(id);
  }

  nextStateRoot(): string {
    return this.roots[this.height()]!;
  }

  private remember(entry: CertifiedBlock): void {
    this.chain.push(entry);
    for (const tx of entry.block.txs) this.txIds.add(tx.id);
    this.roots.push(stateRootAfter(this.roots.at(-1)!, entry.block));
  }
}
