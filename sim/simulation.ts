import { hashOf } from '../domain/hash.ts';
import type { NodeId, Signer } from '../domain/identity.ts';
import { signTransaction, type Transaction } from '../domain/transaction.ts';
import { ByzantineAdversary, type ByzantineContext } from './byzantine.ts';
import { TimerTable, VirtualClock } from './clock.ts';
import { EventQueue } from './event-queue.ts';
import {
  type AgreedBlock,
  InvariantChecker,
  type InvariantName,
  type LivenessProbe,
  type Violation,
} from './invariants.ts';
import { Network, type NetworkStats } from './network.ts';
import { Random } from './random.ts';
import type { CommitReport, Replica, ReplicaHost, ReplicaStatus, Wiring } from './replica.ts';
import { defineScenario, type Scenario, type ScenarioInput } from './scenario.ts';
import { SimKeys } from './sim-signer.ts';
import { short, Trace } from './trace.ts';

// The run loop: takes the next event off the queue (a message arriving, a timer, a crash, a
// partition forming or healing, a client submitting a tx), advances virtual time to it, steps the
// replica it concerns, and lets the checker look at what the replica reported. Everything random
// comes from streams forked off the seed, so runSimulation(scenario, seed, wiring) is a pure
// function: the same arguments give the same trace, to the byte (see `traceHash`).

export interface SimulationOptions {
  /** Trace lines kept in memory (the result's `trace`). Default 200; Infinity keeps them all. */
  traceLimit?: number;
  /** Trace lines attached to each violation. Default 60. */
  violationTraceLines?: number;
  /** Stop at the first violation (default), or run on and collect them all. */
  stopOnViolation?: boolean;
  /** A safety net against a replica that floods the queue. Default 5,000,000 steps. */
  maxSteps?: number;
  /** Steps allowed at one virtual instant before the run counts as stuck. Default 100,000. */
  maxStepsWithoutTime?: number;
  networkId?: string;
  /** Epoch milliseconds of virtual time 0 (timestamps of txs and blocks). */
  epochMs?: number;
}

export interface NodeSummary {
  name: string;
  id: NodeId;
  honest: boolean;
  up: boolean;
  /** The replica's own status at the end (null when down). */
  status: ReplicaStatus | null;
}

export interface SimulationStats {
  network: NetworkStats;
  timersFired: number;
  txsSubmitted: number;
  /** Submissions to a node that was down at the time (a client would get "connection refused"). */
  txsRefused: number;
  crashes: number;
  restarts: number;
  byzantineRewrites: number;
}

export interface SimulationResult {
  scenario: string;
  seed: number;
  wiring: string;
  /** Highest height each node committed (honest nodes; Byzantine ones show 0). */
  committedHeights: number[];
  /** The blocks honest nodes agreed on, by height. */
  blocks: AgreedBlock[];
  violations: Violation[];
  virtualTimeMs: number;
  steps: number;
  /** The last `traceLimit` trace lines. */
  trace: string[];
  /** SHA-256 of the whole trace: equal for equal runs. */
  traceHash: string;
  liveness: (LivenessProbe & { checked: boolean }) | null;
  nodes: NodeSummary[];
  stats: SimulationStats;
}

/** The node ID of simulated node i: 40 hex characters like a real one, derived from the index. */
export function simNodeId(index: number): NodeId {
  return hashOf({ domain: 'itchain/sim/node', index }).slice(0, 40);
}

type SimEvent<M> =
  | { kind: 'deliver'; from: number; to: number; incarnation: number; message: M }
  | { kind: 'timer'; node: number; timerId: string; token: number; incarnation: number }
  | { kind: 'crash'; crash: number }
  | { kind: 'restart'; crash: number }
  | { kind: 'partition'; index: number; heal: boolean }
  | { kind: 'link'; index: number; heal: boolean }
  | { kind: 'submit'; to: number | 'random' }
  | { kind: 'heal' }
  | { kind: 'liveness' };

