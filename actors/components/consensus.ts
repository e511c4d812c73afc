import { readFileSync } from 'node:fs';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import type {
  CommittedBlock,
  CommittedReceipt,
  GatewayTopic,
  GatewayTopics,
  StatusReport,
  SyncProgress,
  TxVerdict,
} from '../../adapters/api/api-topics.ts';
import type { Subscription } from '../../adapters/bus/event-bus.ts';
import type { Block } from '../../domain/block.ts';
import { txCodec } from '../../domain/codec.ts';
import type { NodeId } from '../../domain/identity.ts';
import type { Transaction } from '../../domain/transaction.ts';
import { InboundQueue } from '../inbound-queue.ts';
import { Membership } from '../membership.ts';
import { AdmissionDesk, joinedVia } from '../membership-admission.ts';
import { NodeHost, type PeerPort, type TimerPort } from '../node-host.ts';
import type { CoreParts } from '../node-parts.ts';
import { describePeerMessage, type PeerMessage } from '../replica/messages.ts';
import { Replica, type ReplicaReport, type ReplicaTimer, type TxOutcome } from '../replica/replica.ts';
import type { TimerEvent, TimerFired } from '../timer-actor.ts';
import { type ActorLinks, type Component, errorText } from './component.ts';
import { TxJournal } from './tx-journal.ts';

// TxPool + Consensus: the replica (actors/replica) on the node's host. It is stepped one call at a
// time by what arrives — a peer's message (from the gRPC component), a timer (from the timer actor),
// a client's tx (bus tx.submitted, answered with tx.verdict) — and its reports become bus events:
// block.committed (with receipts, once the block is durable), leader.updated / leader.deleted, and
// status.reported for the API. A peer asking for blocks this node holds only on disk waits until
// they are read into memory, so the replica's synchronous ledger can answer it.
//
// Membership (actors/membership*.ts): each committed block's membership txs are applied here, in the
// same replica step that stored the block, so an admitted node's txs verify from the next height on.
// A node that is not a member refuses its clients' txs with the reason; after a join (bus
// network.joined) it syncs and then asks the peer it joined through to admit it; a member answers such
// requests by submitting a membership tx.

export type ConsensusEvent = { type: 'peer.message'; from: NodeId; message: PeerMessage } | TimerFired;

export const CONSENSUS_ID = 'consensus';
export const TIMERS_ID = 'timers';

/** How often the pool size and round are pushed to the API when they changed. */
const STATUS_PUSH_MS = 1_000;
/** A replica call this long holds every timer up: logged (debug) with what it was. */
const SLOW_STEP_MS = 30;
/** Forwarded txs per Txs message at most (a message stays well under the peer message size limit). */
const FORWARD_CHUNK_TXS = 1_000;
/** Sync progress lines at most this often. */
const SYNC_LOG_MS = 1_000;

function verdictOf(txId: string, outcome: TxOutcome): TxVerdict {
  switch (outcome.status) {
    case 'accepted':
      return { txId, status: 'accepted' };
    case 'duplicate':
      return { txId, status: 'rejected', code: 'duplicate', message: `tx ${txId} is already pending` };
    case 'rejected':
      if (outcome.reason === 'pool full') {
        return { txId, status: 'rejected', code: 'pool_full', message: 'the tx pool is full; retry later' };
      }
      if (outcome.reason === 'already committed') {
        return { txId, status: 'rejected', code: 'duplicate', message: `tx ${txId} is already committed` };
      }
      return { txId, status: 'rejected', code: 'invalid', message: outcome.reason };
  }
}

