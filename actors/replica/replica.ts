/**
 * The Replica: ONE node's consensus core — the four protocol machines (leader election, PBFT round,
 * tx batching with its pool, sync with its block pool) wired together. It is synchronous and
 * host-agnostic: the same code runs in the deterministic simulator (sim/wiring.ts) and in the node.
 * It is stepped — a message arrives (`deliver`), a timer fires (`fireTimer`), a client submits a tx
 * (`submitTx`) — and it acts only through its host. It never touches a socket, a disk or a clock.
 *
 * ══ THE HOST INTERFACE: what the node implements (ReplicaHost; docs/replica.md has a walk-through) ══
 *
 *   signer: Signer               signs as this node: election votes, proposals, PBFT votes
 *   verifier: SignatureVerifier  checks any validator's signature: votes, proposals, txs, certificates
 *   ledger: Ledger               the committed chain (ledger.ts): height(), last(), append(block, cert),
 *                                range(from, to), hasTx(id), nextStateRoot(), whenReady()
 *   send(to, message)            one PeerMessage (messages.ts) to one peer; best effort, may be lost
 *   broadcast(message)           the same message to every OTHER validator; never to this node (the
 *                                replica hands its own messages to its machines itself)
 *   armTimer(timer, ms)          call fireTimer(timer) after ms; arming an armed timer replaces it
 *   cancelTimer(timer)           do not call it (one that fires anyway is harmless: stale timeouts are
 *                                ignored)
 *   persist(key, value)          write a small record durably (records.ts lists the keys)
 *   now()                        wall-clock milliseconds since the epoch (block timestamps, sync rate)
 *   random()                     a float in [0, 1) from the host's RNG: election and stall timeouts
 *                                are drawn from it (the simulator's is seeded)
 *   report(report)               what happened (ReplicaReport): the node turns these into bus events
 *
 * What the host guarantees:
 *   - PERSIST BEFORE SEND: whatever was persisted, and every block appended to the ledger, is durable
 *     before any message sent AFTER it leaves the node (the node: a write barrier in front of its
 *     send queue; the simulator: writes are immediate). The replica always writes first.
 *   - ONE CALL AT A TIME: start / deliver / fireTimer / submitTx are never re-entered; a host call
 *     made during one may take effect after it returns (a send may be queued).
 *   - AUTHENTIC SENDER: `from` in deliver is the peer the transport authenticated (mTLS).
 *   - A LEDGER THAT RUNS TXS LATER: the node's ledger runs a block's txs (the IVM) after append()
 *     returns, so the state root the next block must carry is unknown for a while (nextStateRoot()
 *     is null). The replica then holds back what needs it — the next height (PBFT START_HEIGHT, so
 *     no block is built or checked for it), the next synced block, and the block.committed report
 *     (so the host sees the block's receipts with it) — and everything else goes on: votes,
 *     heartbeats, sync answers, client txs. Once ledger.whenReady() resolves it arms the 'ledger'
 *     timer (0 ms), whose call takes up what waited. A ledger that runs the txs inside append()
 *     (the simulator's) is never waited for, and the replica behaves as if this rule did not exist.
 *   - RESTART: a new Replica is given `restored`, every record persisted before the crash, and a
 *     ledger holding every block appended before it; nothing else survives (pool, timers, sync).
 *
 * What the replica reports (ReplicaReport), in the order things happen:
 *   leader.elected / leader.lost     who leads which term, as this node knows it
 *   block.committed {block, cert, via: consensus | sync}   appended to the ledger, its txs run
 *   tx.admitted / tx.duplicate / tx.rejected {reason}      a client's or a peer's tx
 *   sync.started / sync.progress {blocksPerSecond, etaMs} / sync.completed
 *   round.started, equivocation (evidence), log (a line for the node's log)
 *
 * ══ THE WIRING: what the replica does with the machines ═══════════════════════════════════════════
 *   network → machines  every message is checked first: consensus messages from validators only,
 *                       signatures with the verifier, a proposal's block with validateNextBlock (the
 *                       PBFT isValidProposal guard), a synced block with its certificate
 *   gossip (gossip.ts)  each distinct message reaches the PBFT machine once; this node's current
 *                       round is re-sent every resendMs while it lasts; a peer in an earlier round
 *                       is sent that round's votes and proposal; a peer still deciding a stored
 *                       height is sent the block; a re-proposed block carries its polka
 *   election            leader.updated → PBFT and batching LEADER_CHANGED (and the height's
 *                       proposals again: round 0's proposer is known now); leader.deleted → batching
 *                       leaderless; votes are signed here after the machine persisted them
 *   PBFT                pbft.requestBlock / batch.ready → a block for the next height → BLOCK_READY;
 *                       round.started: the pool's txs forwarded to a proposer that lacks them; r ≥ 1
 *                       → BATCH_FAILED, and LEADER_STALLED (after a random pause, once per term)
 *                       when the leader this node follows had round 0; pbft.commit → validate,
 *                       append, START_HEIGHT (a block that never arrived is fetched by sync);
 *                       peersAhead → SYNC_START
 *   batching            tx.forward → Txs (one message per peer and step); work.pending → TXS_WAITING
 *                       (and again after each new height while the pool is not empty)
 *   sync                status / blocks requests out and answers in; block.apply → validate with the
 *                       certificate, append
 *   every append        → batching, election and sync BLOCK_COMMITTED; PBFT START_HEIGHT once the
 *                       ledger knows the next state root
 *
 * Effects are handled in the order a machine emits them, after its step returns; the events they
 * cause (for other machines, or for the same one: its own votes) go through one FIFO queue, so no
 * machine is ever re-entered.
 */
import type { AnyActorRef, InspectionEvent, Observer } from 'xstate';
import { type Actor, createActor } from 'xstate';
import { type Block, buildBlock } from '../../domain/block.ts';
import type { CommitCertificate } from '../../domain/commit-certificate.ts';
import { ValidationError } from '../../domain/errors.ts';
import type { NodeId, SignatureVerifier, Signer } from '../../domain/identity.ts';
import type { Transaction } from '../../domain/transaction.ts';
import { validateNextBlock, validateTransaction } from '../../domain/validation.ts';
import { signVote, type Vote } from '../../domain/vote.ts';
import {
  type BatchingEffect,
  type BatchingEvent,
  batchingMachine,
  type TxVerdict,
} from '../../machines/batching.ts';
import type { CertifiedBlock } from '../../machines/block-pool.ts';
import {
  type ElectionEffect,
  type ElectionEvent,
  type ElectionMachine,
  electionMachine,
} from '../../machines/election.ts';
import { electionVoteSigningBytes } from '../../machines/election-messages.ts';
import { proposalSigningBytes, type SignedProposal } from '../../machines/pbft-messages.ts';
import {
  currentProposal,
  type PbftEffect,
  type PbftEvent,
  type PbftRecord,
  type PbftRoundMachine,
  type PbftTimer,
  pbftRoundMachine,
} from '../../machines/pbft-round.ts';
import type { QuorumRule } from '../../machines/quorum.ts';
import { type SyncEffect, type SyncEvent, syncMachine } from '../../machines/sync.ts';
import { oldestTxs, proposedTxs } from '../../machines/tx-pool.ts';
import { type ReplicaConfig, stepTimeoutMs } from './config.ts';
import { Gossip, proposalKey, voteKey } from './gossip.ts';
import type { Ledger } from './ledger.ts';
import type { PeerMessage } from './messages.ts';
import {
  type KeptBlock,
  type OwnSigned,
  RECORD_KEYS,
  type RecordKey,
  readElectionRecord,
  readPbftState,
} from './records.ts';
import { certifiedBlockProblem, isValidElectionVote, isValidProposal, VerifiedSignatures } from './verify.ts';

