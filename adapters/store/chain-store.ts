import { Level } from 'level';
import type { Block } from '../../domain/block.ts';
import type { Canonical } from '../../domain/canonical.ts';
import { blockCodec, certificateCodec } from '../../domain/codec.ts';
import type { CommitCertificate } from '../../domain/commit-certificate.ts';
import { type GenesisFile, genesisBlock } from '../../domain/genesis.ts';
import type { NodeId, SignatureVerifier } from '../../domain/identity.ts';
import type { Transaction } from '../../domain/transaction.ts';
import { DEFAULT_LIMITS, type ValidationLimits, validateNextBlock } from '../../domain/validation.ts';
import { type AuditReport, auditChain } from './audit.ts';
import { type BlockExtras, blockWrites, type RecordWrite } from './block-batch.ts';
import { StoreCorruptionError, StoreRefusalError } from './errors.ts';
import {
  CONSENSUS_RECORD_KEY,
  heightKey,
  LAST_BLOCK_KEY,
  parseHeightKey,
  SPACES,
  type SpaceName,
  stateKey,
  stateRange,
} from './layout.ts';
import {
  decodeBlockRecord,
  decodeCertificateRecord,
  decodeJsonRecord,
  decodeSeal,
  encodeRecord,
} from './record-codec.ts';

// The node's chain on LevelDB (SPEC §3; the key layout is in layout.ts and docs/storage.md).
// A block is stored only after it validates against the current last block, together with its
// indexes, certificate, receipts, state writes and last_block in one atomic batch; appends run one
// at a time. Reads decode strictly (record-codec.ts): a bad record is a StoreCorruptionError.

/** What the store needs to validate a block before storing it. */
export interface StoreChainContext {
  networkId: string;
  /** Public keys of every signer (tx signers and validators). */
  keys: SignatureVerifier;
  /** The validators whose PreCommits commit the block at `height` (membership can change the set). */
  validatorsAt(height: number): readonly NodeId[];
  limits?: ValidationLimits;
  /** The node's clock, for the timestamp-skew check; omitted, the check is skipped. */
  now?: () => number;
  /** Signatures already verified by this node (tx id → signature), shared with consensus. */
  verifiedTxs?: Map<string, string>;
}

export interface StoreOptions {
  /** fsync each appended block before append resolves (default true). */
  syncAppends?: boolean;
}

/** Where a committed tx lives. */
export interface TxLocation {
  tx: Transaction;
  height: number;
  seal: string;
}

type Bytes = Uint8Array;
type Root = Level<string, Bytes>;
type Space = ReturnType<typeof openSpace>;

const ENCODINGS = { keyEncoding: 'utf8', valueEncoding: 'view' } as const;

function openSpace(db: Root, name: SpaceName) {
  return db.sublevel<string, Bytes>(name, ENCODINGS);
}

export class ChainStore {
  private closed = false;
  private last: Block | undefined;
  /** Every committed tx id, so validation can refuse a replayed tx without a disk read. */
  private readonly txIds = new Set<string>();
  /** Appends, genesis and close run one at a time, in call order. */
  private queue: Promise<unknown> = Promise.resolve();
  private readonly spaces: Record<SpaceName, Space>;

  private constructor(
    private readonly db: Root,
    private readonly ctx: StoreChainContext,
    private readonly options: StoreOptions,
  ) {
    this.spaces = {
      block_hash: openSpace(db, SPACES.blockHash),
      block_number: openSpace(db, SPACES.blockNumber),
      util: openSpace(db, SPACES.util),
      commit: openSpace(db, SPACES.commit),
      receipt: openSpace(db, SPACES.receipt),
      state: openSpace(db, SPACES.state),
      consensus: openSpace(db, SPACES.consensus),
    };
  }