interface SimNode<M extends object> {
  readonly index: number;
  readonly id: NodeId;
  readonly name: string;
  readonly honest: boolean;
  readonly signer: Signer;
  readonly adversary: ByzantineAdversary<M> | null;
  readonly disk: Map<string, unknown>;
  readonly timers: TimerTable;
  up: boolean;
  incarnation: number;
  replica: Replica<M> | null;
  random: Random;
  /** A torn crash waiting for the node's next step (the scenario's crash index). */
  tornCrash: number | null;
  /** Sends, writes and timer changes still allowed in the current, torn step (Infinity when not torn). */
  effectBudget: number;
  /** Set once a torn step refused an effect: from then on nothing it does happens, reports included. */
  cut: boolean;
}

const DEFAULT_EPOCH_MS = Date.UTC(2025, 0, 1);

/** Freezes a message and everything in it, so no replica can change a value another one holds. */
function deepFreeze(value: unknown): void {
  if (typeof value !== 'object' || value === null || Object.isFrozen(value)) return;
  Object.freeze(value);
  for (const key of Object.keys(value)) deepFreeze((value as Record<string, unknown>)[key]);
}

class Simulation<M extends object> {
  private readonly scenario: Scenario;
  private readonly queue = new EventQueue<SimEvent<M>>();
  private readonly clock = new VirtualClock();
  private readonly root: Random;
  private readonly txTargets: Random;
  /** Where a torn crash cuts a step: its own stream, so tearing does not shift a replica's draws. */
  private readonly tears: Random;
  private readonly network: Network;
  private readonly keys: SimKeys;
  private readonly nodes: SimNode<M>[];
  private readonly byId = new Map<NodeId, SimNode<M>>();
  private readonly checker: InvariantChecker;
  private readonly trace: Trace;
  private readonly violations: Violation[] = [];
  private readonly networkId: string;
  private readonly epochMs: number;
  /** Which node each scenario crash took down (resolves 'leader'); null if none was. */
  private readonly crashedNode: (number | null)[];
  private steps = 0;
  private nextToken = 0;
  private txCount = 0;
  private endTime: number;
  private livenessChecked = false;
  private readonly stats = { timersFired: 0, txsSubmitted: 0, txsRefused: 0, crashes: 0, restarts: 0 };

  constructor(
    scenario: Scenario,
    private readonly seed: number,
    private readonly wiring: Wiring<M>,
    private readonly options: Required<SimulationOptions>,
  ) {
    this.scenario = scenario;
    this.root = Random.fromSeed(seed);
    this.txTargets = this.root.fork('txs');
    this.tears = this.root.fork('torn-crashes');
    this.networkId = options.networkId;
    this.epochMs = options.epochMs;
    this.trace = new Trace(Math.max(options.traceLimit, options.violationTraceLines));
    this.endTime = scenario.durationMs;
    this.crashedNode = scenario.crashes.map(() => null);

    const ids = Array.from({ length: scenario.nodes }, (_, i) => simNodeId(i));
    this.keys = new SimKeys(ids, `itchain-sim/${this.networkId}`);
    const behaviours = new Map(scenario.byzantine.map((b) => [b.node, b.behaviours]));
    this.nodes = ids.map((id, index) => {
      const name = `n${index}`;
      const signer = this.keys.signerFor(id);
      const byz = behaviours.get(index);
      const adversary =
        byz === undefined
          ? null
          : new ByzantineAdversary<M>(
              byz,
              wiring.byzantine ?? {},
              this.byzantineContext(id, name, signer, ids),
            );
      return {
        index,
        id,
        name,
        honest: byz === undefined,
        signer,
        adversary,
        disk: new Map(),
        timers: new TimerTable(),
        up: false,
        incarnation: 0,
        replica: null,
        random: this.root.fork(`node/${name}/0`),
        tornCrash: null,
        effectBudget: Number.POSITIVE_INFINITY,
        cut: false,
      };
    });
    for (const node of this.nodes) this.byId.set(node.id, node);

    this.network = new Network(scenario.nodes, scenario.network, this.root, (i) => `n${i}`);
    this.checker = new InvariantChecker(
      {
        nodes: this.nodes.map((n) => ({ id: n.id, name: n.name, honest: n.honest })),
        networkId: this.networkId,
        certificates: wiring.certifiesCommits ? this.keys : null,
        livenessBoundMs: scenario.livenessBoundMs,
      },
      (invariant, message) => this.fail(invariant, message),
    );
  }