export type ReplicaTimer =
  | 'election'
  | 'heartbeat'
  | 'leader.stall'
  | 'batch'
  | 'sync.status'
  | 'sync.fetch'
  | 'pbft.propose'
  | 'pbft.prevote'
  | 'pbft.precommit'
  | 'pbft.resend'
  | 'ledger';

export const REPLICA_TIMERS: readonly ReplicaTimer[] = [
  'election',
  'heartbeat',
  'leader.stall',
  'batch',
  'sync.status',
  'sync.fetch',
  'pbft.propose',
  'pbft.prevote',
  'pbft.precommit',
  'pbft.resend',
  'ledger',
];

export type ReplicaReport =
  | { type: 'leader.elected'; term: number; leader: NodeId }
  | { type: 'leader.lost'; term: number; leader: NodeId }
  | { type: 'block.committed'; block: Block; cert: CommitCertificate; via: 'consensus' | 'sync' }
  | { type: 'tx.admitted'; id: string; origin: NodeId | null }
  | { type: 'tx.duplicate'; id: string; origin: NodeId | null }
  | { type: 'tx.rejected'; id: string; reason: string; origin: NodeId | null }
  | { type: 'sync.started'; height: number; target: number }
  | { type: 'sync.progress'; height: number; target: number; blocksPerSecond?: number; etaMs?: number }
  | { type: 'sync.completed'; height: number }
  | { type: 'round.started'; height: number; round: number; proposer: NodeId }
  | { type: 'equivocation'; voter: NodeId; height: number; round: number }
  | { type: 'log'; text: string };

export interface ReplicaHost {
  readonly signer: Signer;
  readonly verifier: SignatureVerifier;
  readonly ledger: Ledger;
  send(to: NodeId, message: PeerMessage): void;
  broadcast(message: PeerMessage): void;
  armTimer(timer: ReplicaTimer, ms: number): void;
  cancelTimer(timer: ReplicaTimer): void;
  persist(key: RecordKey, value: unknown): void;
  now(): number;
  random(): number;
  report(report: ReplicaReport): void;
}

type BatchingMachine = typeof batchingMachine;
type SyncMachine = typeof syncMachine;

/**
 * Other machine definitions, for tests only: the simulator's buggy variants (a PBFT round without
 * locking, an election won by one vote, a smaller PBFT quorum) show that its checker bites.
 */
export interface ReplicaMachines {
  election?: ElectionMachine;
  pbft?: PbftRoundMachine;
  /** Passed to the PBFT round as its `quorum` input; default quorumSize (2f+1). */
  pbftQuorum?: QuorumRule;
}

/** Inspection observers per machine (e.g. test/support/machine-coverage.ts's `inspect`). */
export interface ReplicaInspection {
  election?: (event: InspectionEvent) => void;
  pbft?: (event: InspectionEvent) => void;
  batching?: (event: InspectionEvent) => void;
  sync?: (event: InspectionEvent) => void;
}

export interface ReplicaOptions {
  /** Every record persisted by an earlier incarnation, by key (empty on a first start). */
  restored?: ReadonlyMap<string, unknown>;
  machines?: ReplicaMachines;
  inspect?: ReplicaInspection;
}

export type TxOutcome =
  | { status: 'accepted' }
  | { status: 'duplicate' }
  | { status: 'rejected'; reason: string };

export interface ReplicaStatus {
  height: number;
  /** 'leader' | 'candidate' | 'follower', with '+syncing' while catching up. */
  role: string;
  term: number;
  leader: NodeId | null;
  round: number;
  poolSize: number;
}

type Work =
  | { to: 'election'; event: ElectionEvent }
  | { to: 'pbft'; event: PbftEvent }
  | { to: 'batching'; event: BatchingEvent }
  | { to: 'sync'; event: SyncEvent }
  | { to: 'task'; run: () => void };

type Effect =
  | { from: 'election'; effect: ElectionEffect }
  | { from: 'pbft'; effect: PbftEffect }
  | { from: 'batching'; effect: BatchingEffect }
  | { from: 'sync'; effect: SyncEffect };

/** blockProblem's answer while the ledger runs the last block: not a verdict, asked again later. */
const NOT_YET = 'the state after the last block is not known yet';

/** Signatures of txs already verified, by tx id (validateNextBlock's cache); forgotten when full. */
const MAX_VERIFIED_TXS = 20_000;

const CONSENSUS: ReadonlySet<PeerMessage['type']> = new Set([
  'RequestVote',
  'ElectionVote',
  'UpdateLeader',
  'Proposal',
  'Vote',
  'Votes',
]);

export class Replica {
  private readonly self: NodeId;
  private readonly election: Actor<ElectionMachine>;
  private readonly pbft: Actor<PbftRoundMachine>;
  private readonly batching: Actor<BatchingMachine>;
  private readonly sync: Actor<SyncMachine>;
  /** Work of this step, FIFO; taken from workHead on (an index, not shift(): a step can queue 10,000). */
  private readonly work: Work[] = [];
  private workHead = 0;
  private readonly effects: Effect[] = [];
  private effectsHead = 0;
  private stepping = false;
  private started = false;
  private failure: { machine: string; error: unknown } | null = null;

  private readonly gossip: Gossip;
  private readonly signatures: VerifiedSignatures;
  private readonly verifiedTxs = new Map<string, string>();
  /** The (height, round) each PBFT timer was armed for: its timeout event names them. */
  private readonly pbftTimers = new Map<PbftTimer, { height: number; round: number }>();
  /** PBFT asked for a block (pbft.requestBlock) and has not been given one yet. */
  private blockRequest: { height: number; round: number } | null = null;
  /** isValidProposal verdicts at the current height, by seal. */
  private readonly verdicts = new Map<string, boolean>();
  private verdictHeight = -1;
  /** The locked / valid blocks of the last PBFT record, with their polkas (persisted with it). */
  private kept: KeptBlock[] = [];
  /** The last PBFT record; persisted with the signed message it precedes, in one write. */
  private lastRecord: PbftRecord | null = null;
  /** A PBFT record emitted and not yet written: it is written with the message that follows it. */
  private pendingRecord = false;
  /** What this node signed in the round it resumes (restored): sent and counted again at start. */
  private readonly resumed: OwnSigned[];
  /** Height f+1 validators have reached (pbft.peersAhead): a sync that ends below it starts again. */
  private peersAt = 0;
  /** PBFT decided this block but this node does not have it (yet): stored as soon as it arrives. */
  private awaiting: { height: number; blockHash: string; cert: CommitCertificate } | null = null;
  /** Round 0 of the height being decided: who proposed it, in which term. */
  private roundZero: { height: number; proposer: NodeId; term: number } | null = null;
  /** The last term whose leader was suspected of stalling (its LEADER_STALLED is due or sent). */
  private stalledTerm = -1;
  /** Txs for peers (tx.forward), gathered per peer during one step and sent as one message each. */
  private readonly forwards = new Map<NodeId, { txs: Transaction[]; ids: Set<string> }>();
  /** The outcome of the tx being submitted, captured from the batching machine's answer. */
  private submitting: { id: string; outcome: TxOutcome | null } | null = null;
  private electionRole = '';
  /**
   * The ledger is running the last block's txs (nextStateRoot() is null) and the 'ledger' timer is
   * due once it has; meanwhile these wait: the block.committed reports, the next height, a synced block.
   */
  private ledgerBusy = false;
  private readonly heldReports: ReplicaReport[] = [];
  private heldAdvance = false;
  private heldSync: CertifiedBlock | null = null;

