import { verifyCommitCertificate } from '../domain/commit-certificate.ts';
import { ValidationError } from '../domain/errors.ts';
import type { NodeId, SignatureVerifier } from '../domain/identity.ts';
import type { CommitReport, ReplicaStatus } from './replica.ts';
import { short } from './trace.ts';

// The checker: watches what honest replicas report and fails the run the moment a rule breaks.
// Every report is checked as it arrives, so a violation is caught in the step that caused it.
// Byzantine nodes' reports are ignored: the rules are about what honest nodes do.
//
//   agreement        no two honest nodes commit different blocks at one height
//   validity         an honest node commits only submitted txs (or txs a Byzantine node signed),
//                    each at most once in its chain
//   commit-order     an honest node commits heights 1, 2, 3 … each once
//   durability       after a restart a node still has every block it committed before the crash
//   certificate      (when the wiring certifies commits) each commit carries 2f+1 valid PreCommits
//   election-safety  honest reports never name two different honest leaders for one term
//   liveness         once every fault has healed, the first tx submitted to an honest node is
//                    committed by every honest node that is up within livenessBoundMs
// The simulator adds two more: replica-error (a replica threw) and no-progress (virtual time stopped).

export type InvariantName =
  | 'agreement'
  | 'validity'
  | 'commit-order'
  | 'durability'
  | 'certificate'
  | 'election-safety'
  | 'liveness'
  | 'replica-error'
  | 'no-progress';

/** A broken rule, with what it takes to replay and read it. */
export interface Violation {
  invariant: InvariantName;
  message: string;
  seed: number;
  scenario: string;
  step: number;
  timeMs: number;
  /** The last trace lines up to and including the step that broke the rule. */
  trace: string[];
}

export interface CheckedNode {
  readonly id: NodeId;
  readonly name: string;
  readonly honest: boolean;
}

export interface CheckerConfig {
  nodes: readonly CheckedNode[];
  networkId: string;
  /** Set when commits must carry certificates: the verifier that checks them. */
  certificates: SignatureVerifier | null;
  livenessBoundMs: number;
}

/** The block the honest nodes agreed on at one height. */
export interface AgreedBlock {
  height: number;
  blockHash: string;
  txIds: readonly string[];
  /** The first honest node that committed it. */
  firstBy: string;
}

export interface LivenessProbe {
  txId: string;
  to: number;
  submittedAt: number;
  deadline: number;
}

type Fail = (invariant: InvariantName, message: string) => void;

export class InvariantChecker {
  private readonly heights: number[];
  private readonly committedTxs: Set<string>[];
  /** Height each node had committed when it last crashed (-1: not crashed since). */
  private readonly heightAtCrash: number[];
  private readonly agreed = new Map<number, AgreedBlock>();
  private readonly submitted = new Set<string>();
  private readonly leaders = new Map<number, { leader: number; reporter: number }>();
  private readonly index = new Map<NodeId, number>();
  private probe: LivenessProbe | null = null;

  constructor(
    private readonly config: CheckerConfig,
    private readonly fail: Fail,
  ) {
    const n = config.nodes.length;
    this.heights = new Array<number>(n).fill(0);
    this.heightAtCrash = new Array<number>(n).fill(-1);
    this.committedTxs = Array.from({ length: n }, () => new Set<string>());
    config.nodes.forEach((node, i) => {
      this.index.set(node.id, i);
    });
  }

  private name(node: number): string {
    return this.config.nodes[node]!.name;
  }

  /** A tx a client submitted, or one a Byzantine node invented and signed: both may commit. */
  txSubmitted(txId: string): void {
    this.submitted.add(txId);
  }

  committed(node: number, report: CommitReport): void {
    if (!this.config.nodes[node]!.honest) return;
    const who = this.name(node);
    const { height, blockHash, txIds } = report;
    const had = this.heights[node]!;
    if (height !== had + 1) {
      const crashedAt = this.heightAtCrash[node]!;
      if (height <= had && crashedAt >= height) {
        this.fail(
          'durability',
          `${who} committed height ${height} again after a restart: it had committed up to ${crashedAt} before crashing`,
        );
      } else {
        this.fail('commit-order', `${who} committed height ${height} right after height ${had}`);
      }
      return;
    }
    this.heights[node] = height;

    const agreed = this.agreed.get(height);
    if (agreed === undefined) {
      this.agreed.set(height, { height, blockHash, txIds: txIds.slice(), firstBy: who });
    } else if (agreed.blockHash !== blockHash) {
      this.fail(
        'agreement',
        `height ${height}: ${agreed.firstBy} committed ${short(agreed.blockHash)}, ${who} committed ${short(blockHash)}`,
      );
    }

    const mine = this.committedTxs[node]!;
    for (const id of txIds) {
      if (!this.submitted.has(id)) {
        this.fail('validity', `${who} committed tx ${short(id)} at height ${height}: nobody submitted it`);
      } else if (mine.has(id)) {
        this.fail('validity', `${who} committed tx ${short(id)} twice (again at height ${height})`);
      }
      mine.add(id);
    }

    const keys = this.config.certificates;
    if (keys !== null) {
      if (report.certificate === null) {
        this.fail('certificate', `${who} committed height ${height} without a commit certificate`);
      } else {
        try {
          verifyCommitCertificate(
            report.certificate,
            { height, blockHash, networkId: this.config.networkId },
            this.config.nodes.map((n) => n.id),
            keys,
          );
        } catch (err) {
          if (!(err instanceof ValidationError)) throw err;
          this.fail('certificate', `${who} committed height ${height} ${short(blockHash)}: ${err.message}`);
        }
      }
    }
  }

