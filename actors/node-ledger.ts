import type { StateWrite } from '../adapters/store/block-batch.ts';
import type { ChainStore } from '../adapters/store/chain-store.ts';
import type { Block } from '../domain/block.ts';
import type { Canonical } from '../domain/canonical.ts';
import type { CommitCertificate } from '../domain/commit-certificate.ts';
import type { Receipt } from '../domain/icode.ts';
import type { CertifiedBlock } from '../machines/block-pool.ts';
import type { Executor } from './executor.ts';
import type { Ledger } from './replica/ledger.ts';
import type { WriteQueue } from './write-queue.ts';

// The replica's Ledger (actors/replica/ledger.ts) over the LevelDB chain store. The replica needs it
// synchronous; the store is asynchronous. So the committed head lives in memory — height, last block,
// the state root, the txs of blocks not yet on disk, the last blocks for peers that sync — and
// append() runs the block's txs through the Executor at once (so nextStateRoot() is ready in the same
// step), then queues the block, its receipts and its state writes as ONE atomic store batch on the
// node's write queue. Messages the replica sends after an append wait behind that write (write-queue.ts).
//
// range() for peers that sync: the last RECENT_BLOCKS blocks are always in memory; older ranges are
// read from the store into a bounded cache by loadRange(), which the consensus component awaits
// before it hands the replica a BlocksRequest for blocks it does not hold (so range() stays
// synchronous and answers from memory).
//
// The root after the last block is stored with the block (a reserved state key, written in the same
// batch) so a restarted node knows what the next block must carry without re-running anything.

/** The reserved state key of the state root after the last block (not an iCode: ids are hashes or 'kv'). */
export const STATE_ROOT_RECORD = { icodeId: 'itchain.node', key: 'stateRoot' } as const;

const RECENT_BLOCKS = 256;
/** Read at open: enough for peers a little behind; older ones are read when asked for. */
const BLOCKS_AT_OPEN = 64;
const CACHED_BLOCKS = 2_048;

export interface CommittedEntry extends CertifiedBlock {
  /** Receipts by tx id, as stored with the block. */
  receipts: Record<string, Receipt>;
}

export class NodeLedger implements Ledger {
  private lastBlock: Block;
  private root: string;
  /** The last blocks appended or loaded at open, oldest first, with their receipts when known. */
  private readonly recent: CommittedEntry[] = [];
  /** Older blocks read from the store for peers that sync, by height (insertion order = age). */
  private readonly cache = new Map<number, CertifiedBlock>();
  /** Txs of blocks appended but not yet on disk (the store knows the rest). */
  private readonly unstoredTxs = new Set<string>();

  private constructor(
    private readonly store: ChainStore,
    private readonly executor: Executor,
    private readonly writes: WriteQueue,
    last: Block,
    root: string,
  ) {
    this.lastBlock = last;
    this.root = root;
  }

  /** The ledger over an opened store whose genesis is in place. */
  static async open(store: ChainStore, executor: Executor, writes: WriteQueue): Promise<NodeLedger> {
    const last = store.lastBlock();
    if (last === undefined) throw new Error('the chain store has no genesis block');
    let root = last.stateRoot;
    if (last.height > 0) {
      const stored = await store.getState(STATE_ROOT_RECORD.icodeId, STATE_ROOT_RECORD.key);
      if (typeof stored !== 'string' || !/^[0-9a-f]{64}$/.test(stored)) {
        throw new Error(
          `the store has no state root for block ${last.height} (state ${STATE_ROOT_RECORD.icodeId})`,
        );
      }
      root = stored;
    }
    const ledger = new NodeLedger(store, executor, writes, last, root);
    const from = Math.max(1, last.height - BLOCKS_AT_OPEN + 1);
    for (const entry of await ledger.read(from, last.height)) ledger.recent.push({ ...entry, receipts: {} });
    return ledger;
  }

  height(): number {
    return this.lastBlock.height;
  }

  last(): Block {
    return this.lastBlock;
  }