  /** Opens (or creates) the store at `path`; existing data is kept. */
  static async open(path: string, ctx: StoreChainContext, options: StoreOptions = {}): Promise<ChainStore> {
    const db: Root = new Level<string, Bytes>(path, ENCODINGS);
    await db.open();
    const store = new ChainStore(db, ctx, options);
    try {
      await store.loadCaches();
    } catch (err) {
      await db.close();
      throw err;
    }
    return store;
  }

  /** Waits for a running append, then closes; later calls are refused with 'closed'. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.queue.catch(() => undefined);
    await this.db.close();
  }

  get isOpen(): boolean {
    return !this.closed;
  }

  /** The highest stored block; undefined before genesis. */
  lastBlock(): Block | undefined {
    return this.last;
  }

  /** Height of the last block; -1 before genesis. */
  get height(): number {
    return this.last?.height ?? -1;
  }

  /** True when a committed block holds the tx. */
  isCommittedTx(id: string): boolean {
    return this.txIds.has(id);
  }

  /**
   * Stores the genesis block of `file` when the store is empty; when a genesis is stored already it
   * must be the same (equal seals), or this is another network's directory and it is refused.
   */
  initGenesis(file: GenesisFile): Promise<Block> {
    return this.exclusive(async () => {
      const genesis = blockCodec.fromValue(genesisBlock(file));
      if (file.networkId !== this.ctx.networkId) {
        throw new StoreRefusalError(
          'genesis-mismatch',
          `genesis file is for network ${file.networkId}, this node is on ${this.ctx.networkId}`,
        );
      }
      if (this.last) {
        const stored = await this.requireBlockAt(0);
        if (stored.seal !== genesis.seal) {
          throw new StoreRefusalError(
            'genesis-mismatch',
            `the store holds genesis ${stored.seal}, the genesis file gives ${genesis.seal}`,
          );
        }
        return stored;
      }
      await this.write(blockWrites(genesis, null), true);
      this.last = genesis;
      return genesis;
    });
  }

  /**
   * Validates `block` (with its commit certificate) against the last block and stores it, its
   * indexes and extras atomically. Throws ValidationError or StoreRefusalError; then nothing is written.
   */
  append(block: Block, cert: CommitCertificate, extras?: BlockExtras): Promise<void> {
    return this.exclusive(async () => {
      const last = this.last;
      if (!last) throw new StoreRefusalError('no-genesis', 'initGenesis must run before the first append');
      if (!cert) throw new StoreRefusalError('certificate', `block ${block.height} comes without one`);
      // Shape first (ValidationError 'field' naming the field): whatever is stored must pass the
      // strict decoder on the way back, or it would read as corruption. The decoded copy is what is
      // validated, stored and cached, so a caller mutating its block later changes nothing here.
      const limits = this.ctx.limits ?? DEFAULT_LIMITS;
      const checked = blockCodec.fromValue(block, limits.maxBlockBytes);
      const checkedCert = certificateCodec.fromValue(cert);
      validateNextBlock(checked, checkedCert, {
        networkId: this.ctx.networkId,
        last,
        validators: this.ctx.validatorsAt(checked.height),
        keys: this.ctx.keys,
        now: this.ctx.now?.(),
        limits,
        isCommittedTx: (id) => this.txIds.has(id),
        verifiedTxs: this.ctx.verifiedTxs,
      });
      await this.write(blockWrites(checked, checkedCert, extras), this.options.syncAppends ?? true);
      this.last = checked;
      for (const tx of checked.txs) this.txIds.add(tx.id);
    });
  }

  async getBlockBySeal(seal: string): Promise<Block | undefined> {
    this.ensureOpen();
    const bytes = await this.spaces.block_hash.get(seal);
    return bytes === undefined
      ? undefined
      : decodeBlockRecord(bytes, { space: SPACES.blockHash, key: seal }, seal);
  }

  async getSealAt(height: number): Promise<string | undefined> {
    this.ensureOpen();
    const key = heightKey(height);
    const bytes = await this.spaces.block_number.get(key);
    return bytes === undefined ? undefined : decodeSeal(bytes, { space: SPACES.blockNumber, key });
  }