  leaderReported(reporter: number, term: number, leaderId: NodeId): void {
    const leader = this.index.get(leaderId);
    if (!this.config.nodes[reporter]!.honest || leader === undefined || !this.config.nodes[leader]!.honest) {
      return;
    }
    const known = this.leaders.get(term);
    if (known === undefined) {
      this.leaders.set(term, { leader, reporter });
    } else if (known.leader !== leader) {
      this.fail(
        'election-safety',
        `term ${term} has two leaders: ${this.name(known.leader)} (reported by ${this.name(known.reporter)})` +
          ` and ${this.name(leader)} (reported by ${this.name(reporter)})`,
      );
    }
  }

  /** The honest node most recently reported leader (highest term), or null. */
  currentLeader(): number | null {
    let best: number | null = null;
    let bestTerm = Number.NEGATIVE_INFINITY;
    for (const [term, { leader }] of this.leaders) {
      if (term > bestTerm) {
        bestTerm = term;
        best = leader;
      }
    }
    return best;
  }

  crashed(node: number): void {
    this.heightAtCrash[node] = Math.max(this.heightAtCrash[node]!, this.heights[node]!);
  }

  /**
   * A restarted node must still have every block it committed. It may have more: a torn crash can
   * cut the report after the block was written; the checker then takes the node's word for those
   * heights (their hashes go unchecked for this node, a known blind spot).
   */
  restarted(node: number, status: ReplicaStatus): void {
    if (!this.config.nodes[node]!.honest) return;
    const before = this.heightAtCrash[node]!;
    if (status.height < before) {
      this.fail(
        'durability',
        `${this.name(node)} restarted at height ${status.height}, but had committed up to ${before} before crashing`,
      );
    } else if (status.height > this.heights[node]!) {
      this.heights[node] = status.height;
    }
  }

  heightOf(node: number): number {
    return this.heights[node]!;
  }

  /**
   * Starts the liveness check with the first tx submitted to an honest node at or after the heal
   * time; returns the deadline, or null when a probe is already running.
   */
  startLiveness(txId: string, to: number, submittedAt: number): number | null {
    if (this.probe !== null) return null;
    const deadline = submittedAt + this.config.livenessBoundMs;
    this.probe = { txId, to, submittedAt, deadline };
    return deadline;
  }

  get livenessProbe(): LivenessProbe | null {
    return this.probe;
  }

  /** At the deadline: every honest node that is up must have committed the probe tx. */
  checkLiveness(isUp: (node: number) => boolean, statusOf: (node: number) => ReplicaStatus | null): void {
    const probe = this.probe;
    if (probe === null) return;
    const late: string[] = [];
    this.config.nodes.forEach((node, i) => {
      if (!node.honest || !isUp(i) || this.committedTxs[i]!.has(probe.txId)) return;
      const status = statusOf(i);
      const role = status?.role ? ` ${status.role}` : '';
      const term = status?.term !== undefined ? ` term ${status.term}` : '';
      late.push(`${node.name} (height ${this.heights[i]}${role}${term})`);
    });
    if (late.length > 0) {
      this.fail(
        'liveness',
        `tx ${short(probe.txId)} submitted to ${this.name(probe.to)} at ${probe.submittedAt}ms was not committed` +
          ` within ${this.config.livenessBoundMs}ms by ${late.join(', ')}`,
      );
    }
  }

  /** Committed height per node (as reported; Byzantine nodes show 0). */
  committedHeights(): number[] {
    return this.heights.slice();
  }

  /** The chain the honest nodes agreed on, by height. */
  agreedChain(): AgreedBlock[] {
    return [...this.agreed.values()].sort((a, b) => a.height - b.height);
  }
}

/** A violation as people read it: what broke, where, and the steps that led to it. */
export function formatViolation(v: Violation): string {
  return [
    `✗ ${v.invariant}: ${v.message}`,
    `  scenario ${v.scenario}, seed ${v.seed}, step ${v.step}, at ${v.timeMs}ms virtual`,
    `  last ${v.trace.length} trace lines:`,
    ...v.trace.map((line) => `    ${line}`),
  ].join('\n');
}