  private byzantineContext(
    id: NodeId,
    name: string,
    signer: Signer,
    ids: readonly NodeId[],
  ): ByzantineContext {
    const random = this.root.fork(`byzantine/${name}`);
    let invented = 0;
    return {
      self: id,
      nodes: ids,
      signer,
      random,
      now: () => this.clock.now(),
      randomHash: () => random.hex(64),
      inventTx: () => {
        invented += 1;
        const tx = this.makeTx(id, signer, `byz-${name}-${invented}`, `${name}-invented-${invented}`);
        this.checker.txSubmitted(tx.id);
        return tx;
      },
    };
  }

  /** A kv put signed by its accepting node; `key` tells client txs and invented ones apart. */
  private makeTx(signerId: NodeId, signer: Signer, nonce: string, key: string): Transaction {
    return signTransaction(
      {
        kind: 'invoke',
        icodeId: 'kv',
        function: 'put',
        args: [key, `value of ${key}`],
        timestamp: this.epochMs + Math.floor(this.clock.now()),
        signer: signerId,
        nonce,
      },
      signer,
    );
  }

  // ---- scheduling the scenario -------------------------------------------------------------------

  private schedule(): void {
    const s = this.scenario;
    s.crashes.forEach((c, crash) => {
      this.queue.push(c.at, { kind: 'crash', crash });
      if (c.restartAt !== null) this.queue.push(c.restartAt, { kind: 'restart', crash });
    });
    s.partitions.forEach((p, index) => {
      this.queue.push(p.from, { kind: 'partition', index, heal: false });
      this.queue.push(p.until, { kind: 'partition', index, heal: true });
    });
    s.linkBlocks.forEach((b, index) => {
      this.queue.push(b.at, { kind: 'link', index, heal: false });
      this.queue.push(b.until, { kind: 'link', index, heal: true });
    });
    for (const t of s.txs) {
      for (let i = 0; i < t.count; i++)
        this.queue.push(t.at + i * t.intervalMs, { kind: 'submit', to: t.to });
    }
    // Last among the events at healAt, so the faults that end then have ended when it runs.
    this.queue.push(s.healAt, { kind: 'heal' });
  }

  // ---- the loop ----------------------------------------------------------------------------------

  run(): SimulationResult {
    this.record(`start ${this.wiring.name}: ${this.scenario.name}, seed ${this.seed}`);
    for (const node of this.nodes) this.start(node);
    this.schedule();
    let lastTime = 0;
    let stepsAtTime = 0;
    for (;;) {
      if (this.violations.length > 0 && this.options.stopOnViolation) break;
      const item = this.queue.pop();
      if (item === undefined) {
        this.clock.advanceTo(Math.max(this.clock.now(), this.endTime));
        break;
      }
      if (item.time > this.endTime) {
        this.clock.advanceTo(this.endTime);
        break;
      }
      // Events at the end time itself still run (the liveness check among them).
      this.clock.advanceTo(item.time);
      if (!this.handle(item.event)) continue;
      if (item.time === lastTime) stepsAtTime += 1;
      else {
        lastTime = item.time;
        stepsAtTime = 0;
      }
      if (stepsAtTime > this.options.maxStepsWithoutTime) {
        this.fail('no-progress', `${stepsAtTime} steps at ${item.time}ms without virtual time moving`);
        break;
      }
      if (this.steps >= this.options.maxSteps) {
        this.fail('no-progress', `${this.steps} steps, the limit, by ${item.time}ms`);
        break;
      }
    }
    return this.result();
  }

