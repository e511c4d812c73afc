import type { Random } from './random.ts';

// The adversarial network between simulated nodes, addressed by node index (0 … n-1).
//
// Each message on a link draws, from that link's own streams, whether it is lost, whether it is
// duplicated, and a delay for each copy, uniform in [minDelayMs, maxDelayMs]: independent delays are
// what reorder messages. The draws happen for every message, even one a partition will stop, so a
// link's k-th message gets the same fate whatever happens elsewhere in the run.
//
// Partitions and blocked links are checked twice: when a message is sent and when it arrives, so a
// message in flight when a partition forms is lost, as on a real connection that breaks. Messages to
// a node that crashed after they were sent are lost too (the simulator checks the incarnation).

export interface NetworkFaults {
  /** Probability that a message is lost. */
  dropRate: number;
  /** Probability that a message is delivered twice (each copy with its own delay). */
  duplicateRate: number;
  minDelayMs: number;
  maxDelayMs: number;
}

export const RELIABLE: NetworkFaults = { dropRate: 0, duplicateRate: 0, minDelayMs: 1, maxDelayMs: 1 };

export type DropReason = 'loss' | 'partition' | 'link-blocked' | 'crashed';

export interface NetworkStats {
  sent: number;
  delivered: number;
  duplicated: number;
  dropped: Record<DropReason, number>;
}

/** The fate of one sent message: the delays of the copies that will arrive, or why none will. */
export type Route = { kind: 'deliver'; delaysMs: number[] } | { kind: 'drop'; reason: DropReason };

interface LinkStreams {
  drop: Random;
  duplicate: Random;
  delay: Random;
}

export class Network {
  private faults: NetworkFaults;
  /** Active partitions by id: for each node, the index of its group (-1: not listed, the rest). */
  private readonly partitions = new Map<number, Int8Array>();
  /** How many active blocks hold each one-way link, by from * n + to. */
  private readonly blocked: Uint16Array;
  private readonly links: LinkStreams[];
  readonly stats: NetworkStats = {
    sent: 0,
    delivered: 0,
    duplicated: 0,
    dropped: { loss: 0, partition: 0, 'link-blocked': 0, crashed: 0 },
  };

  constructor(
    readonly nodeCount: number,
    faults: NetworkFaults,
    random: Random,
    nameOf: (node: number) => string = (node) => `n${node}`,
  ) {
    this.faults = checkFaults(faults);
    this.blocked = new Uint16Array(nodeCount * nodeCount);
    this.links = [];
    for (let from = 0; from < nodeCount; from++) {
      for (let to = 0; to < nodeCount; to++) {
        const link = random.fork(`network/${nameOf(from)}->${nameOf(to)}`);
        this.links.push({
          drop: link.fork('drop'),
          duplicate: link.fork('duplicate'),
          delay: link.fork('delay'),
        });
      }
    }
  }

  get currentFaults(): NetworkFaults {
    return this.faults;
  }

  setFaults(faults: NetworkFaults): void {
    this.faults = checkFaults(faults);
  }

  /** Splits the nodes into groups that cannot talk to each other; unlisted nodes form one more group. */
  partition(id: number, groups: readonly (readonly number[])[]): void {
    const groupOf = new Int8Array(this.nodeCount).fill(-1);
    groups.forEach((group, g) => {
      for (const node of group) groupOf[node] = g;
    });
    this.partitions.set(id, groupOf);
  }

  heal(id: number): void {
    this.partitions.delete(id);
  }

  /** Blocks the one-way link from → to until as many unblocks. */
  blockLink(from: number, to: number): void {
    this.blocked[from * this.nodeCount + to]! += 1;
  }

  unblockLink(from: number, to: number): void {
    const i = from * this.nodeCount + to;
    if (this.blocked[i]! > 0) this.blocked[i]! -= 1;
  }

  /** Why a message from → to cannot pass right now, or null when the link is up. */
  cut(from: number, to: number): DropReason | null {
    if (this.blocked[from * this.nodeCount + to]! > 0) return 'link-blocked';
    for (const groupOf of this.partitions.values()) {
      if (groupOf[from] !== groupOf[to]) return 'partition';
    }
    return null;
  }

  /** Decides the fate of one message sent now from → to, and counts it. */
  route(from: number, to: number): Route {
    const link = this.links[from * this.nodeCount + to]!;
    const { dropRate, duplicateRate, minDelayMs, maxDelayMs } = this.faults;
    const lost = link.drop.chance(dropRate);
    const duplicated = link.duplicate.chance(duplicateRate);
    const first = link.delay.int(minDelayMs, maxDelayMs);
    const second = link.delay.int(minDelayMs, maxDelayMs);
    this.stats.sent += 1;
    const reason = this.cut(from, to) ?? (lost ? 'loss' : null);
    if (reason !== null) {
      this.stats.dropped[reason] += 1;
      return { kind: 'drop', reason };
    }
    if (duplicated) {
      this.stats.duplicated += 1;
      return { kind: 'deliver', delaysMs: [first, second] };
    }
    return { kind: 'deliver', delaysMs: [first] };
  }

  noteDelivered(): void {
    this.stats.delivered += 1;
  }

  noteDropped(reason: DropReason): void {
    this.stats.dropped[reason] += 1;
  }
}

function checkFaults(faults: NetworkFaults): NetworkFaults {
  const { dropRate, duplicateRate, minDelayMs, maxDelayMs } = faults;
  if (!(dropRate >= 0 && dropRate <= 1)) throw new RangeError(`dropRate ${dropRate} is not in [0, 1]`);
  if (!(duplicateRate >= 0 && duplicateRate <= 1)) {
    throw new RangeError(`duplicateRate ${duplicateRate} is not in [0, 1]`);
  }
  if (!(Number.isInteger(minDelayMs) && Number.isInteger(maxDelayMs) && 0 <= minDelayMs)) {
    throw new RangeError('delays are whole non-negative milliseconds');
  }
  if (maxDelayMs < minDelayMs) throw new RangeError(`maxDelayMs ${maxDelayMs} < minDelayMs ${minDelayMs}`);
  return { ...faults };
}