  append(block: Block, cert: CommitCertificate): void {
    if (block.height !== this.lastBlock.height + 1) {
      throw new Error(`append: block ${block.height} does not follow ${this.lastBlock.height}`);
    }
    const outcome = this.executor.executeBlock(block);
    const receipts: Record<string, Receipt> = {};
    for (const receipt of outcome.receipts) receipts[receipt.txId] = receipt;
    const stateWrites: StateWrite[] = outcome.writes.map(({ icodeId, key, value }) => ({
      icodeId,
      key,
      value: value === null ? null : (JSON.parse(value) as Canonical),
    }));
    stateWrites.push({ ...STATE_ROOT_RECORD, value: outcome.stateRoot });

    this.lastBlock = block;
    this.root = outcome.stateRoot;
    this.recent.push({ block, cert, receipts });
    if (this.recent.length > RECENT_BLOCKS) this.recent.shift();
    for (const tx of block.txs) this.unstoredTxs.add(tx.id);

    const storeReceipts: Record<string, Canonical> = {};
    for (const receipt of outcome.receipts) storeReceipts[receipt.txId] = receiptRecord(receipt);
    this.writes.write(async () => {
      await this.store.append(block, cert, { receipts: storeReceipts, stateWrites });
      for (const tx of block.txs) this.unstoredTxs.delete(tx.id);
    });
  }

  range(from: number, to: number): CertifiedBlock[] {
    const out: CertifiedBlock[] = [];
    const last = Math.min(to, this.lastBlock.height);
    for (let h = Math.max(1, from); h <= last; h++) {
      const entry = this.entryAt(h);
      if (entry === undefined) break;
      out.push(entry);
    }
    return out;
  }

  hasTx(id: string): boolean {
    return this.unstoredTxs.has(id) || this.store.isCommittedTx(id);
  }

  nextStateRoot(): string {
    return this.root;
  }

  /** True when range(from, to) answers every stored height in it from memory. */
  holds(from: number, to: number): boolean {
    const last = Math.min(to, this.lastBlock.height);
    for (let h = Math.max(1, from); h <= last; h++) if (this.entryAt(h) === undefined) return false;
    return true;
  }

  /** Reads blocks from..to (clipped to what is on disk) into the cache, so range() can serve them. */
  async loadRange(from: number, to: number): Promise<void> {
    const first = Math.max(1, from);
    for (const entry of await this.read(first, Math.min(to, this.store.height))) {
      this.cache.delete(entry.block.height);
      this.cache.set(entry.block.height, entry);
    }
    while (this.cache.size > CACHED_BLOCKS) {
      const oldest = this.cache.keys().next().value;
      if (oldest === undefined) break;
      this.cache.delete(oldest);
    }
  }

  /** A block appended in this run (or loaded at open), with its receipts; undefined when not in memory. */
  recentEntry(height: number): CommittedEntry | undefined {
    const first = this.recent[0]?.block.height;
    const entry = first === undefined ? undefined : this.recent[height - first];
    return entry?.block.height === height ? entry : undefined;
  }

  private entryAt(height: number): CertifiedBlock | undefined {
    const recent = this.recentEntry(height);
    return recent === undefined ? this.cache.get(height) : { block: recent.block, cert: recent.cert };
  }

  private async read(from: number, to: number): Promise<CertifiedBlock[]> {
    const out: CertifiedBlock[] = [];
    if (from > to) return out;
    for await (const block of this.store.blocks(from, to)) {
      const cert = await this.store.getCertificate(block.height);
      if (cert === undefined)
        throw new Error(`the store has no commit certificate for block ${block.height}`);
      out.push({ block, cert });
    }
    return out;
  }
}

/** A receipt as the store keeps it: plain JSON, optional fields left out when absent. */
export function receiptRecord(receipt: Receipt): { [key: string]: Canonical } {
  const record: { [key: string]: Canonical } = {
    txId: receipt.txId,
    status: receipt.status,
    gasUsed: receipt.gasUsed,
  };
  if (receipt.result !== undefined) record.result = receipt.result;
  if (receipt.error !== undefined)
    record.error = { code: receipt.error.code, message: receipt.error.message };
  return record;
}