  constructor(
    private readonly config: ReplicaConfig,
    private readonly host: ReplicaHost,
    options: ReplicaOptions = {},
  ) {
    this.self = config.self;
    this.signatures = new VerifiedSignatures(host.verifier);
    const restored = options.restored ?? new Map<string, unknown>();
    const machines = options.machines ?? {};
    const inspect = options.inspect ?? {};
    const height = host.ledger.height();
    this.gossip = new Gossip(
      { intervalMs: config.timeouts.resendMs, announceWindowMs: config.sync.announceWindowMs },
      height,
    );

    // A PBFT record for the next height resumes that height: with what this node signed in its round
    // and the bodies (and polkas) of the blocks it is locked on or holds as valid.
    const electionRecord = readElectionRecord(restored.get(RECORD_KEYS.election));
    const state = readPbftState(restored.get(RECORD_KEYS.pbft));
    const resumes = state !== null && state.record.height === height + 1 ? state : null;
    this.resumed = resumes?.signed ?? [];
    this.kept = resumes?.kept ?? [];
    this.lastRecord = resumes?.record ?? null;
    for (const entry of this.kept) for (const vote of entry.prevotes) this.gossip.addVote(vote);

    this.election = createActor(machines.election ?? electionMachine, {
      input: {
        self: this.self,
        validators: config.validators,
        networkId: config.networkId,
        committedHeight: height,
        persisted: electionRecord,
      },
      inspect: inspect.election,
    });

    const pbft = (machines.pbft ?? pbftRoundMachine).provide({
      guards: {
        isValidProposal: ({ context }) => {
          const proposal = currentProposal(context);
          return proposal !== null && this.isValidBlock(proposal.block, context.height);
        },
      },
    });
    this.pbft = createActor(pbft, {
      input: {
        self: this.self,
        networkId: config.networkId,
        validators: config.validators,
        height: height + 1,
        leader: null,
        restored: resumes?.record ?? null,
        restoredBlocks: this.kept.map((entry) => entry.block),
        quorum: machines.pbftQuorum,
      },
      inspect: inspect.pbft,
    });

    this.batching = createActor(batchingMachine, {
      input: {
        self: this.self,
        leader: null,
        maxBatchTxs: config.batching.maxBatchTxs,
        batchIntervalMs: config.batching.batchIntervalMs,
        maxPoolTxs: config.batching.maxPoolTxs,
      },
      inspect: inspect.batching,
    });

    const sync = syncMachine.provide({
      guards: { isVerifiedBlock: (_, entry: CertifiedBlock) => this.certifiedProblem(entry) === null },
    });
    this.sync = createActor(sync, {
      input: {
        height,
        batchSize: config.sync.batchSize,
        fetchTimeoutMs: config.sync.fetchTimeoutMs,
        statusTimeoutMs: config.sync.statusTimeoutMs,
        maxPeerTimeouts: config.sync.maxPeerTimeouts,
        poolCapacity: config.sync.poolCapacity,
      },
      inspect: inspect.sync,
    });

    this.listen('election', this.election);
    this.listen('pbft', this.pbft);
    this.listen('batching', this.batching);
    this.listen('sync', this.sync);
  }

  /** Collects a machine's effects, and its failure (XState would report a throwing action later). */
  private listen(name: Effect['from'], actor: AnyActorRef): void {
    const observer: Observer<unknown> = {
      error: (error: unknown) => {
        this.failure ??= { machine: name, error };
      },
    };
    actor.subscribe(observer);
    switch (name) {
      case 'election':
        this.election.on('*', (effect) => this.effects.push({ from: 'election', effect }));
        break;
      case 'pbft':
        this.pbft.on('*', (effect) => this.effects.push({ from: 'pbft', effect }));
        break;
      case 'batching':
        this.batching.on('*', (effect) => this.effects.push({ from: 'batching', effect }));
        break;
      case 'sync':
        this.sync.on('*', (effect) => this.effects.push({ from: 'sync', effect }));
        break;
    }
  }

  // ── the replica's calls ─────────────────────────────────────────────────────────────────────────

  /** Starts the machines, sends again what this node signed before a restart, and begins a sync. */
  start(): void {
    if (this.started) throw new Error('the replica is already started');
    this.started = true;
    this.run(() => {
      for (const actor of [this.election, this.batching, this.sync, this.pbft] as AnyActorRef[]) {
        actor.start();
        this.checkFailure();
        this.handleEffects();
      }
      this.electionRole = this.electionState();
      // The same signed bytes as before the crash — never a second, different vote — counted again
      // here and sent again, since a torn crash may have cut their sends.
      for (const message of this.resumed) {
        const { height, round } = message.type === 'Proposal' ? message.proposal : message.vote;
        this.gossip.addOwn(message, height, round);
        this.host.broadcast(message);
        this.loopBack(message);
      }
      if (this.pbft.getSnapshot().matches('round'))
        this.host.armTimer('pbft.resend', this.config.timeouts.resendMs);
      this.enqueue({ to: 'sync', event: { type: 'SYNC_START', now: this.host.now() } });
    });
  }

  deliver(from: NodeId, message: PeerMessage): void {
    this.run(() => this.receive(from, message));
  }

  fireTimer(timer: ReplicaTimer): void {
    this.run(() => this.onTimer(timer));
  }

  /** A client's tx, signed by this node (as its API does). Answers at once: accepted, duplicate, or why not. */
  submitTx(tx: Transaction): TxOutcome {
    const submitting: { id: string; outcome: TxOutcome | null } = { id: tx.id, outcome: null };
    this.submitting = submitting;
    try {
      this.run(() =>
        this.enqueue({ to: 'batching', event: { type: 'TX_SUBMITTED', tx, verdict: this.verdictOn(tx) } }),
      );
      return submitting.outcome ?? { status: 'rejected', reason: 'not handled' };
    } finally {
      this.submitting = null;
    }
  }