  /** Handles one event; false when it was a no-op (a cancelled timer) and is not a step. */
  private handle(event: SimEvent<M>): boolean {
    switch (event.kind) {
      case 'deliver':
        return this.deliver(event);
      case 'timer':
        return this.fireTimer(event);
      case 'crash':
        this.steps += 1;
        this.crash(event.crash);
        return true;
      case 'restart':
        this.steps += 1;
        this.restart(event.crash);
        return true;
      case 'partition': {
        this.steps += 1;
        const p = this.scenario.partitions[event.index]!;
        const groups = p.groups.map((g) => g.map((n) => `n${n}`).join(' ')).join(' | ');
        if (event.heal) this.network.heal(event.index);
        else this.network.partition(event.index, p.groups);
        this.record(`${event.heal ? 'partition heals' : 'partition'}: ${groups}`);
        return true;
      }
      case 'link': {
        this.steps += 1;
        const b = this.scenario.linkBlocks[event.index]!;
        if (event.heal) this.network.unblockLink(b.from, b.to);
        else this.network.blockLink(b.from, b.to);
        this.record(`link n${b.from}→n${b.to} ${event.heal ? 'restored' : 'blocked'}`);
        return true;
      }
      case 'submit':
        this.steps += 1;
        this.submit(event.to);
        return true;
      case 'heal':
        this.steps += 1;
        this.network.setFaults({ ...this.scenario.network, dropRate: 0, duplicateRate: 0 });
        this.record('heal: every fault has ended; the network stops losing and duplicating');
        return true;
      case 'liveness':
        this.steps += 1;
        this.livenessChecked = true;
        this.record('liveness deadline');
        this.checker.checkLiveness(
          (i) => this.nodes[i]!.up,
          (i) => this.statusOf(this.nodes[i]!),
        );
        return true;
    }
  }

  private deliver(event: Extract<SimEvent<M>, { kind: 'deliver' }>): boolean {
    this.steps += 1;
    const to = this.nodes[event.to]!;
    const from = this.nodes[event.from]!;
    if (!to.up || to.incarnation !== event.incarnation) {
      this.network.noteDropped('crashed');
      this.record(`drop ${from.name}→${to.name} (crashed) ${this.describe(event.message)}`);
      return true;
    }
    if (event.from !== event.to) {
      const cut = this.network.cut(event.from, event.to);
      if (cut !== null) {
        this.network.noteDropped(cut);
        this.record(`drop ${from.name}→${to.name} (${cut} on arrival) ${this.describe(event.message)}`);
        return true;
      }
    }
    this.network.noteDelivered();
    this.record(`${to.name} ← ${from.name} ${this.describe(event.message)}`);
    this.step(to, (replica) => replica.deliver(from.id, event.message));
    return true;
  }

  private fireTimer(event: Extract<SimEvent<M>, { kind: 'timer' }>): boolean {
    const node = this.nodes[event.node]!;
    if (!node.up || node.incarnation !== event.incarnation) return false;
    if (!node.timers.take(event.timerId, event.token)) return false;
    this.steps += 1;
    this.stats.timersFired += 1;
    this.record(`${node.name} timer ${event.timerId}`);
    this.step(node, (replica) => replica.fireTimer(event.timerId));
    return true;
  }