export class ConsensusComponent implements Component<ConsensusEvent> {
  private readonly replica: Replica;
  private readonly subscriptions: Subscription[] = [];
  private readonly steps: { call: () => void; what: string }[] = [];
  private stepping = false;
  private started = false;
  private stopped = false;
  private verdicts: TxVerdict[] = [];
  private verdictFlush: NodeJS.Immediate | null = null;
  /** Txs accepted from this node's clients since the last flush: journaled before their verdicts leave. */
  private accepted: Transaction[] = [];
  /** Verdict flushes run one after the other (each waits for its journal write). */
  private flushing: Promise<void> = Promise.resolve();
  private journal: TxJournal | null = null;
  /** Ids in the journal: deleted from it when their block is stored. */
  private readonly journaled = new Set<string>();
  /** Txs to forward to each peer at the end of this turn (forwardLater). */
  private readonly forwards = new Map<NodeId, Transaction[]>();
  private forwardFlush: NodeJS.Immediate | null = null;
  private statusTimer: NodeJS.Timeout | null = null;
  private lastStatus = '';
  private sync: SyncProgress | null = null;
  private lastSyncLog = 0;
  private readonly log;
  private readonly inbound: InboundQueue;
  private readonly loopDelay = monitorEventLoopDelay({ resolution: 20 });
  private readonly membership: Membership;
  private readonly admissions: AdmissionDesk;
  /** Heights announced by peers (Committed) above this node's height while it synced: the block pool path. */
  private readonly announcedWhileSyncing = new Set<number>();

  constructor(
    private readonly parts: CoreParts,
    private readonly links: ActorLinks,
  ) {
    this.log = parts.logger.child({ component: 'consensus' });
    const timers: TimerPort = {
      arm: (timer, ms) => links.sendTo(TIMERS_ID, { type: 'timer.arm', timer, ms } satisfies TimerEvent),
      cancel: (timer) => links.sendTo(TIMERS_ID, { type: 'timer.cancel', timer } satisfies TimerEvent),
    };
    const host = new NodeHost({
      signer: parts.signer,
      verifier: parts.verifier,
      ledger: parts.ledger,
      peers: this.peerPort(),
      timers,
      writes: parts.writes,
      records: new Map(parts.records),
      saveRecords: (record) => parts.store.putConsensusRecord(record),
      report: (report) => this.onReport(report),
    });
    this.inbound = new InboundQueue(parts.verifier, (from, message) => this.onPeerMessage(from, message));
    this.replica = new Replica(parts.replicaConfig, host, {
      restored: parts.records,
      inspect: parts.inspect,
    });
    this.membership = membershipOf(parts);
    this.admissions = new AdmissionDesk({
      gateway: parts.gateway,
      membership: this.membership,
      signer: parts.signer,
      caCertificate: parts.genesis.caCertificate,
      certificate: () => readFileSync(parts.config.node.certFile, 'utf8'),
      logger: this.log.child({ part: 'membership' }),
      submit: (tx) => {
        let outcome: TxOutcome = { status: 'rejected', reason: 'the node is stopping' };
        this.step(() => {
          outcome = this.replica.submitTx(tx);
        }, 'submitTx membership');
        return outcome;
      },
      caughtUp: (height) => this.sync === null && this.parts.ledger.height() >= height,
    });
  }

  async start(): Promise<void> {
    const { topics, config } = this.parts;
    this.journal = await TxJournal.open(TxJournal.pathFor(config.storage.path));
    this.step(() => this.replica.start(), 'start');
    await this.resubmitJournaled(this.journal);
    this.started = true;
    this.subscriptions.push(
      await topics.on('tx.submitted', ({ tx }) => this.onSubmitted(tx)),
      await topics.on('status.requested', ({ requestId }) => this.publishStatus(requestId)),
      await topics.on('network.joined', (joined) => {
        const via = joinedVia(joined);
        if (via !== null) this.admissions.askAfterSync(via);
      }),
    );
    this.admissions.start();
    const { height, term } = this.replica.status();
    this.log.info(
      {
        height,
        term,
        validators: this.parts.validators.length,
        members: this.membership.members().length,
        member: this.membership.isMember(this.parts.nodeId),
        restored: this.parts.records.size > 0,
      },
      'consensus started',
    );
    if (!this.membership.canAdmit) {
      this.log.warn({}, 'membership is not loaded at start (node-boot.ts): this node admits no members');
    }
    this.loopDelay.enable();
    this.statusTimer = setInterval(() => {
      this.publishStatus(undefined);
      this.checkLoopDelay();
    }, STATUS_PUSH_MS);
    this.statusTimer.unref();
  }