  status(): ReplicaStatus {
    const election = this.election.getSnapshot().context;
    const sync = this.sync.getSnapshot();
    const syncing = !sync.matches('synced') && !sync.matches('idle');
    return {
      height: this.host.ledger.height(),
      role: `${this.electionState()}${syncing ? '+syncing' : ''}`,
      term: election.term,
      leader: election.leader,
      round: this.pbft.getSnapshot().context.round,
      poolSize: this.batching.getSnapshot().context.pool.size,
    };
  }

  // ── the step loop ───────────────────────────────────────────────────────────────────────────────

  private run(body: () => void): void {
    if (!this.started) throw new Error('the replica is not started');
    if (this.stepping) throw new Error('the replica was called re-entrantly');
    this.stepping = true;
    try {
      body();
      this.drain();
      this.flushForwards();
    } finally {
      this.stepping = false;
    }
  }

  private enqueue(work: Work): void {
    this.work.push(work);
  }

  private drain(): void {
    while (this.workHead < this.work.length) {
      const item = this.work[this.workHead++]!;
      switch (item.to) {
        case 'task':
          item.run();
          break;
        case 'election':
          this.election.send(item.event);
          break;
        case 'pbft':
          this.pbft.send(item.event);
          break;
        case 'batching':
          this.batching.send(item.event);
          break;
        case 'sync':
          this.sync.send(item.event);
          break;
      }
      this.checkFailure();
      this.handleEffects();
    }
    this.work.length = 0;
    this.workHead = 0;
  }

  private checkFailure(): void {
    if (this.failure === null) return;
    const { machine, error } = this.failure;
    const reason = error instanceof Error ? error.message : String(error);
    throw new Error(`the ${machine} machine failed: ${reason}`, { cause: error });
  }

  private handleEffects(): void {
    while (this.effectsHead < this.effects.length) {
      const e = this.effects[this.effectsHead++]!;
      // A PBFT record is written with the message signed right after it; nothing else may come first.
      if (this.pendingRecord && !(e.from === 'pbft' && e.effect.type.startsWith('pbft.broadcast'))) {
        this.persistPbftState();
      }
      switch (e.from) {
        case 'election':
          this.onElection(e.effect);
          break;
        case 'pbft':
          this.onPbft(e.effect);
          break;
        case 'batching':
          this.onBatching(e.effect);
          break;
        case 'sync':
          this.onSync(e.effect);
          break;
      }
    }
    this.effects.length = 0;
    this.effectsHead = 0;
    if (this.pendingRecord) this.persistPbftState();
  }

  private onTimer(timer: ReplicaTimer): void {
    const now = this.host.now();
    switch (timer) {
      case 'election':
        this.enqueue({ to: 'election', event: { type: 'ELECTION_TIMEOUT' } });
        return;
      case 'heartbeat':
        this.enqueue({ to: 'election', event: { type: 'HEARTBEAT_TIMEOUT' } });
        return;
      case 'leader.stall': {
        const { term, leader } = this.election.getSnapshot().context;
        if (term === this.stalledTerm && leader !== null) {
          this.enqueue({ to: 'election', event: { type: 'LEADER_STALLED', term } });
        }
        return;
      }
      case 'batch':
        this.enqueue({ to: 'batching', event: { type: 'BATCH_TIMEOUT' } });
        return;
      case 'sync.status':
        this.enqueue({ to: 'sync', event: { type: 'STATUS_TIMEOUT', now } });
        return;
      case 'sync.fetch':
        this.enqueue({ to: 'sync', event: { type: 'FETCH_TIMEOUT', now } });
        return;
      case 'pbft.resend':
        this.resendRound();
        return;
      case 'ledger':
        this.onLedgerReady();
        return;
      case 'pbft.propose':
      case 'pbft.prevote':
      case 'pbft.precommit': {
        const step =
          timer === 'pbft.propose' ? 'propose' : timer === 'pbft.prevote' ? 'prevote' : 'precommit';
        const armed = this.pbftTimers.get(step);
        if (armed === undefined) return;
        const type =
          step === 'propose'
            ? 'PROPOSE_TIMEOUT'
            : step === 'prevote'
              ? 'PREVOTE_TIMEOUT'
              : 'PRECOMMIT_TIMEOUT';
        this.enqueue({ to: 'pbft', event: { type, height: armed.height, round: armed.round } });
        return;
      }
    }
  }

  /**
   * While a round lasts, its messages go out again: whoever lost them hears that this node is there.
   * And while txs wait here, validators not seen at this height get them: a node idles until it has
   * work or hears f+1 others, so one node left alone with the txs (its forwards lost) would wait for
   * ever — the round can only end with 2f+1 of them (found by the simulator).
   */
  private resendRound(): void {
    const pbft = this.pbft.getSnapshot();
    const deciding = pbft.matches('round');
    // Decided without the block: its last message tells the peers that stored the height to send it.
    if (!deciding && !pbft.matches('committed')) return;
    const { height, round } = pbft.context;
    const own = deciding ? this.gossip.ownAt(height, round) : this.gossip.latestOwn(height);
    for (const message of own) this.host.broadcast(message);
    const { pool } = this.batching.getSnapshot().context;
    if (pool.size > 0) {
      const txs = oldestTxs(pool, this.config.batching.maxBatchTxs);
      for (const peer of this.config.validators) {
        if (peer !== this.self && !this.gossip.isActiveAt(peer, height)) this.forward(peer, txs);
      }
    }
    this.host.armTimer('pbft.resend', this.config.timeouts.resendMs);
  }

  // ── the network in ──────────────────────────────────────────────────────────────────────────────

  private receive(from: NodeId, message: PeerMessage): void {
    if (CONSENSUS.has(message.type) && !this.config.validators.includes(from)) return;
    const { networkId } = this.config;
    const now = this.host.now();
    switch (message.type) {
      case 'RequestVote':
        // Transport-authenticated: a candidate asks for itself only.
        if (message.request.candidate !== from) return;
        this.enqueue({ to: 'election', event: { type: 'REQUEST_VOTE', message: message.request } });
        return;
      case 'ElectionVote':
        if (!isValidElectionVote(message.vote, networkId, this.signatures)) {
          this.refused(from, message.type);
          return;
        }
        this.enqueue({ to: 'election', event: { type: 'VOTE', message: message.vote } });
        return;
      case 'UpdateLeader':
        if (!message.update.votes.every((v) => isValidElectionVote(v, networkId, this.signatures))) {
          this.refused(from, message.type);
          return;
        }
        this.enqueue({ to: 'election', event: { type: 'UPDATE_LEADER', message: message.update } });
        return;
      case 'Proposal':
        this.acceptProposal(from, message.proposal, message.justification);
        return;
      case 'Vote':
        if (!this.acceptVote(message.vote)) {
          this.refused(from, message.type);
          return;
        }
        if (message.vote.voter === from) this.notePeer(from, message.vote.height, message.vote.round);
        return;
      case 'Votes':
        for (const vote of message.votes) this.acceptVote(vote);
        return;
      case 'Txs':
        for (const tx of message.txs) {
          this.enqueue({
            to: 'batching',
            event: { type: 'TX_SUBMITTED', tx, verdict: this.verdictOn(tx), origin: from },
          });
        }
        return;
      case 'StatusRequest': {
        const height = this.host.ledger.height();
        if (message.height < height) this.gossip.noteSyncing(from, now);
        this.host.send(from, { type: 'Status', height });
        return;
      }
      case 'Status':
        this.enqueue({ to: 'sync', event: { type: 'PEER_STATUS', peer: from, height: message.height, now } });
        return;
      case 'BlocksRequest': {
        this.gossip.noteSyncing(from, now);
        const to = Math.min(message.to, message.from + this.config.sync.maxServedBlocks - 1);
        const blocks = this.host.ledger.range(message.from, to);
        this.host.send(from, { type: 'Blocks', requestId: message.requestId, blocks });
        return;
      }
      case 'Blocks':
        this.enqueue({
          to: 'sync',
          event: {
            type: 'BLOCKS_RECEIVED',
            peer: from,
            requestId: message.requestId,
            blocks: [...message.blocks],
            now,
          },
        });
        return;
      case 'Committed':
        if (message.block.height <= this.host.ledger.height()) return;
        if (this.storeAwaited(message.block)) return;
        this.enqueue({
          to: 'sync',
          event: { type: 'COMMITTED_ELSEWHERE', peer: from, block: message.block, cert: message.cert, now },
        });
        return;
    }
  }

