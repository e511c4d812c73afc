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
import { txCodec } from '../../domain/codec.ts';
import type { NodeId } from '../../domain/identity.ts';
import { InboundQueue } from '../inbound-queue.ts';
import { NodeHost, type PeerPort, type TimerPort } from '../node-host.ts';
import type { CoreParts } from '../node-parts.ts';
import { describePeerMessage, type PeerMessage } from '../replica/messages.ts';
import { Replica, type ReplicaReport, type ReplicaTimer, type TxOutcome } from '../replica/replica.ts';
import type { TimerEvent, TimerFired } from '../timer-actor.ts';
import { type ActorLinks, type Component, errorText } from './component.ts';

// TxPool + Consensus: the replica (actors/replica) on the node's host. It is stepped one call at a
// time by what arrives — a peer's message (from the gRPC component), a timer (from the timer actor),
// a client's tx (bus tx.submitted, answered with tx.verdict) — and its reports become bus events:
// block.committed (with receipts, once the block is durable), leader.updated / leader.deleted, and
// status.reported for the API. A peer asking for blocks this node holds only on disk waits until
// they are read into memory, so the replica's synchronous ledger can answer it.

export type ConsensusEvent = { type: 'peer.message'; from: NodeId; message: PeerMessage } | TimerFired;

export const CONSENSUS_ID = 'consensus';
export const TIMERS_ID = 'timers';

/** How often the pool size and round are pushed to the API when they changed. */
const STATUS_PUSH_MS = 1_000;
/** A replica call this long holds every timer up: logged (debug) with what it was. */
const SLOW_STEP_MS = 30;
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
  private statusTimer: NodeJS.Timeout | null = null;
  private lastStatus = '';
  private sync: SyncProgress | null = null;
  private lastSyncLog = 0;
  private readonly log;
  private readonly inbound: InboundQueue;
  private readonly loopDelay = monitorEventLoopDelay({ resolution: 20 });

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
  }

  async start(): Promise<void> {
    const { topics } = this.parts;
    this.step(() => this.replica.start(), 'start');
    this.started = true;
    this.subscriptions.push(
      await topics.on('tx.submitted', ({ tx }) => this.onSubmitted(tx)),
      await topics.on('status.requested', ({ requestId }) => this.publishStatus(requestId)),
    );
    const { height, term } = this.replica.status();
    this.log.info(
      { height, term, validators: this.parts.validators.length, restored: this.parts.records.size > 0 },
      'consensus started',
    );
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
    const { hits, misses } = this.parts.verifier.stats;
    this.log.info({ verified: misses, cacheHits: hits, ...this.replica.status() }, 'consensus stopped');
    this.links.sendTo(TIMERS_ID, { type: 'timer.cancelAll' } satisfies TimerEvent);
    await Promise.all(this.subscriptions.splice(0).map((s) => s.unsubscribe()));
    this.flushVerdicts();
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
    if (this.log.isLevelEnabled('trace'))
      this.log.trace({ peer: from }, `in: ${describePeerMessage(message)}`);
    this.step(() => this.replica.deliver(from, message), message.type);
  }

  // ── the network out ───────────────────────────────────────────────────────────────────────────────

  /**
   * The replica broadcasts to the other validators; a peer that is not one (a node joining) gets what
   * is sent to it by name. A broadcast is encoded once for all.
   */
  private peerPort(): PeerPort {
    const { gateway, nodeId, validators } = this.parts;
    const others = validators.filter((v) => v !== nodeId);
    const trace = this.log.isLevelEnabled('trace');
    return {
      send: (to, message) => {
        if (trace) this.log.trace({ peer: to }, `out: ${describePeerMessage(message)}`);
        gateway.send(to, message.type, message);
      },
      broadcast: (message) => {
        if (trace) this.log.trace({}, `out to all: ${describePeerMessage(message)}`);
        const bytes = Buffer.from(JSON.stringify(message), 'utf8');
        for (const to of others) gateway.send(to, message.type, bytes);
      },
    };
  }

  // ── clients' txs ──────────────────────────────────────────────────────────────────────────────────

  private onSubmitted(value: unknown): void {
    let verdict: TxVerdict;
    try {
      const tx = txCodec.fromValue(value, this.parts.replicaConfig.limits.maxTxBytes);
      let outcome: TxOutcome = { status: 'rejected', reason: 'the node is stopping' };
      this.step(() => {
        outcome = this.replica.submitTx(tx);
      }, 'submitTx');
      verdict = verdictOf(tx.id, outcome);
    } catch (error) {
      const txId = typeof value === 'object' && value !== null && 'id' in value ? String(value.id) : '';
      verdict = { txId, status: 'rejected', code: 'invalid', message: errorText(error) };
    }
    this.verdicts.push(verdict);
    // Verdicts of the txs that arrive together go out as one message.
    this.verdictFlush ??= setImmediate(() => this.flushVerdicts());
  }

  private flushVerdicts(): void {
    if (this.verdictFlush) clearImmediate(this.verdictFlush);
    this.verdictFlush = null;
    if (this.verdicts.length === 0) return;
    const verdicts = this.verdicts;
    this.verdicts = [];
    this.publish('tx.verdict', { verdicts });
  }

  // ── reports ───────────────────────────────────────────────────────────────────────────────────────

  private onReport(report: ReplicaReport): void {
    switch (report.type) {
      case 'block.committed': {
        const { block, cert, via } = report;
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
        if (this.sync !== null) this.log.info({ height: report.height }, 'sync completed');
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
