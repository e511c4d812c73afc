import { createHash, type Hash } from 'node:crypto';

// The run's trace: one short line per thing that happened (a message sent, delivered or lost, a
// timer, a crash, a state transition a replica logged, a commit). The last `limit` lines are kept
// for the failure report; every line also goes into a running SHA-256, the run's fingerprint, so
// two runs are the same run exactly when their fingerprints match.

/** Short IDs for traces: the first 6 hex characters of a hash or tx id. */
export function short(id: string | null | undefined): string {
  if (id === null || id === undefined) return 'nil';
  return id.slice(0, 6);
}

export class Trace {
  private readonly ring: string[];
  private next = 0;
  private count = 0;
  private readonly digest: Hash = createHash('sha256');
  /** Lines not yet hashed: hashing in chunks costs a tenth of one native call per line. */
  private pending = '';

  constructor(readonly limit: number) {
    if (!(limit >= 0)) throw new RangeError('trace limit must be ≥ 0');
    this.ring = Number.isFinite(limit) ? new Array<string>(limit) : [];
  }

  record(step: number, timeMs: number, text: string): void {
    const line = `#${step} ${timeMs}ms ${text}`;
    this.pending += `${line}\n`;
    if (this.pending.length > 65_536) {
      this.digest.update(this.pending);
      this.pending = '';
    }
    this.count += 1;
    if (this.limit === 0) return;
    if (!Number.isFinite(this.limit)) {
      this.ring.push(line);
      return;
    }
    this.ring[this.next] = line;
    this.next = (this.next + 1) % this.limit;
  }

  /** Lines recorded so far. */
  get length(): number {
    return this.count;
  }

  /** The last `n` lines kept (all kept lines by default), oldest first. */
  lines(n = Number.POSITIVE_INFINITY): string[] {
    let kept: string[];
    if (!Number.isFinite(this.limit)) kept = this.ring.slice();
    else if (this.count < this.limit) kept = this.ring.slice(0, this.count);
    else kept = [...this.ring.slice(this.next), ...this.ring.slice(0, this.next)];
    return n >= kept.length ? kept : kept.slice(kept.length - n);
  }

  /** SHA-256 (hex) of every line recorded; ends the trace. */
  fingerprint(): string {
    this.digest.update(this.pending);
    this.pending = '';
    return this.digest.digest('hex');
  }
}
