import { randomUUID } from 'node:crypto';
import type { Block } from '../../domain/block.ts';
import type { NodeId } from '../../domain/identity.ts';
import type { BusLogger, Subscription } from '../bus/event-bus.ts';
import type { PeerAddress } from '../bus/topics.ts';
import type { CommittedBlock, GatewayBus, StatusReport, TxVerdict } from './api-topics.ts';
import type { ReadModelStore } from './read-model-store.ts';
import type { IcodeView, PeerView, Role, StatusView, TxView } from './views.ts';

// The API's view of the node, built from bus events only (CQRS, as the original): blocks and tx
// statuses from block.committed, pending txs from tx.submitted, rejections from tx.verdict, leader and
// term from leader.*, peers from connection.*, iCodes from icode.*, the rest from status.reported.
//
// Blocks are applied strictly in height order, one at a time. A block that arrives early (the API
// missed some, or restarted) waits while the API asks for a replay of the gap (replay.requested); one
// it has already is ignored, so replays and duplicates are harmless. Committed and rejected txs are on
// disk; pending ones in memory (after a restart they show again once they commit).

export type ReadModelChange =
  | { type: 'block'; block: Block }
  | { type: 'leader'; leader: NodeId | null; term: number }
  | { type: 'tx'; tx: TxView; latencyMs?: number };

export interface ReadModelOptions {
  nodeId: NodeId;
  networkId: string;
  logger: BusLogger;
  /** Ask again for a replay when the last request made no progress for this long (default 2000). */
  replayRetryMs?: number;
  now?: () => number;
}

const MAX_PENDING = 200_000;
const MAX_EARLY_BLOCKS = 10_000;
/** Recently committed or rejected tx ids, so a late tx.submitted cannot make them pending again. */
const MAX_RECENT = 100_000;

export class ReadModel {
  private height = -1;
  private lastSeal: string | null = null;
  private role: Role = 'electing';
  private leader: NodeId | null = null;
  private term = 0;
  private round: StatusView['round'] = null;
  private poolSize: number | null = null;
  private sync: StatusView['sync'] = null;
  private readonly peerMap = new Map<NodeId, PeerView>();
  /** Pending tx id → when this API first saw it (ms), for the commit latency. */
  private readonly pending = new Map<string, number>();
  private readonly recent = new Set<string>();
  private readonly early = new Map<number, CommittedBlock>();
  private replay: { requestId: string; fromHeight: number; at: number } | undefined;
  private queue: Promise<void> = Promise.resolve();
  private readonly listeners = new Set<(change: ReadModelChange) => void>();
  private readonly subscriptions: Subscription[] = [];
  private caughtUpResolve!: () => void;
  /** Resolves when the first replay finished (the read model holds every committed block). */
  readonly caughtUp: Promise<void> = new Promise((resolve) => {
    this.caughtUpResolve = resolve;
  });
  private closed = false;
  private statusHeard = false;
  private retryTimer: NodeJS.Timeout | undefined;
  private readonly now: () => number;

  constructor(
    private readonly store: ReadModelStore,
    private readonly bus: GatewayBus,
    private readonly options: ReadModelOptions,
  ) {
    this.now = options.now ?? Date.now;
  }

  /** Loads the last height from disk, subscribes, then asks for what it missed and for the status. */
  async start(): Promise<void> {
    const last = await this.store.lastBlock();
    if (last) {
      this.height = last.height;
      this.lastSeal = last.seal;
    }
    const on = this.bus.on.bind(this.bus);
    this.subscriptions.push(
      await on('block.committed', (entry) => this.serially(() => this.onCommitted(entry))),
      await on('replay.delivered', (reply) => this.serially(() => this.onReplay(reply))),
      await on('tx.submitted', ({ tx }) => this.notePending(tx.id)),
      await on('tx.verdict', ({ verdicts }) => this.serially(() => this.onVerdicts(verdicts))),
      await on('leader.updated', ({ leader, term }) => this.setLeader(leader, term)),
      await on('leader.deleted', ({ term }) => this.setLeader(null, term)),
      await on('connection.created', (peer) => this.addPeer(peer)),
      await on('connection.closed', ({ peerId }) => {
        this.peerMap.delete(peerId);
      }),
      await on('status.reported', (report) => this.onStatus(report)),
      await on('icode.created', (icode) => this.serially(() => this.store.putIcode({ ...icode }))),
      await on('icode.deleted', ({ id }) => this.serially(() => this.store.deleteIcode(id))),
    );
    await this.requestReplay(true);
    await this.bus.publish('status.requested', { requestId: randomUUID() });
    // The core may start after the API (separate processes): ask again until someone answers.
    const retryMs = this.options.replayRetryMs ?? 2_000;
    this.retryTimer = setInterval(() => {
      if (this.replay) void this.serially(() => this.requestReplay(false));
      if (!this.statusHeard)
        void this.bus.publish('status.requested', { requestId: randomUUID() }).catch(() => {});
    }, retryMs);
    this.retryTimer.unref();
  }