  private refused(from: NodeId, type: PeerMessage['type']): void {
    this.log(`refused a ${type} from ${this.nameOf(from)}: bad signature or network`);
  }

  private acceptProposal(from: NodeId, proposal: SignedProposal, justification: readonly Vote[]): void {
    if (!isValidProposal(proposal, this.config.networkId, this.host.verifier)) {
      this.refused(from, 'Proposal');
      return;
    }
    this.gossip.addProposal(proposal, justification);
    this.storeAwaited(proposal.block);
    // The polka a re-proposal rests on: counted like any prevote (each is signed), before it.
    for (const vote of justification) {
      const backs =
        vote.type === 'prevote' &&
        vote.height === proposal.height &&
        vote.round === proposal.validRound &&
        vote.blockHash === proposal.block.seal;
      if (backs) this.acceptVote(vote);
    }
    if (this.gossip.firstDelivery(proposal.height, proposalKey(proposal))) {
      this.enqueue({ to: 'pbft', event: { type: 'PROPOSAL', proposal } });
    }
    if (proposal.proposer === from) this.notePeer(from, proposal.height, proposal.round);
  }

  /** A signed PBFT vote from anyone (its voter, or a peer relaying it): false when it does not verify. */
  private acceptVote(vote: Vote): boolean {
    const valid =
      vote.networkId === this.config.networkId &&
      this.signatures.verifyVote(vote.voter, vote.signature, () => vote);
    if (!valid) return false;
    this.gossip.addVote(vote);
    if (this.gossip.firstDelivery(vote.height, voteKey(vote)))
      this.enqueue({ to: 'pbft', event: { type: 'VOTE', vote } });
    return true;
  }

  /**
   * A validator's own message says where it is. Behind this node by a height it has stored: it gets
   * the block. In an earlier round of this height: it gets that round's votes and proposal.
   */
  private notePeer(peer: NodeId, height: number, round: number): void {
    if (peer === this.self) return;
    this.gossip.notePosition(peer, height, round);
    const now = this.host.now();
    if (this.gossip.pushDue(peer, height, now)) {
      const [entry] = this.host.ledger.range(height, height);
      if (entry !== undefined)
        this.host.send(peer, { type: 'Committed', block: entry.block, cert: entry.cert });
      return;
    }
    const ours = this.pbft.getSnapshot().context;
    if (!this.gossip.relayDue(peer, height, round, ours.height, ours.round, now)) return;
    const votes = this.gossip.votesAt(height, round);
    if (votes.length > 0) this.host.send(peer, { type: 'Votes', votes });
    for (const { proposal, justification } of this.gossip.proposalsAt(height, round)) {
      this.host.send(peer, { type: 'Proposal', proposal, justification });
    }
  }

  private verdictOn(tx: Transaction): TxVerdict {
    if (this.host.ledger.hasTx(tx.id)) return { ok: false, reason: 'already committed' };
    if (this.verifiedTxs.get(tx.id) === tx.signature) return { ok: true };
    try {
      validateTransaction(tx, this.host.verifier, this.config.limits);
    } catch (err) {
      if (err instanceof ValidationError) return { ok: false, reason: err.message };
      throw err;
    }
    if (this.verifiedTxs.size >= MAX_VERIFIED_TXS) this.verifiedTxs.clear();
    this.verifiedTxs.set(tx.id, tx.signature);
    return { ok: true };
  }

  // ── checks the machines ask for ─────────────────────────────────────────────────────────────────

  /** The PBFT isValidProposal guard: the block extends this node's chain (validateNextBlock). */
  private isValidBlock(block: Block, height: number): boolean {
    if (height !== this.host.ledger.height() + 1 || block.height !== height) return false;
    if (this.verdictHeight !== height) {
      this.verdicts.clear();
      this.verdictHeight = height;
    }
    const known = this.verdicts.get(block.seal);
    if (known !== undefined) return known;
    const problem = this.blockProblem(block, null, true);
    if (problem === NOT_YET) return false;
    if (problem !== null) this.log(`block h${height} ${block.seal.slice(0, 6)} is invalid: ${problem}`);
    this.verdicts.set(block.seal, problem === null);
    return problem === null;
  }

  /** Why `block` cannot be the next block of this chain, or null when it can. */
  private blockProblem(block: Block, cert: CommitCertificate | null, checkClock: boolean): string | null {
    const ledger = this.host.ledger;
    const stateRoot = ledger.nextStateRoot();
    if (stateRoot === null) return NOT_YET;
    if (block.stateRoot !== stateRoot) return 'stateRoot is not the state after the last block';
    try {
      validateNextBlock(block, cert, {
        networkId: this.config.networkId,
        last: ledger.last(),
        validators: this.config.validators,
        keys: this.host.verifier,
        now: checkClock ? this.host.now() : undefined,
        limits: this.config.limits,
        isCommittedTx: (id) => ledger.hasTx(id),
        verifiedTxs: this.verifiedTxs,
      });
      if (this.verifiedTxs.size > MAX_VERIFIED_TXS) this.verifiedTxs.clear();
      return null;
    } catch (err) {
      if (err instanceof ValidationError) return err.message;
      throw err;
    }
  }

  private certifiedProblem(entry: CertifiedBlock): string | null {
    return certifiedBlockProblem(entry, this.config.networkId, this.config.validators, this.host.verifier);
  }

  // ── election effects ────────────────────────────────────────────────────────────────────────────

