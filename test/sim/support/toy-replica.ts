import { sha256Hex } from '../../../domain/hash.ts';
import type { NodeId } from '../../../domain/identity.ts';
import type { Transaction } from '../../../domain/transaction.ts';
import type { ByzantineRewriter } from '../../../sim/byzantine.ts';
import type { Replica, ReplicaContext, ReplicaStatus, Wiring } from '../../../sim/replica.ts';
import { short } from '../../../sim/trace.ts';

// A toy protocol to exercise the simulator before the real machines are wired in: node 0 leads
// forever and everyone commits what it proposes. It survives crashes, loss, duplication and
// partitions (followers re-forward txs and fetch missing blocks), and it is deliberately unsafe
// under an equivocating leader: nothing but the leader's word decides a block. That makes it the
// perfect target to show that the checker bites.

export interface ToyBlock {
  height: number;
  prevHash: string;
  txIds: readonly string[];
  hash: string;
}

export type ToyMessage =
  | { type: 'forward'; tx: Transaction }
  | { type: 'propose'; block: ToyBlock }
  | { type: 'fetch'; fromHeight: number }
  | { type: 'blocks'; blocks: readonly ToyBlock[] };

/** Deliberate bugs, each one breaking one invariant, to show the checker catches it. */
export interface ToyBugs {
  /** Keeps blocks in memory only: a restarted node starts over from genesis (durability). */
  forgetOnRestart?: boolean;
  /** Reports a commit before persisting it: a torn crash loses a reported block (durability). */
  commitBeforePersist?: boolean;
  /** The leader never drops committed txs from its pool and proposes them again (validity). */
  reproposeCommitted?: boolean;
  /** Every node reports itself leader of term 1 (election safety). */
  everyoneLeads?: boolean;
}

export interface ToyOptions {
  batchIntervalMs?: number;
  syncIntervalMs?: number;
  maxBatchTxs?: number;
  bugs?: ToyBugs;
}

const GENESIS_HASH = '0'.repeat(64);

export function toyBlockHash(height: number, prevHash: string, txIds: readonly string[]): string {
  return sha256Hex(`${height}|${prevHash}|${txIds.join(',')}`);
}

class ToyReplica implements Replica<ToyMessage> {
  private readonly chain: ToyBlock[] = [];
  private readonly committedTxs = new Set<string>();
  /** Txs waiting to commit: the leader proposes them, a follower re-forwards them. */
  private readonly pool = new Map<string, Transaction>();
  private readonly leader: NodeId;

  constructor(
    private readonly ctx: ReplicaContext<ToyMessage>,
    private readonly options: Required<Omit<ToyOptions, 'bugs'>> & { bugs: ToyBugs },
  ) {
    this.leader = ctx.validators[0]!;
    const records = ctx.disk.records;
    const height = options.bugs.forgetOnRestart ? 0 : ((records.get('height') as number | undefined) ?? 0);
    for (let h = 1; h <= height; h++) {
      const block = records.get(`block/${h}`) as ToyBlock | undefined;
      if (block === undefined) break;
      this.append(block);
    }
    if (this.isLeader() || options.bugs.everyoneLeads) ctx.host.leaderElected(1, ctx.nodeId);
    else ctx.host.leaderElected(1, this.leader);
    ctx.host.log(`starts as ${this.isLeader() ? 'leader' : 'follower'} at height ${this.chain.length}`);
    ctx.host.armTimer(this.isLeader() ? 'batch' : 'sync', this.tickMs());
  }

  private isLeader(): boolean {
    return this.ctx.nodeId === this.leader;
  }

  private tickMs(): number {
    return this.isLeader() ? this.options.batchIntervalMs : this.options.syncIntervalMs;
  }

  private head(): string {
    return this.chain.at(-1)?.hash ?? GENESIS_HASH;
  }

  private append(block: ToyBlock): void {
    this.chain.push(block);
    for (const id of block.txIds) {
      this.committedTxs.add(id);
      if (!this.options.bugs.reproposeCommitted) this.pool.delete(id);
    }
  }

  /** Persist, then report: the order a real node must keep. */
  private commit(block: ToyBlock): void {
    const { host } = this.ctx;
    const persist = () => {
      if (this.options.bugs.forgetOnRestart) return;
      host.persist(`block/${block.height}`, block);
      host.persist('height', block.height);
    };
    if (!this.options.bugs.commitBeforePersist) persist();
    host.commit({ height: block.height, blockHash: block.hash, txIds: block.txIds, certificate: null });
    if (this.options.bugs.commitBeforePersist) persist();
    this.append(block);
  }

