import type { StateWrite } from '../adapters/store/block-batch.ts';
import type { ChainStore } from '../adapters/store/chain-store.ts';
import type { Block } from '../domain/block.ts';
import type { Canonical } from '../domain/canonical.ts';
import type { CommitCertificate } from '../domain/commit-certificate.ts';
import type { Receipt } from '../domain/icode.ts';
import type { CertifiedBlock } from '../machines/block-pool.ts';
import type { BlockOutcome, Executor, IcodeChange } from './executor.ts';
import type { Ledger } from './replica/ledger.ts';
import type { WriteQueue } from './write-queue.ts';

// The replica's Ledger (actors/replica/ledger.ts) over the LevelDB chain store. The replica needs it
// synchronous; the store and the IVM are asynchronous. So the committed head lives in memory —
// height, last block, the state root, the txs of blocks not yet on disk, the last blocks for peers
// that sync — and append() takes the block at once and starts its txs in the Executor. Once they
// have run, the block, its receipts, its state writes and its deployment records are queued as ONE
// atomic store batch on the node's write queue, and messages the replica sends after that wait
// behind it (write-queue.ts).
//
// The state root after a block is known only once its txs have run: until then nextStateRoot() is
// null and whenReady() resolves when it is known. The replica holds back what needs the root (the
// next height, the next synced block, its block.committed report) meanwhile; everything else —
// heartbeats, sync answers, forwarded txs — goes on, and does not wait for the execution: the block
// is queued for the disk before whenReady() resolves, so it is durable before any vote for the next
// height (or any block.committed on the bus) leaves the node. An executor that answers at once
// (KvExecutor) has the block queued, and the root known, in append() itself, as the simulator's
// ledger does.
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
  /** Receipts by tx id, as stored with the block (filled in once the block's txs have run). */
  receipts: Record<string, Receipt>;
}

/** A block on disk with what its txs did: for the IVM's icode.created / icode.deleted. */
export interface StoredBlock {
  block: Block;
  receipts: readonly Receipt[];
  icodes: readonly IcodeChange[];
}

export class NodeLedger implements Ledger {
  private lastBlock: Block;
  /** The state root after lastBlock; null while its txs run. */
  private root: string | null;
  private readonly readyWaiters: (() => void)[] = [];
  /** Executions not finished (or failed) yet, and who waits for there to be none. */
  private running = 0;
  private readonly idleWaiters: (() => void)[] = [];
  private readonly storedListeners: ((stored: StoredBlock) => void)[] = [];
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
    const entry: CommittedEntry = { block, cert, receipts: {} };
    this.lastBlock = block;
    this.recent.push(entry);
    if (this.recent.length > RECENT_BLOCKS) this.recent.shift();
    for (const tx of block.txs) this.unstoredTxs.add(tx.id);

    const executed = this.executor.executeBlock(block);
    if (!(executed instanceof Promise)) {
      this.settle(entry, executed);
      return;
    }
    this.root = null;
    this.running++;
    executed
      .then(
        (outcome) => this.settle(entry, outcome),
        (error: unknown) => {
          // The block cannot be stored without its outcome: a failed write stops the node.
          this.writes.write(() => Promise.reject(error));
        },
      )
      .finally(() => {
        if (--this.running === 0) for (const resolve of this.idleWaiters.splice(0)) resolve();
      });
  }

  /**
   * Resolves once every appended block has run (or failed) and its write is queued: a node that
   * stops waits for this, then for the write queue to drain.
   */
  idle(): Promise<void> {
    if (this.running === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }
  /** Called once each appended block (in order) is on disk with its outcome. */
  onStored(listener: (stored: StoredBlock) => void): void {
    this.storedListeners.push(listener);
  }

  /** Resolves once nextStateRoot() is known (at once when it is). */
  whenReady(): Promise<void> {
    if (this.root !== null) return Promise.resolve();
    return new Promise((resolve) => this.readyWaiters.push(resolve));
  }

  /**
   * The block's txs have run: its write is queued (blocks are executed, hence written, in append
   * order), and the next state root is known if it is the last block.
   */
  private settle(entry: CommittedEntry, outcome: BlockOutcome): void {
    const { block, cert } = entry;
    for (const receipt of outcome.receipts) entry.receipts[receipt.txId] = receipt;
    this.writes.write(async () => {
      await this.store.append(block, cert, storeExtras(outcome));
      for (const tx of block.txs) this.unstoredTxs.delete(tx.id);
    });
    if (this.storedListeners.length > 0) {
      const stored: StoredBlock = { block, receipts: outcome.receipts, icodes: outcome.icodes ?? [] };
      this.writes.afterDurable(() => {
        for (const listener of this.storedListeners) listener(stored);
      });
    }
    if (block !== this.lastBlock) return;
    this.root = outcome.stateRoot;
    for (const resolve of this.readyWaiters.splice(0)) resolve();
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

  nextStateRoot(): string | null {
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

/** What the store writes with a block besides the block itself: receipts, state, records, root. */
function storeExtras(outcome: BlockOutcome): {
  receipts: Record<string, Canonical>;
  stateWrites: StateWrite[];
} {
  const stateWrites: StateWrite[] = outcome.writes.map(({ icodeId, key, value }) => ({
    icodeId,
    key,
    value: value === null ? null : (JSON.parse(value) as Canonical),
  }));
  stateWrites.push(...(outcome.records ?? []));
  stateWrites.push({ ...STATE_ROOT_RECORD, value: outcome.stateRoot });
  const receipts: Record<string, Canonical> = {};
  for (const receipt of outcome.receipts) receipts[receipt.txId] = receiptRecord(receipt);
  return { receipts, stateWrites };
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