  private onElection(effect: ElectionEffect): void {
    switch (effect.type) {
      case 'election.persist':
        this.host.persist(RECORD_KEYS.election, { term: effect.term, votedFor: effect.votedFor });
        break;
      case 'election.broadcast':
        if (effect.message.kind === 'RequestVote') {
          this.host.broadcast({ type: 'RequestVote', request: effect.message });
          this.enqueue({ to: 'election', event: { type: 'REQUEST_VOTE', message: effect.message } });
        } else {
          this.host.broadcast({ type: 'UpdateLeader', update: effect.message });
          this.enqueue({ to: 'election', event: { type: 'UPDATE_LEADER', message: effect.message } });
        }
        break;
      case 'election.send': {
        const signature = this.host.signer.sign(electionVoteSigningBytes(effect.message));
        const vote = { ...effect.message, signature };
        if (effect.to === this.self) this.enqueue({ to: 'election', event: { type: 'VOTE', message: vote } });
        else this.host.send(effect.to, { type: 'ElectionVote', vote });
        break;
      }
      case 'timer.arm':
        this.host.armTimer(
          effect.timer,
          effect.timer === 'election' ? this.randomElectionMs() : this.config.timeouts.heartbeatMs,
        );
        break;
      case 'timer.cancel':
        this.host.cancelTimer(effect.timer);
        break;
      case 'leader.updated': {
        const { term, leader } = effect;
        this.host.report({ type: 'leader.elected', term, leader });
        this.enqueue({ to: 'pbft', event: { type: 'LEADER_CHANGED', leader, term } });
        this.enqueue({ to: 'task', run: () => this.replayProposals() });
        this.enqueue({ to: 'batching', event: { type: 'LEADER_CHANGED', leader, term } });
        break;
      }
      case 'leader.deleted':
        this.host.report({ type: 'leader.lost', term: effect.term, leader: effect.leader });
        this.enqueue({ to: 'batching', event: { type: 'LEADER_CHANGED', leader: null, term: effect.term } });
        break;
    }
    const role = this.electionState();
    if (role !== this.electionRole) {
      this.log(`election: ${this.electionRole} → ${role} t${this.election.getSnapshot().context.term}`);
      this.electionRole = role;
    }
  }

  private randomElectionMs(): number {
    const { electionMinMs, electionMaxMs } = this.config.timeouts;
    return electionMinMs + Math.floor(this.host.random() * (electionMaxMs - electionMinMs + 1));
  }

  private electionState(): string {
    const value = this.election.getSnapshot().value;
    return typeof value === 'string' ? value : Object.keys(value).join('.');
  }

  /**
   * After a leader change: this height's proposals again. One the round ignored because this node had
   * not yet heard of the new leader (round 0's proposer) counts now.
   */
  private replayProposals(): void {
    const height = this.pbft.getSnapshot().context.height;
    for (const { proposal } of this.gossip.proposalsAt(height)) {
      this.enqueue({ to: 'pbft', event: { type: 'PROPOSAL', proposal } });
    }
  }

  // ── PBFT effects ────────────────────────────────────────────────────────────────────────────────

  private onPbft(effect: PbftEffect): void {
    switch (effect.type) {
      case 'pbft.persist':
        this.lastRecord = effect.record;
        this.pendingRecord = true;
        this.keepBlocksOf(effect.record);
        break;
      case 'pbft.broadcastProposal': {
        const p = effect.proposal;
        const proposal = { ...p, signature: this.host.signer.sign(proposalSigningBytes(p)) };
        const justification =
          p.validRound >= 0 ? this.gossip.polka(p.height, p.validRound, p.block.seal) : [];
        this.signAndSend({ type: 'Proposal', proposal, justification });
        break;
      }
      case 'pbft.broadcastVote':
        this.signAndSend({ type: 'Vote', vote: signVote(effect.vote, this.host.signer) });
        break;
      case 'pbft.requestBlock':
        this.blockRequest = { height: effect.height, round: effect.round };
        this.answerBlockRequest();
        break;
      case 'pbft.roundStarted':
        this.onRoundStarted(effect.height, effect.round, effect.proposer);
        break;
      case 'pbft.commit':
        this.onDecided(effect.height, effect.blockHash, effect.block, effect.certificate);
        break;
      case 'pbft.equivocation':
        this.host.report({
          type: 'equivocation',
          voter: effect.voter,
          height: effect.height,
          round: effect.round,
        });
        this.log(
          `evidence: ${this.nameOf(effect.voter)} sent two ${effect.voteType}s at h${effect.height} r${effect.round}`,
        );
        break;
      case 'pbft.peersAhead':
        this.log(`peers are at height ${effect.height}: sync`);
        this.peersAt = Math.max(this.peersAt, effect.height);
        this.enqueue({ to: 'sync', event: { type: 'SYNC_START', now: this.host.now() } });
        break;
      case 'timer.arm':
        this.pbftTimers.set(effect.timer, { height: effect.height, round: effect.round });
        this.host.armTimer(
          `pbft.${effect.timer}`,
          stepTimeoutMs(this.config.timeouts, effect.timer, effect.round),
        );
        break;
    }
  }

  /**
   * The record names a locked or valid block: its body and polka are kept with it (written with the
   * next message signed), so that a restarted node can still re-propose it, justified.
   */
  private keepBlocksOf(record: PbftRecord): void {
    const wanted: { seal: string; round: number }[] = [];
    if (record.lockedBlockHash !== null)
      wanted.push({ seal: record.lockedBlockHash, round: record.lockedRound });
    if (record.validBlockHash !== null && record.validBlockHash !== record.lockedBlockHash) {
      wanted.push({ seal: record.validBlockHash, round: record.validRound });
    }
    const unchanged =
      wanted.length === this.kept.length &&
      wanted.every((w, i) => this.kept[i]?.block.seal === w.seal && this.kept[i]?.round === w.round);
    if (unchanged) return;
    const entries: KeptBlock[] = [];
    for (const { seal, round } of wanted) {
      const block = this.blockBySeal(seal);
      if (block !== null)
        entries.push({ block, round, prevotes: this.gossip.polka(record.height, round, seal) });
    }
    this.kept = entries;
  }

  /** The PBFT record, what this node signed in its round, and the kept blocks: one write. */
  private persistPbftState(): void {
    const record = this.lastRecord;
    if (record === null) return;
    this.pendingRecord = false;
    const signed = [...this.gossip.ownAt(record.height, record.round)];
    this.host.persist(RECORD_KEYS.pbft, { record, signed, kept: this.kept });
  }

  private blockBySeal(seal: string): Block | null {
    return (
      this.gossip.blockBySeal(seal) ?? this.kept.find((entry) => entry.block.seal === seal)?.block ?? null
    );
  }

  /** Records what this node signs in its round (before it leaves), sends it, and counts it here. */
  private signAndSend(message: OwnSigned): void {
    const { height, round } = message.type === 'Proposal' ? message.proposal : message.vote;
    this.gossip.addOwn(message, height, round);
    this.persistPbftState();
    this.host.broadcast(message);
    this.loopBack(message);
  }

  private loopBack(message: OwnSigned): void {
    if (message.type === 'Proposal') {
      this.gossip.addProposal(message.proposal, message.justification);
      if (this.gossip.firstDelivery(message.proposal.height, proposalKey(message.proposal))) {
        this.enqueue({ to: 'pbft', event: { type: 'PROPOSAL', proposal: message.proposal } });
      }
    } else {
      this.gossip.addVote(message.vote);
      if (this.gossip.firstDelivery(message.vote.height, voteKey(message.vote))) {
        this.enqueue({ to: 'pbft', event: { type: 'VOTE', vote: message.vote } });
      }
    }
  }