  private submit(target: number | 'random'): void {
    const index = target === 'random' ? this.txTargets.int(0, this.nodes.length - 1) : target;
    const node = this.nodes[index]!;
    if (!node.up) {
      this.stats.txsRefused += 1;
      this.record(`client → ${node.name}: refused, node is down`);
      return;
    }
    const k = this.txCount++;
    const tx = this.makeTx(node.id, node.signer, `sim-${this.seed}-${k}`, `key${k}`);
    this.stats.txsSubmitted += 1;
    this.checker.txSubmitted(tx.id);
    this.record(`client → ${node.name} tx ${short(tx.id)}`);
    // By time, not by the heal event: a tx submitted at healAt itself is already a probe.
    if (this.clock.now() >= this.scenario.healAt && node.honest) {
      const deadline = this.checker.startLiveness(tx.id, index, this.clock.now());
      if (deadline !== null) {
        this.record(`liveness: every honest node must commit tx ${short(tx.id)} by ${deadline}ms`);
        this.queue.push(deadline, { kind: 'liveness' });
        this.endTime = Math.max(this.endTime, deadline);
      }
    }
    this.step(node, (replica) => replica.submitTx(tx));
  }

  // ---- node life ---------------------------------------------------------------------------------

  /** Steps one replica, turning a throw into a violation and landing a pending torn crash. */
  private step(node: SimNode<M>, call: (replica: Replica<M>) => void): void {
    const replica = node.replica;
    if (replica === null) return;
    const torn = node.tornCrash;
    const budget = torn === null ? Number.POSITIVE_INFINITY : this.tears.int(0, 7);
    node.effectBudget = budget;
    try {
      call(replica);
    } catch (err) {
      this.fail('replica-error', `${node.name} threw: ${errorText(err)}`);
    }
    if (torn !== null) {
      const kept = node.cut
        ? `only the first ${budget} effects of that step happened`
        : 'its step had fewer effects';
      this.record(`${node.name} torn crash: ${kept}`);
      node.effectBudget = Number.POSITIVE_INFINITY;
      node.cut = false;
      node.tornCrash = null;
      this.takeDown(node, torn);
    }
  }

  private start(node: SimNode<M>): void {
    node.up = true;
    node.random = this.root.fork(`node/${node.name}/${node.incarnation}`);
    const records = new Map<string, unknown>();
    for (const [key, value] of node.disk) records.set(key, structuredClone(value));
    try {
      node.replica = this.wiring.create({
        nodeId: node.id,
        name: node.name,
        validators: this.nodes.map((n) => n.id),
        networkId: this.networkId,
        epochMs: this.epochMs,
        signer: node.signer,
        verifier: this.keys,
        disk: { records, incarnation: node.incarnation },
        host: this.hostFor(node, node.incarnation),
      });
    } catch (err) {
      node.replica = null;
      this.fail('replica-error', `${node.name} could not start: ${errorText(err)}`);
    }
  }

  private crash(crash: number): void {
    const spec = this.scenario.crashes[crash]!;
    const index = spec.node === 'leader' ? this.checker.currentLeader() : spec.node;
    if (index === null) {
      this.record('crash leader: no leader reported yet, nothing to crash');
      return;
    }
    const node = this.nodes[index]!;
    if (!node.up || node.tornCrash !== null) {
      this.record(`crash ${node.name}: already down`);
      return;
    }
    this.crashedNode[crash] = index;
    if (spec.torn) {
      node.tornCrash = crash;
      this.record(`${node.name} will crash inside its next step (torn)`);
      return;
    }
    this.takeDown(node, crash);
  }

  private takeDown(node: SimNode<M>, crash: number): void {
    const status = this.statusOf(node);
    this.checker.crashed(node.index);
    node.up = false;
    node.replica = null;
    node.timers.clear();
    node.incarnation += 1;
    this.stats.crashes += 1;
    this.crashedNode[crash] = node.index;
    this.record(`${node.name} crashes${status ? ` at height ${status.height}` : ''}`);
  }