  deliver(from: NodeId, message: ToyMessage): void {
    switch (message.type) {
      case 'forward':
        this.accept(message.tx);
        return;
      case 'propose':
        if (from !== this.leader) return;
        this.follow([message.block]);
        return;
      case 'fetch': {
        const blocks = this.chain.slice(message.fromHeight - 1, message.fromHeight - 1 + 10);
        if (blocks.length > 0) this.ctx.host.send(from, { type: 'blocks', blocks });
        return;
      }
      case 'blocks':
        if (from !== this.leader) return;
        this.follow(message.blocks);
        return;
    }
  }

  /** Commits each block that extends the chain; asks the leader for what is missing. */
  private follow(blocks: readonly ToyBlock[]): void {
    for (const block of blocks) {
      if (block.height <= this.chain.length) continue;
      if (block.height > this.chain.length + 1) {
        this.ctx.host.send(this.leader, { type: 'fetch', fromHeight: this.chain.length + 1 });
        return;
      }
      if (block.prevHash !== this.head()) return;
      this.commit(block);
    }
  }

  private accept(tx: Transaction): void {
    if (this.committedTxs.has(tx.id) && !this.options.bugs.reproposeCommitted) return;
    this.pool.set(tx.id, tx);
  }

  fireTimer(timerId: string): void {
    const { host } = this.ctx;
    if (timerId === 'batch') this.propose();
    if (timerId === 'sync') {
      host.send(this.leader, { type: 'fetch', fromHeight: this.chain.length + 1 });
      for (const tx of this.pool.values()) host.send(this.leader, { type: 'forward', tx });
    }
    host.armTimer(timerId, this.tickMs());
  }

  private propose(): void {
    if (this.pool.size === 0) return;
    const txIds = [...this.pool.keys()].slice(0, this.options.maxBatchTxs);
    const height = this.chain.length + 1;
    const prevHash = this.head();
    const block: ToyBlock = { height, prevHash, txIds, hash: toyBlockHash(height, prevHash, txIds) };
    this.ctx.host.log(`proposes h${height} ${short(block.hash)}`);
    this.commit(block);
    this.ctx.host.broadcast({ type: 'propose', block });
  }

  submitTx(tx: Transaction): void {
    this.accept(tx);
    if (!this.isLeader()) this.ctx.host.send(this.leader, { type: 'forward', tx });
  }

  status(): ReplicaStatus {
    return { height: this.chain.length, role: this.isLeader() ? 'leader' : 'follower', term: 1 };
  }
}

export function describeToyMessage(message: ToyMessage): string {
  switch (message.type) {
    case 'forward':
      return `forward tx ${short(message.tx.id)}`;
    case 'propose':
      return `propose h${message.block.height} ${short(message.block.hash)} [${message.block.txIds.length} txs]`;
    case 'fetch':
      return `fetch from h${message.fromHeight}`;
    case 'blocks': {
      const first = message.blocks[0]?.height;
      const last = message.blocks.at(-1)?.height;
      return `blocks h${first}..h${last}`;
    }
  }
}

/** The toy's Byzantine rewriting: an equivocating leader swaps the last tx for one it invents. */
export const toyRewriter: ByzantineRewriter<ToyMessage> = {
  equivocate(message, ctx) {
    if (message.type !== 'propose') return null;
    const { height, prevHash, txIds } = message.block;
    const other = [...txIds.slice(0, -1), ctx.inventTx().id];
    const twin: ToyBlock = { height, prevHash, txIds: other, hash: toyBlockHash(height, prevHash, other) };
    return [message, { type: 'propose', block: twin }];
  },
};

export function toyWiring(options: ToyOptions = {}): Wiring<ToyMessage> {
  const resolved = {
    batchIntervalMs: options.batchIntervalMs ?? 50,
    syncIntervalMs: options.syncIntervalMs ?? 100,
    maxBatchTxs: options.maxBatchTxs ?? 10,
    bugs: options.bugs ?? {},
  };
  const bugs = Object.entries(resolved.bugs)
    .filter(([, on]) => on)
    .map(([bug]) => bug);
  return {
    name: bugs.length > 0 ? `toy(${bugs.join(',')})` : 'toy',
    create: (ctx) => new ToyReplica(ctx, resolved),
    describe: describeToyMessage,
    certifiesCommits: false,
    byzantine: toyRewriter,
  };
}

/** For `npm run sim -- --wiring test/sim/support/toy-replica.ts`. */
export const wiring = toyWiring();