  private onRoundStarted(height: number, round: number, proposer: NodeId): void {
    this.host.report({ type: 'round.started', height, round, proposer });
    this.log(`round h${height} r${round}, proposer ${this.nameOf(proposer)}`);
    this.host.armTimer('pbft.resend', this.config.timeouts.resendMs);
    const batching = this.batching.getSnapshot().context;
    // Whoever proposes now gets the txs that wait here, unless batching already sends it every tx.
    if (proposer !== this.self && batching.pool.size > 0 && (round > 0 || proposer !== batching.leader)) {
      this.forward(proposer, oldestTxs(batching.pool, this.config.batching.maxBatchTxs));
    }
    const { term, leader } = this.election.getSnapshot().context;
    if (round === 0) {
      this.roundZero = { height, proposer, term };
      return;
    }
    // Round 0 failed: the leader's batch goes back to the pool. If the leader this node follows had
    // round 0, it is suspected of stalling: after a random pause (so that not every node stands at
    // once and splits the vote) the election replaces it, once per term.
    if (batching.batchInFlight !== null) {
      this.enqueue({ to: 'batching', event: { type: 'BATCH_FAILED', batchId: batching.batchInFlight } });
    }
    const r0 = this.roundZero;
    const ledByIt = r0 !== null && r0.height === height && r0.proposer === leader && r0.term === term;
    if (leader !== null && leader !== this.self && ledByIt && term !== this.stalledTerm) {
      this.stalledTerm = term;
      const { electionMinMs, electionMaxMs } = this.config.timeouts;
      this.host.armTimer(
        'leader.stall',
        Math.floor(this.host.random() * (electionMaxMs - electionMinMs + 1)),
      );
    }
  }

  /**
   * Gives PBFT the block it asked for once there is one: the leader's batch (cut by the batching
   * machine on maxBatchTxs or batchIntervalMs); for a proposer that is not the batching leader, the
   * oldest txs of its pool. A proposer with nothing to propose waits for txs (or for its timeout).
   */
  private answerBlockRequest(): void {
    const request = this.blockRequest;
    if (request === null) return;
    const { height, round, lastSigned } = this.pbft.getSnapshot().context;
    if (height !== request.height || round !== request.round || lastSigned !== 'none') {
      this.blockRequest = null;
      return;
    }
    const batching = this.batching.getSnapshot();
    const { pool, batchInFlight } = batching.context;
    let txs: Transaction[];
    if (batchInFlight !== null) txs = proposedTxs(pool);
    else if (batching.matches('leading')) return;
    else txs = oldestTxs(pool, this.config.batching.maxBatchTxs);
    if (txs.length === 0) return;
    const block = this.nextBlock(txs);
    if (block === null) return;
    this.blockRequest = null;
    this.enqueue({ to: 'pbft', event: { type: 'BLOCK_READY', block } });
  }

  /** The next block with these txs (those not committed yet), or null while the state root is unknown. */
  private nextBlock(candidates: readonly Transaction[]): Block | null {
    const ledger = this.host.ledger;
    const last = ledger.last();
    const stateRoot = ledger.nextStateRoot();
    if (stateRoot === null) return null;
    return buildBlock({
      height: last.height + 1,
      prevSeal: last.seal,
      stateRoot,
      timestamp: Math.max(Math.floor(this.host.now()), last.timestamp),
      creator: this.self,
      txs: candidates.filter((tx) => !ledger.hasTx(tx.id)),
    });
  }

  /** PBFT decided `blockHash` at `height`: store it, or fetch it when this node never got the block. */
  private onDecided(height: number, blockHash: string, decided: Block | null, cert: CommitCertificate): void {
    const ledger = this.host.ledger;
    if (height <= ledger.height()) {
      // Sync was first. The next height starts now, or when the ledger has run that block (held).
      if (!this.ledgerBusy)
        this.enqueue({ to: 'pbft', event: { type: 'START_HEIGHT', height: ledger.height() + 1 } });
      return;
    }
    const block = decided ?? this.blockBySeal(blockHash);
    const problem =
      block === null
        ? 'the block never arrived'
        : block.seal !== blockHash
          ? 'another block'
          : this.blockProblem(block, null, false);
    if (block !== null && problem === null) {
      this.store(block, cert, 'consensus');
      return;
    }
    // 2f+1 validators precommitted it, so they have the block: it is stored when it arrives — re-sent
    // by its proposer, pushed by a peer that stored it (resendRound tells them), or synced. PBFT waits
    // in `committed` until then.
    this.log(`decided h${height} ${blockHash.slice(0, 6)} but cannot store it (${problem}): waiting for it`);
    this.awaiting = { height, blockHash, cert };
    this.peersAt = Math.max(this.peersAt, height + 1);
    this.enqueue({ to: 'sync', event: { type: 'SYNC_START', now: this.host.now() } });
  }

  /** The block PBFT decided has arrived: stored with this node's own certificate. */
  private storeAwaited(block: Block): boolean {
    const awaited = this.awaiting;
    if (awaited === null || block.height !== awaited.height || block.seal !== awaited.blockHash) return false;
    if (block.height !== this.host.ledger.height() + 1 || this.blockProblem(block, null, false) !== null)
      return false;
    this.store(block, awaited.cert, 'consensus');
    return true;
  }

  // ── storing a block (both ways in) ──────────────────────────────────────────────────────────────

  private store(block: Block, cert: CommitCertificate, via: 'consensus' | 'sync'): void {
    const now = this.host.now();
    this.host.ledger.append(block, cert);
    const ready = this.host.ledger.nextStateRoot() !== null;
    this.gossip.storedHeight(block.height, now);
    this.kept = [];
    this.awaiting = null;
    const committed: ReplicaReport = { type: 'block.committed', block, cert, via };
    if (ready) this.host.report(committed);
    else this.heldReports.push(committed);
    for (const peer of this.gossip.syncingPeers(now))
      this.host.send(peer, { type: 'Committed', block, cert });
    const height = block.height;
    if (via === 'consensus') this.enqueue({ to: 'sync', event: { type: 'BLOCK_COMMITTED', height, now } });
    const txIds = block.txs.map((tx) => tx.id);
    this.enqueue({ to: 'batching', event: { type: 'BLOCK_COMMITTED', height, txIds } });
    this.enqueue({ to: 'election', event: { type: 'BLOCK_COMMITTED', height } });
    if (ready) {
      this.startNextHeight();
    } else {
      this.heldAdvance = true;
      this.awaitLedger();
    }
  }

  /** PBFT decides the height after the ledger's last block, at once if txs wait. */
  private startNextHeight(): void {
    this.enqueue({ to: 'pbft', event: { type: 'START_HEIGHT', height: this.host.ledger.height() + 1 } });
    this.enqueue({
      to: 'task',
      run: () => {
        if (this.batching.getSnapshot().context.pool.size > 0) {
          this.enqueue({ to: 'pbft', event: { type: 'TXS_WAITING' } });
        }
      },
    });
  }