  async getBlockByHeight(height: number): Promise<Block | undefined> {
    const seal = await this.getSealAt(height);
    return seal === undefined ? undefined : this.blockIndexedAt(height, seal);
  }

  /** The tx, and the height and seal of the block holding it. */
  async getTx(id: string): Promise<TxLocation | undefined> {
    this.ensureOpen();
    if (id === LAST_BLOCK_KEY) return undefined;
    const bytes = await this.spaces.util.get(id);
    if (bytes === undefined) return undefined;
    const at = { space: SPACES.util, key: id };
    const seal = decodeSeal(bytes, at);
    const block = await this.getBlockBySeal(seal);
    if (!block)
      throw new StoreCorruptionError(at.space, at.key, `points to block ${seal}, which is not stored`);
    const tx = block.txs.find((t) => t.id === id);
    if (!tx) throw new StoreCorruptionError(at.space, at.key, `block ${block.height} does not hold the tx`);
    return { tx, height: block.height, seal };
  }

  /** Blocks from `from` to `to` (inclusive, default: the last block) in height order. */
  async *blocks(from: number, to: number = this.height): AsyncGenerator<Block> {
    this.ensureOpen();
    const end = Math.min(to, this.height);
    if (from > end) return;
    let expected = from;
    for await (const [key, bytes] of this.spaces.block_number.iterator({
      gte: heightKey(from),
      lte: heightKey(end),
    })) {
      const at = { space: SPACES.blockNumber, key };
      const height = parseHeightKey(key);
      if (height === undefined) throw new StoreCorruptionError(at.space, key, 'not a height key');
      if (height !== expected) {
        throw new StoreCorruptionError(at.space, heightKey(expected), 'height missing below the last block');
      }
      yield await this.blockIndexedAt(height, decodeSeal(bytes, at));
      expected++;
    }
    if (expected <= end) {
      throw new StoreCorruptionError(
        SPACES.blockNumber,
        heightKey(expected),
        'height missing below the last block',
      );
    }
  }

  /** Up to `limit` blocks from `from`, in height order. */
  async getBlocks(from: number, limit: number): Promise<Block[]> {
    const out: Block[] = [];
    if (limit <= 0) return out;
    for await (const block of this.blocks(from, from + limit - 1)) out.push(block);
    return out;
  }

  /** The commit certificate stored with the block at `height`; genesis has none. */
  async getCertificate(height: number): Promise<CommitCertificate | undefined> {
    this.ensureOpen();
    const key = heightKey(height);
    const bytes = await this.spaces.commit.get(key);
    return bytes === undefined
      ? undefined
      : decodeCertificateRecord(bytes, { space: SPACES.commit, key }, height);
  }

  async getReceipt(txId: string): Promise<Canonical | undefined> {
    this.ensureOpen();
    const bytes = await this.spaces.receipt.get(txId);
    return bytes === undefined ? undefined : decodeJsonRecord(bytes, { space: SPACES.receipt, key: txId });
  }

  async getState(icodeId: string, key: string): Promise<Canonical | undefined> {
    this.ensureOpen();
    const full = stateKey(icodeId, key);
    const bytes = await this.spaces.state.get(full);
    return bytes === undefined ? undefined : decodeJsonRecord(bytes, { space: SPACES.state, key: full });
  }

  /** An iCode's state entries in key order: [key, value], keys without the iCode prefix. */
  async *stateEntries(
    icodeId: string,
    range: { gte?: string; lt?: string; limit?: number } = {},
  ): AsyncGenerator<[string, Canonical]> {
    this.ensureOpen();
    const all = stateRange(icodeId);
    const prefix = all.gte;
    const options = {
      gte: range.gte === undefined ? all.gte : stateKey(icodeId, range.gte),
      lt: range.lt === undefined ? all.lt : stateKey(icodeId, range.lt),
      limit: range.limit ?? -1,
    };
    for await (const [full, bytes] of this.spaces.state.iterator(options)) {
      yield [full.slice(prefix.length), decodeJsonRecord(bytes, { space: SPACES.state, key: full })];
    }
  }