  private restart(crash: number): void {
    const index = this.crashedNode[crash];
    if (index === null || index === undefined) return;
    const node = this.nodes[index]!;
    if (node.tornCrash === crash) {
      // The node took no step since the torn crash was due: it goes down cleanly now.
      node.tornCrash = null;
      this.takeDown(node, crash);
    }
    if (node.up) return;
    this.stats.restarts += 1;
    this.start(node);
    const status = this.statusOf(node);
    this.record(
      `${node.name} restarts (incarnation ${node.incarnation})${status ? ` at height ${status.height}` : ''}`,
    );
    if (status === null) return;
    const seen = this.checker.heightOf(node.index);
    if (node.honest && status.height > seen) {
      this.record(
        `${node.name} restored height ${status.height}, above the ${seen} it reported: a crash cut the reports`,
      );
    }
    this.checker.restarted(node.index, status);
  }

  private statusOf(node: SimNode<M>): ReplicaStatus | null {
    if (node.replica === null) return null;
    try {
      return node.replica.status();
    } catch (err) {
      this.fail('replica-error', `${node.name} status() threw: ${errorText(err)}`);
      return null;
    }
  }

  // ---- the host a replica sees -------------------------------------------------------------------

  private hostFor(node: SimNode<M>, incarnation: number): ReplicaHost<M> {
    // Whether a host call takes effect: the incarnation must be alive, and in a torn step nothing
    // happens after the first refused effect. Reports (commit, leader, log) use no budget, so a
    // report right after the writes it describes survives exactly when they do.
    const live = (): boolean => {
      if (!node.up || node.incarnation !== incarnation || node.cut) return false;
      if (node.effectBudget <= 0) {
        node.cut = true;
        return false;
      }
      node.effectBudget -= 1;
      return true;
    };
    const reporting = (): boolean => node.up && node.incarnation === incarnation && !node.cut;
    return {
      send: (to, message) => {
        if (!live()) return;
        const target = this.byId.get(to);
        if (target === undefined) throw new Error(`send to unknown node ${to}`);
        this.send(node, [target.id], message, target.name);
      },
      broadcast: (message) => {
        if (!live()) return;
        const others = this.nodes.filter((n) => n !== node).map((n) => n.id);
        this.send(node, others, message, '*');
      },
      armTimer: (timerId, ms) => {
        if (!live()) return;
        if (!(ms >= 0 && Number.isFinite(ms))) throw new RangeError(`timer ${timerId}: ${ms} ms`);
        const token = this.nextToken++;
        node.timers.arm(timerId, token);
        this.queue.push(this.clock.now() + ms, {
          kind: 'timer',
          node: node.index,
          timerId,
          token,
          incarnation,
        });
      },
      cancelTimer: (timerId) => {
        if (!live()) return;
        node.timers.cancel(timerId);
      },
      persist: (key, value) => {
        if (!live()) return;
        if (value === undefined) node.disk.delete(key);
        else node.disk.set(key, structuredClone(value));
      },
      commit: (report: CommitReport) => {
        if (!reporting()) return;
        this.record(
          `${node.name} commits h${report.height} ${short(report.blockHash)} (${report.txIds.length} txs)`,
        );
        this.checker.committed(node.index, report);
      },
      leaderElected: (term, leader) => {
        if (!reporting()) return;
        const who = this.byId.get(leader)?.name ?? short(leader);
        this.record(`${node.name} knows leader of term ${term}: ${who}`);
        this.checker.leaderReported(node.index, term, leader);
      },
      random: () => node.random.float(),
      now: () => this.clock.now(),
      log: (text) => {
        if (!reporting()) return;
        this.record(`${node.name} ${text}`);
      },
    };
  }