  /** Arms the 'ledger' timer once the ledger knows the next state root (see A LEDGER THAT RUNS TXS LATER). */
  private awaitLedger(): void {
    if (this.ledgerBusy) return;
    this.ledgerBusy = true;
    const ready = this.host.ledger.whenReady?.();
    if (ready === undefined) throw new Error('the ledger has no state root yet and no whenReady()');
    void ready.then(() => this.host.armTimer('ledger', 0));
  }

  /** The ledger has run the last block: what waited for it goes on, in the order it happened. */
  private onLedgerReady(): void {
    if (!this.ledgerBusy) return;
    this.ledgerBusy = false;
    if (this.host.ledger.nextStateRoot() === null) {
      this.awaitLedger();
      return;
    }
    for (const report of this.heldReports.splice(0)) this.host.report(report);
    const synced = this.heldSync;
    this.heldSync = null;
    // The next synced block first: if it is stored, the ledger is busy again and the next height waits.
    if (synced !== null) this.applySynced(synced.block, synced.cert);
    if (!this.ledgerBusy && this.heldAdvance) {
      this.heldAdvance = false;
      this.startNextHeight();
    }
  }

  // ── batching effects ────────────────────────────────────────────────────────────────────────────

  private onBatching(effect: BatchingEffect): void {
    switch (effect.type) {
      case 'tx.accepted':
        this.answerSubmit(effect.id, { status: 'accepted' });
        this.host.report({ type: 'tx.admitted', id: effect.id, origin: effect.origin });
        break;
      case 'tx.duplicate':
        this.answerSubmit(effect.id, { status: 'duplicate' });
        this.host.report({ type: 'tx.duplicate', id: effect.id, origin: effect.origin });
        break;
      case 'tx.rejected':
        this.answerSubmit(effect.id, { status: 'rejected', reason: effect.reason });
        this.host.report({
          type: 'tx.rejected',
          id: effect.id,
          reason: effect.reason,
          origin: effect.origin,
        });
        break;
      case 'tx.forward':
        this.forward(effect.to, effect.txs);
        break;
      case 'batch.ready':
        this.offerBatch();
        break;
      case 'pool.changed':
        this.answerBlockRequest();
        break;
      case 'work.pending':
        this.enqueue({ to: 'pbft', event: { type: 'TXS_WAITING' } });
        break;
      case 'work.done':
        break;
      case 'timer.arm':
        this.host.armTimer('batch', effect.ms);
        break;
      case 'timer.cancel':
        this.host.cancelTimer('batch');
        break;
    }
  }

  /**
   * A batch was cut. PBFT takes it when it asked for a block, or when it is idle and this node
   * proposes its round (BLOCK_READY then starts the round); otherwise it waits in flight.
   */
  private offerBatch(): void {
    if (this.blockRequest !== null) {
      this.answerBlockRequest();
      return;
    }
    const { pool, batchInFlight } = this.batching.getSnapshot().context;
    if (batchInFlight === null || !this.pbft.getSnapshot().matches('idle')) return;
    const txs = proposedTxs(pool);
    const block = txs.length > 0 ? this.nextBlock(txs) : null;
    if (block !== null) this.enqueue({ to: 'pbft', event: { type: 'BLOCK_READY', block } });
  }

  private forward(to: NodeId, txs: readonly Transaction[]): void {
    let pending = this.forwards.get(to);
    if (pending === undefined) {
      pending = { txs: [], ids: new Set() };
      this.forwards.set(to, pending);
    }
    for (const tx of txs) {
      if (pending.ids.has(tx.id)) continue;
      pending.ids.add(tx.id);
      pending.txs.push(tx);
    }
  }

  private flushForwards(): void {
    for (const [to, { txs }] of this.forwards) this.host.send(to, { type: 'Txs', txs });
    this.forwards.clear();
  }

  private answerSubmit(id: string, outcome: TxOutcome): void {
    if (this.submitting?.id === id && this.submitting.outcome === null) this.submitting.outcome = outcome;
  }

  // ── sync effects ────────────────────────────────────────────────────────────────────────────────

  private onSync(effect: SyncEffect): void {
    switch (effect.type) {
      case 'status.request':
        this.host.broadcast({ type: 'StatusRequest', height: this.host.ledger.height() });
        break;
      case 'blocks.request':
        this.host.send(effect.peer, {
          type: 'BlocksRequest',
          requestId: effect.requestId,
          from: effect.from,
          to: effect.to,
        });
        break;
      case 'block.apply':
        this.applySynced(effect.block, effect.cert);
        break;
      case 'sync.started':
        if (effect.target > effect.height) this.log(`sync: from height ${effect.height} to ${effect.target}`);
        this.host.report({ type: 'sync.started', height: effect.height, target: effect.target });
        break;
      case 'sync.progress': {
        const { type: _, ...progress } = effect;
        this.host.report({ type: 'sync.progress', ...progress });
        break;
      }
      case 'sync.completed':
        this.host.report({ type: 'sync.completed', height: effect.height });
        // Every answer lost, or every peer dropped: still behind the height f+1 validators are at,
        // so ask again (each attempt waits a status timeout for answers).
        if (this.host.ledger.height() < this.peersAt - 1) {
          this.enqueue({ to: 'sync', event: { type: 'SYNC_START', now: this.host.now() } });
        }
        break;
      case 'peer.dropped':
        this.log(`sync: dropped ${this.nameOf(effect.peer)}: ${effect.reason}`);
        break;
      case 'timer.arm':
        this.host.armTimer(effect.timer === 'status' ? 'sync.status' : 'sync.fetch', effect.ms);
        break;
      case 'timer.cancel':
        this.host.cancelTimer(effect.timer === 'status' ? 'sync.status' : 'sync.fetch');
        break;
    }
  }

  private applySynced(block: Block, cert: CommitCertificate): void {
    const now = this.host.now();
    const height = this.host.ledger.height();
    if (block.height <= height) {
      this.enqueue({ to: 'sync', event: { type: 'BLOCK_APPLIED', height: block.height, now } });
      return;
    }
    if (block.height === height + 1 && this.ledgerBusy) {
      this.heldSync = { block, cert }; // checked against the state root once the ledger knows it
      return;
    }
    const problem =
      block.height !== height + 1
        ? `height ${block.height} does not follow ${height}`
        : this.blockProblem(block, cert, false);
    if (problem !== null) {
      this.enqueue({
        to: 'sync',
        event: { type: 'BLOCK_APPLY_FAILED', height: block.height, reason: problem, now },
      });
      return;
    }
    this.store(block, cert, 'sync');
    this.enqueue({ to: 'sync', event: { type: 'BLOCK_APPLIED', height: block.height, now } });
  }

  // ── logs ────────────────────────────────────────────────────────────────────────────────────────

  private nameOf(id: NodeId): string {
    return this.config.nameOf?.(id) ?? id.slice(0, 6);
  }

  private log(text: string): void {
    this.host.report({ type: 'log', text });
  }
}