  /** The consensus layer's durable record (term, vote, lock, last signed vote). */
  async getConsensusRecord(): Promise<Canonical | undefined> {
    this.ensureOpen();
    const bytes = await this.spaces.consensus.get(CONSENSUS_RECORD_KEY);
    return bytes === undefined
      ? undefined
      : decodeJsonRecord(bytes, { space: SPACES.consensus, key: CONSENSUS_RECORD_KEY });
  }

  /**
   * Replaces the consensus record with a synchronous (fsync'd) write: once this resolves, the record
   * survives a crash or power loss, so the matching message may leave the node.
   */
  async putConsensusRecord(record: Canonical): Promise<void> {
    this.ensureOpen();
    await this.write(
      [{ space: SPACES.consensus, key: CONSENSUS_RECORD_KEY, value: encodeRecord(record) }],
      true,
    );
  }

  /** Checks the whole store (see audit.ts); throws StoreCorruptionError on the first problem. */
  audit(): Promise<AuditReport> {
    this.ensureOpen();
    return auditChain(this, this.ctx);
  }

  /** Raw records of one key space in key order, undecoded (for audits and inspection). */
  async *records(space: SpaceName): AsyncGenerator<[string, Uint8Array]> {
    this.ensureOpen();
    for await (const entry of this.spaces[space].iterator()) yield entry;
  }

  private ensureOpen(): void {
    if (this.closed) throw new StoreRefusalError('closed', 'the chain store is closed');
  }

  private exclusive<T>(task: () => Promise<T>): Promise<T> {
    const run = this.queue.then(() => {
      this.ensureOpen();
      return task();
    });
    this.queue = run.catch(() => undefined);
    return run;
  }

  private async write(writes: RecordWrite[], sync: boolean): Promise<void> {
    const batch = this.db.batch();
    for (const { space, key, value } of writes) {
      const sublevel = this.spaces[space];
      if (value === null) batch.del(key, { sublevel });
      else batch.put(key, value, { sublevel });
    }
    await batch.write({ sync });
  }

  private async blockIndexedAt(height: number, seal: string): Promise<Block> {
    const block = await this.getBlockBySeal(seal);
    const key = heightKey(height);
    if (!block) {
      throw new StoreCorruptionError(SPACES.blockNumber, key, `points to block ${seal}, which is not stored`);
    }
    if (block.height !== height) {
      throw new StoreCorruptionError(SPACES.blockNumber, key, `points to a block of height ${block.height}`);
    }
    return block;
  }

  private async requireBlockAt(height: number): Promise<Block> {
    const block = await this.getBlockByHeight(height);
    if (!block) {
      throw new StoreCorruptionError(SPACES.blockNumber, heightKey(height), 'missing below the last block');
    }
    return block;
  }

  /** Reads last_block and the tx index into memory; a store with blocks but no last_block is corrupt. */
  private async loadCaches(): Promise<void> {
    const at = { space: SPACES.util, key: LAST_BLOCK_KEY };
    const bytes = await this.spaces.util.get(LAST_BLOCK_KEY);
    if (bytes === undefined) {
      for await (const key of this.spaces.block_hash.keys({ limit: 1 })) {
        throw new StoreCorruptionError(at.space, at.key, `missing while block ${key} is stored`);
      }
      return;
    }
    const seal = decodeSeal(bytes, at);
    const last = await this.getBlockBySeal(seal);
    if (!last)
      throw new StoreCorruptionError(at.space, at.key, `points to block ${seal}, which is not stored`);
    this.last = last;
    for await (const key of this.spaces.util.keys()) {
      if (key !== LAST_BLOCK_KEY) this.txIds.add(key);
    }
  }
}