  private send(from: SimNode<M>, recipients: NodeId[], message: M, label: string): void {
    deepFreeze(message);
    this.record(`${from.name} → ${label} ${this.describe(message)}`);
    const copies = from.adversary
      ? from.adversary.rewrite(recipients, message)
      : recipients.map((to) => ({ to, message }));
    for (const copy of copies) {
      const to = this.byId.get(copy.to)!;
      if (copy.message !== message) {
        deepFreeze(copy.message);
        this.record(`${from.name} ⇢ ${to.name} byzantine: ${this.describe(copy.message)}`);
      }
      if (to === from) {
        this.queue.push(this.clock.now(), {
          kind: 'deliver',
          from: from.index,
          to: to.index,
          incarnation: to.incarnation,
          message: copy.message,
        });
        continue;
      }
      const route = this.network.route(from.index, to.index);
      if (route.kind === 'drop') {
        this.record(`drop ${from.name}→${to.name} (${route.reason}) ${this.describe(copy.message)}`);
        continue;
      }
      for (const delay of route.delaysMs) {
        this.queue.push(this.clock.now() + delay, {
          kind: 'deliver',
          from: from.index,
          to: to.index,
          incarnation: to.incarnation,
          message: copy.message,
        });
      }
    }
    if (from.adversary && copies.length === 0 && recipients.length > 0) {
      this.record(`${from.name} byzantine: sent nothing`);
    }
  }

  // ---- reporting ---------------------------------------------------------------------------------

  private describe(message: M): string {
    try {
      return this.wiring.describe(message);
    } catch (err) {
      return `<describe threw: ${errorText(err)}>`;
    }
  }

  private record(text: string): void {
    this.trace.record(this.steps, this.clock.now(), text);
  }

  private fail(invariant: InvariantName, message: string): void {
    this.record(`✗ ${invariant}: ${message}`);
    this.violations.push({
      invariant,
      message,
      seed: this.seed,
      scenario: this.scenario.name,
      step: this.steps,
      timeMs: this.clock.now(),
      trace: this.trace.lines(this.options.violationTraceLines),
    });
  }

  private result(): SimulationResult {
    // Statuses first: a status() that throws is still recorded before the trace is sealed.
    const nodes = this.nodes.map((n) => ({
      name: n.name,
      id: n.id,
      honest: n.honest,
      up: n.up,
      status: this.statusOf(n),
    }));
    const probe = this.checker.livenessProbe;
    let rewrites = 0;
    for (const node of this.nodes) {
      if (node.adversary) for (const n of Object.values(node.adversary.rewrites)) rewrites += n;
    }
    return {
      scenario: this.scenario.name,
      seed: this.seed,
      wiring: this.wiring.name,
      committedHeights: this.checker.committedHeights(),
      blocks: this.checker.agreedChain(),
      violations: this.violations,
      virtualTimeMs: this.clock.now(),
      steps: this.steps,
      trace: this.trace.lines(this.options.traceLimit),
      traceHash: this.trace.fingerprint(),
      liveness: probe === null ? null : { ...probe, checked: this.livenessChecked },
      nodes,
      stats: { ...this.stats, network: this.network.stats, byzantineRewrites: rewrites },
    };
  }
}

function errorText(err: unknown): string {
  if (err instanceof Error) {
    const where = err.stack?.split('\n')[1]?.trim();
    return where ? `${err.message} (${where})` : err.message;
  }
  return String(err);
}

/**
 * Runs one scenario under one seed with the replicas a wiring provides. Pure: the same scenario,
 * seed and wiring give the same result, trace hash included.
 */
export function runSimulation<M extends object>(
  scenario: Scenario | ScenarioInput,
  seed: number,
  wiring: Wiring<M>,
  options: SimulationOptions = {},
): SimulationResult {
  const s = defineScenario(scenario);
  const opts: Required<SimulationOptions> = {
    traceLimit: options.traceLimit ?? 200,
    violationTraceLines: options.violationTraceLines ?? 60,
    stopOnViolation: options.stopOnViolation ?? true,
    maxSteps: options.maxSteps ?? 5_000_000,
    maxStepsWithoutTime: options.maxStepsWithoutTime ?? 100_000,
    networkId: options.networkId ?? 'itchain-sim',
    epochMs: options.epochMs ?? DEFAULT_EPOCH_MS,
  };
  return new Simulation(s, seed, wiring, opts).run();
}