  receive(event: ConsensusEvent): void {
    // Before the replica runs, a peer's message is dropped like a lost one and no timer is armed.
    if (!this.started) return;
    switch (event.type) {
      case 'peer.message':
        this.inbound.push(event.from, event.message);
        return;
      case 'timer.fired':
        this.step(() => this.replica.fireTimer(event.timer as ReplicaTimer), `timer ${event.timer}`);
        return;
    }
  }

  /** Stops stepping the replica; what it queued still reaches the disk (the node drains the writes). */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    if (this.statusTimer) clearInterval(this.statusTimer);
    this.loopDelay.disable();
    this.inbound.stop();
    this.admissions.stop();
    const { hits, misses } = this.parts.verifier.stats;
    this.log.info({ verified: misses, cacheHits: hits, ...this.replica.status() }, 'consensus stopped');
    this.links.sendTo(TIMERS_ID, { type: 'timer.cancelAll' } satisfies TimerEvent);
    await Promise.all(this.subscriptions.splice(0).map((s) => s.unsubscribe()));
    this.flushVerdicts();
    await this.flushing;
    await this.journal?.close();
  }

  /**
   * After a restart: the txs this node acknowledged and had not seen committed go back into its pool
   * (tx-journal.ts); those the stored chain holds already are dropped from the journal.
   */
  private async resubmitJournaled(journal: TxJournal): Promise<void> {
    const committed: string[] = [];
    let resubmitted = 0;
    for (const tx of await journal.pending()) {
      if (this.parts.ledger.hasTx(tx.id)) {
        committed.push(tx.id);
        continue;
      }
      this.journaled.add(tx.id);
      this.step(() => {
        if (this.replica.submitTx(tx).status !== 'rejected') resubmitted++;
      }, 'submitTx journaled');
    }
    await journal.forget(committed);
    if (resubmitted > 0 || committed.length > 0) {
      this.log.info(
        { resubmitted, alreadyCommitted: committed.length },
        'acknowledged txs from before the restart are back in the pool',
      );
    }
  }

  status() {
    return this.replica.status();
  }

  // ── stepping ──────────────────────────────────────────────────────────────────────────────────────

  /** One replica call at a time (the replica is never re-entered); a failure stops the node. */
  private step(call: () => void, what: string): void {
    if (this.stopped) return;
    this.steps.push({ call, what });
    if (this.stepping) return;
    this.stepping = true;
    try {
      for (let next = this.steps.shift(); next !== undefined; next = this.steps.shift()) {
        if (this.stopped) break;
        const started = performance.now();
        next.call();
        const ms = performance.now() - started;
        if (ms >= SLOW_STEP_MS) this.log.debug({ ms: Math.round(ms), step: next.what }, 'slow replica step');
      }
    } catch (error) {
      this.stopped = true;
      this.steps.length = 0;
      this.log.fatal({ err: errorText(error) }, 'the replica failed');
      this.links.fail(error);
    } finally {
      this.stepping = false;
    }
  }

  private onPeerMessage(from: NodeId, message: PeerMessage): void {
    if (message.type === 'BlocksRequest') {
      // Blocks below the in-memory window are read from disk first; range() then answers from memory.
      const last = Math.min(message.to, message.from + this.parts.replicaConfig.sync.maxServedBlocks - 1);
      if (!this.parts.ledger.holds(message.from, last)) {
        this.parts.ledger.loadRange(message.from, last).then(
          () => this.step(() => this.replica.deliver(from, message), message.type),
          (error: unknown) =>
            this.log.warn({ peer: from, err: errorText(error) }, 'cannot read blocks for a peer'),
        );
        return;
      }
    }
    if (
      message.type === 'Committed' &&
      this.sync !== null &&
      message.block.height > this.parts.ledger.height() + 1
    ) {
      this.announcedWhileSyncing.add(message.block.height);
    }
    if (this.log.isLevelEnabled('trace'))
      this.log.trace({ peer: from }, `in: ${describePeerMessage(message)}`);
    this.step(() => this.replica.deliver(from, message), message.type);
  }

  // ── the network out ───────────────────────────────────────────────────────────────────────────────

  /**
   * A broadcast goes to every connected peer, encoded once for all: the other validators, and the
   * members and joining nodes, which follow the rounds (they learn the leader, forward their txs to
   * it and commit with everyone) without a vote that counts.
   */
  private peerPort(): PeerPort {
    const { gateway } = this.parts;
    const trace = this.log.isLevelEnabled('trace');
    return {
      send: (to, message) => {
        if (trace) this.log.trace({ peer: to }, `out: ${describePeerMessage(message)}`);
        if (message.type === 'Txs') this.forwardLater(to, message.txs);
        else gateway.send(to, message.type, message);
      },
      broadcast: (message) => {
        if (trace) this.log.trace({}, `out to all: ${describePeerMessage(message)}`);
        gateway.broadcast(message.type, Buffer.from(JSON.stringify(message), 'utf8'));
      },
    };
  }

  /**
   * Txs for a peer wait until the end of this turn of the event loop and leave as one message: a
   * batch of clients' txs is submitted one replica step at a time, and each step forwards its tx to
   * the leader, which would otherwise decode, check and step through hundreds of one-tx messages.
   * Nothing depends on the order of Txs relative to other messages.
   */
  private forwardLater(to: NodeId, txs: readonly Transaction[]): void {
    const waiting = this.forwards.get(to);
    if (waiting === undefined) this.forwards.set(to, [...txs]);
    else for (const tx of txs) waiting.push(tx);
    this.forwardFlush ??= setImmediate(() => {
      this.forwardFlush = null;
      for (const [peer, batch] of this.forwards) {
        for (let i = 0; i < batch.length; i += FORWARD_CHUNK_TXS) {
          const message: PeerMessage = { type: 'Txs', txs: batch.slice(i, i + FORWARD_CHUNK_TXS) };
          this.parts.gateway.send(peer, message.type, message);
        }
      }
      this.forwards.clear();
    });
  }

  // ── clients' txs ──────────────────────────────────────────────────────────────────────────────────

  private onSubmitted(value: unknown): void {
    let verdict: TxVerdict;
    try {
      const tx = txCodec.fromValue(value, this.parts.replicaConfig.limits.maxTxBytes);
      if (!this.membership.isMember(tx.signer)) throw new Error(notMemberReason(tx.signer));
      let outcome: TxOutcome = { status: 'rejected', reason: 'the node is stopping' };
      this.step(() => {
        outcome = this.replica.submitTx(tx);
      }, 'submitTx');
      verdict = verdictOf(tx.id, outcome);
      if (verdict.status === 'accepted') this.accepted.push(tx);
    } catch (error) {
      const txId = typeof value === 'object' && value !== null && 'id' in value ? String(value.id) : '';
      verdict = { txId, status: 'rejected', code: 'invalid', message: errorText(error) };
    }
    this.verdicts.push(verdict);
    // Verdicts of the txs that arrive together go out as one message.
    this.verdictFlush ??= setImmediate(() => this.flushVerdicts());
  }

  /** The verdicts go out once the accepted txs are in the journal: an acknowledged tx survives a crash. */
  private flushVerdicts(): void {
    if (this.verdictFlush) clearImmediate(this.verdictFlush);
    this.verdictFlush = null;
    if (this.verdicts.length === 0) return;
    const verdicts = this.verdicts;
    const accepted = this.accepted;
    this.verdicts = [];
    this.accepted = [];
    for (const tx of accepted) this.journaled.add(tx.id);
    this.flushing = this.flushing.then(async () => {
      try {
        await this.journal?.record(accepted);
      } catch (error) {
        // Not durable, so not acknowledged: the node stops rather than promise what it cannot keep.
        this.log.fatal({ err: errorText(error) }, 'cannot journal accepted txs');
        this.links.fail(error);
        return;
      }
      this.publish('tx.verdict', { verdicts });
    });
  }

  // ── reports ───────────────────────────────────────────────────────────────────────────────────────

  private onReport(report: ReplicaReport): void {
    switch (report.type) {
      case 'block.committed': {
        const { block, cert, via } = report;
        if (block.txs.some((tx) => tx.kind === 'membership')) this.applyMembership(block);
        this.forgetJournaled(block);
        const receipts: Record<string, CommittedReceipt> = {};
        for (const [txId, r] of Object.entries(this.parts.ledger.recentEntry(block.height)?.receipts ?? {})) {
          receipts[txId] = { status: r.status, gasUsed: r.gasUsed, result: r.result, error: r.error };
        }
        if (block.txs.length > 0 || via === 'sync') {
          const line = { height: block.height, txs: block.txs.length, seal: block.seal.slice(0, 12), via };
          if (via === 'sync') this.log.debug(line, 'block committed');
          else this.log.info(line, 'block committed');
        }
        // Published once it is on disk: a client that hears "committed" can rely on it.
        const committed: CommittedBlock = { block, certificate: cert, receipts };
        this.parts.writes.afterDurable(() => this.publish('block.committed', committed));
        return;
      }
      case 'leader.elected':
        this.log.info(
          { term: report.term, leader: report.leader, self: report.leader === this.parts.nodeId },
          report.leader === this.parts.nodeId ? 'this node leads' : 'leader elected',
        );
        this.publish('leader.updated', { leader: report.leader, term: report.term });
        return;
      case 'leader.lost':
        this.log.info({ term: report.term, leader: report.leader }, 'leader lost; electing');
        this.publish('leader.deleted', { leader: report.leader, term: report.term });
        return;
      case 'tx.admitted':
      case 'tx.duplicate':
        return;
      case 'tx.rejected':
        this.log.debug({ tx: report.id, reason: report.reason, origin: report.origin }, 'tx rejected');
        return;
      case 'sync.started':
        if (report.target > report.height) {
          this.log.info({ height: report.height, target: report.target }, 'sync started');
          this.setSync({ height: report.height, targetHeight: report.target, blocksPerSec: 0, etaSec: null });
        }
        return;
      case 'sync.progress': {
        const bps = report.blocksPerSecond ?? 0;
        const etaSec = report.etaMs === undefined ? null : Math.ceil(report.etaMs / 1000);
        this.setSync({ height: report.height, targetHeight: report.target, blocksPerSec: bps, etaSec });
        const now = Date.now();
        if (now - this.lastSyncLog >= SYNC_LOG_MS) {
          this.lastSyncLog = now;
          this.log.info(
            { height: report.height, target: report.target, blocksPerSec: Math.round(bps), etaSec },
            `sync ${report.height}/${report.target} at ${Math.round(bps)} blocks/s, ETA ${etaSec ?? '?'} s`,
          );
        }
        return;
      }
      case 'sync.completed':
        if (this.sync !== null) {
          // announcedToPool: blocks the network committed meanwhile, parked in the block pool.
          this.log.info(
            { height: report.height, announcedToPool: this.announcedWhileSyncing.size },
            'sync completed',
          );
        }
        this.announcedWhileSyncing.clear();
        this.setSync(null);
        return;
      case 'round.started':
        this.log.debug(
          { height: report.height, round: report.round, proposer: report.proposer },
          'round started',
        );
        return;
      case 'equivocation':
        this.log.warn(
          { voter: report.voter, height: report.height, round: report.round },
          'a validator signed two different votes (evidence)',
        );
        return;
      case 'log':
        if (report.text.startsWith('refused') || report.text.startsWith('evidence'))
          this.log.warn(report.text);
        else this.log.debug(report.text);
        return;
    }
  }

  /** A stored block's txs that this node journaled leave the journal once the block is on disk. */
  private forgetJournaled(block: Block): void {
    const ids = block.txs.filter((tx) => this.journaled.delete(tx.id)).map((tx) => tx.id);
    const journal = this.journal;
    if (ids.length === 0 || journal === null) return;
    this.parts.writes.afterDurable(() => {
      journal.forget(ids).catch((error: unknown) => {
        this.log.warn({ err: errorText(error) }, 'cannot delete committed txs from the journal');
      });
    });
  }

  /** Admissions in a committed block take effect now, before the next block is validated. */
  private applyMembership(block: Block): void {
    for (const outcome of this.membership.applyBlock(block)) {
      switch (outcome.status) {
        case 'admitted': {
          const self = outcome.member.nodeId === this.parts.nodeId;
          this.log.info(
            { member: outcome.member.nodeId, height: block.height, txId: outcome.txId, self },
            self ? 'this node is admitted: a member of the network' : 'a node was admitted as a member',
          );
          if (self) this.admissions.admitted();
          break;
        }
        case 'already-member':
          this.log.debug({ member: outcome.nodeId, txId: outcome.txId }, 'membership tx for a member: no-op');
          break;
        case 'refused':
          this.log.warn({ txId: outcome.txId, reason: outcome.reason }, 'membership tx refused: no-op');
          break;
      }
    }
  }

  /**
   * A blocked event loop delays the leader's heartbeats and the followers' timers alike: past the
   * election timeout it costs a leader. Say so, with the figure, so a slow machine is recognisable.
   */
  private checkLoopDelay(): void {
    const maxMs = this.loopDelay.max / 1e6;
    this.loopDelay.reset();
    if (maxMs >= this.parts.replicaConfig.timeouts.electionMinMs / 2) {
      this.log.warn(
        { blockedMs: Math.round(maxMs), inbound: this.inbound.waiting },
        'the event loop was blocked; timers ran late',
      );
    }
  }

  private setSync(sync: SyncProgress | null): void {
    this.sync = sync;
    this.publish('status.reported', { sync });
  }

  /** The consensus part of /status: on request, or when it changed since the last push. */
  private publishStatus(requestId: string | undefined): void {
    if (this.stopped) return;
    const s = this.replica.status();
    const report: StatusReport = {
      leader: { leader: s.leader, term: s.term },
      round: { height: s.height + 1, round: s.round },
      poolSize: s.poolSize,
      sync: this.sync,
    };
    const key = JSON.stringify(report);
    if (requestId === undefined && key === this.lastStatus) return;
    this.lastStatus = key;
    this.publish('status.reported', requestId === undefined ? report : { ...report, requestId });
  }

  private publish<T extends GatewayTopic>(topic: T, payload: GatewayTopics[T]): void {
    this.parts.topics.publish(topic, payload).catch((error: unknown) => {
      this.log.warn({ topic, err: errorText(error) }, 'bus publish failed');
    });
  }
}

/**
 * The node's membership as opened at start (node-boot.ts: loadMembership, over the key ring the store
 * verifies with). A node opened without it knows only the genesis validators and admits nobody.
 */
function membershipOf(parts: CoreParts): Membership {
  if ('membership' in parts && parts.membership instanceof Membership) return parts.membership;
  return new Membership(
    null,
    parts.genesis.caCertificate,
    parts.genesis.validators.map((v) => v.nodeId),
  );
}

function notMemberReason(nodeId: NodeId): string {
  return (
    `node ${nodeId} is not a member of the network yet: its txs are refused until a membership tx ` +
    'admitting it commits (join through a member: POST /peers {"type":"join"} or itchain peer join)'
  );
}