  async close(): Promise<void> {
    this.closed = true;
    clearInterval(this.retryTimer);
    await Promise.all(this.subscriptions.map((s) => s.unsubscribe()));
    await this.queue;
    this.listeners.clear();
  }

  onChange(listener: (change: ReadModelChange) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  // --- reads ---

  status(): StatusView {
    return {
      nodeId: this.options.nodeId,
      networkId: this.options.networkId,
      role: this.role,
      leader: this.leader,
      term: this.term,
      height: Math.max(this.height, 0),
      lastSeal: this.lastSeal,
      peers: this.peers(),
      round: this.round,
      poolSize: this.poolSize,
      sync: this.sync,
    };
  }

  /** Height of the last applied block, -1 before genesis. */
  get lastHeight(): number {
    return this.height;
  }

  peers(): PeerView[] {
    return [...this.peerMap.values()];
  }

  get pendingCount(): number {
    return this.pending.size;
  }

  blockJson(height: number): Promise<string | undefined> {
    return height > this.height ? Promise.resolve(undefined) : this.store.blockJson(height);
  }

  heightOfSeal(seal: string): Promise<number | undefined> {
    return this.store.heightOfSeal(seal);
  }

  blocksJson(from: number, limit: number): Promise<string[]> {
    const count = Math.min(limit, this.height - from + 1);
    return count <= 0 ? Promise.resolve([]) : this.store.blocksJson(from, count);
  }

  /** The tx's status as JSON, or undefined when the API has never seen it. */
  async txJson(id: string): Promise<string | undefined> {
    if (this.pending.has(id)) return JSON.stringify({ id, status: 'pending' } satisfies TxView);
    return this.store.txJson(id);
  }

  icodes(): Promise<IcodeView[]> {
    return this.store.allIcodes();
  }

  icode(id: string): Promise<IcodeView | undefined> {
    return this.store.icode(id);
  }

  // --- writes (from events, and from the API's own submits) ---

  /** A tx was submitted (by this API or seen on the bus): pending until it commits or is refused. */
  notePending(txId: string): void {
    if (this.pending.has(txId) || this.recent.has(txId)) return;
    if (this.pending.size >= MAX_PENDING) {
      const oldest = this.pending.keys().next().value;
      if (oldest !== undefined) this.pending.delete(oldest);
    }
    this.pending.set(txId, this.now());
    this.emit({ type: 'tx', tx: { id: txId, status: 'pending' } });
  }

  /** Forgets a pending tx that never reached the pool (the publish failed): nothing half-applied. */
  dropPending(txId: string): void {
    this.pending.delete(txId);
  }

  private serially(work: () => Promise<void>): Promise<void> {
    const next = this.queue.then(work, work);
    this.queue = next.catch((error) => {
      this.options.logger.error({ err: String(error) }, 'API read model failed to apply an event');
    });
    return this.queue;
  }

  private async onCommitted(entry: CommittedBlock): Promise<void> {
    const height = entry.block.height;
    if (height <= this.height) return;
    if (height > this.height + 1) {
      if (this.early.size < MAX_EARLY_BLOCKS) this.early.set(height, entry);
      await this.requestReplay(false);
      return;
    }
    await this.apply(entry);
    for (let next = this.early.get(this.height + 1); next; next = this.early.get(this.height + 1)) {
      this.early.delete(next.block.height);
      await this.apply(next);
    }
    for (const early of this.early.keys()) if (early <= this.height) this.early.delete(early);
  }

  private async onReplay(reply: {
    requestId: string;
    entries: CommittedBlock[];
    done: boolean;
  }): Promise<void> {
    for (const entry of reply.entries) await this.onCommitted(entry);
    if (this.replay?.requestId !== reply.requestId) return;
    this.replay.at = this.now();
    if (!reply.done) return;
    this.replay = undefined;
    this.caughtUpResolve();
    if (this.early.size > 0) await this.requestReplay(false);
  }

  /** Asks for the blocks after the last applied one; at most one request in flight unless it stalls. */
  private async requestReplay(force: boolean): Promise<void> {
    if (this.closed) return;
    const now = this.now();
    const retryMs = this.options.replayRetryMs ?? 2_000;
    if (!force && this.replay && now - this.replay.at < retryMs) return;
    this.replay = { requestId: randomUUID(), fromHeight: this.height + 1, at: now };
    const { requestId, fromHeight } = this.replay;
    await this.bus.publish('replay.requested', { requestId, fromHeight });
  }

  private async apply(entry: CommittedBlock): Promise<void> {
    const { block, certificate, receipts } = entry;
    const now = this.now();
    const txs: TxView[] = block.txs.map((tx) => {
      const view: TxView = { id: tx.id, status: 'committed', height: block.height };
      const receipt = receipts?.[tx.id];
      if (receipt?.result !== undefined) view.result = receipt.result;
      if (receipt?.status === 'error' && receipt.error) view.error = receipt.error;
      return view;
    });
    await this.store.appendBlock(block, certificate, txs);
    this.height = block.height;
    this.lastSeal = block.seal;
    this.emit({ type: 'block', block });
    for (const tx of txs) {
      const submittedAt = this.pending.get(tx.id);
      this.pending.delete(tx.id);
      this.remember(tx.id);
      this.emit(
        submittedAt === undefined ? { type: 'tx', tx } : { type: 'tx', tx, latencyMs: now - submittedAt },
      );
    }
  }

  private async onVerdicts(verdicts: readonly TxVerdict[]): Promise<void> {
    for (const verdict of verdicts) {
      // A duplicate is the pool telling us it has the tx already: its status stands.
      if (verdict.status === 'accepted' || verdict.code === 'duplicate') continue;
      if (!this.pending.has(verdict.txId)) continue;
      const tx: TxView = {
        id: verdict.txId,
        status: 'rejected',
        error: { code: verdict.code, message: verdict.message },
      };
      this.pending.delete(tx.id);
      this.remember(tx.id);
      await this.store.putTx(tx);
      this.emit({ type: 'tx', tx });
    }
  }

  private remember(txId: string): void {
    this.recent.add(txId);
    if (this.recent.size > MAX_RECENT) {
      const oldest = this.recent.values().next().value;
      if (oldest !== undefined) this.recent.delete(oldest);
    }
  }

  private setLeader(leader: NodeId | null, term: number): void {
    this.leader = leader;
    this.term = term;
    this.role = leader === null ? 'electing' : leader === this.options.nodeId ? 'leader' : 'follower';
    this.emit({ type: 'leader', leader, term });
  }

  private addPeer(peer: PeerAddress & { outbound: boolean }): void {
    this.peerMap.set(peer.peerId, { id: peer.peerId, address: peer.address, outbound: peer.outbound });
  }

  private onStatus(report: StatusReport): void {
    this.statusHeard = true;
    if (report.leader) this.setLeader(report.leader.leader, report.leader.term);
    if (report.round) this.round = report.round;
    if (report.poolSize !== undefined) this.poolSize = report.poolSize;
    if (report.sync !== undefined) this.sync = report.sync;
    if (report.peers) {
      this.peerMap.clear();
      for (const peer of report.peers) this.addPeer(peer);
    }
  }

  private emit(change: ReadModelChange): void {
    for (const listener of this.listeners) {
      try {
        listener(change);
      } catch (error) {
        this.options.logger.warn({ err: String(error) }, 'API read model listener failed');
      }
    }
  }
}
