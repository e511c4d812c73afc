import type { ReadModel } from './read-model.ts';

// GET /metrics in the Prometheus text exposition format (version 0.0.4), written by hand: a few
// gauges read from the read model when scraped, counters and one histogram fed by its changes.

/** Submit → committed latency buckets, in seconds. */
export const COMMIT_LATENCY_BUCKETS = [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

class Histogram {
  private readonly counts: number[];
  private sum = 0;
  private count = 0;

  constructor(private readonly bounds: readonly number[]) {
    this.counts = bounds.map(() => 0);
  }

  observe(value: number): void {
    this.sum += value;
    this.count += 1;
    for (let i = 0; i < this.bounds.length; i++) if (value <= this.bounds[i]!) this.counts[i]! += 1;
  }

  lines(name: string): string[] {
    return [
      ...this.bounds.map((bound, i) => `${name}_bucket{le="${bound}"} ${this.counts[i]}`),
      `${name}_bucket{le="+Inf"} ${this.count}`,
      `${name}_sum ${this.sum}`,
      `${name}_count ${this.count}`,
    ];
  }
}

export class ApiMetrics {
  private readonly latency = new Histogram(COMMIT_LATENCY_BUCKETS);
  private submitted = 0;
  private committed = 0;
  private rejected = 0;
  private readonly unsubscribe: () => void;

  constructor(private readonly readModel: ReadModel) {
    this.unsubscribe = readModel.onChange((change) => {
      if (change.type !== 'tx') return;
      if (change.tx.status === 'committed') {
        this.committed += 1;
        if (change.latencyMs !== undefined) this.latency.observe(change.latencyMs / 1000);
      } else if (change.tx.status === 'rejected') {
        this.rejected += 1;
      }
    });
  }

  /** Counts txs this API signed and handed to the pool. */
  countSubmitted(count: number): void {
    this.submitted += count;
  }

  stop(): void {
    this.unsubscribe();
  }

  exposition(): string {
    const status = this.readModel.status();
    const out: string[] = [];
    const metric = (name: string, type: 'gauge' | 'counter' | 'histogram', help: string, lines: string[]) => {
      out.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`, ...lines);
    };
    const gauge = (name: string, help: string, value: number) =>
      metric(name, 'gauge', help, [`${name} ${value}`]);
    gauge('itchain_height', 'Height of the last committed block.', status.height);
    gauge('itchain_term', 'Current leader election term.', status.term);
    gauge('itchain_round', 'PBFT round in progress at the current height.', status.round?.round ?? 0);
    gauge(
      'itchain_pool_size',
      'Transactions waiting in the TxPool, as it last reported.',
      status.poolSize ?? 0,
    );
    gauge(
      'itchain_api_pending_txs',
      'Transactions submitted through this API and not yet committed.',
      this.readModel.pendingCount,
    );
    gauge('itchain_peers', 'Connected peers.', status.peers.length);
    gauge('itchain_is_leader', '1 when this node is the leader.', status.role === 'leader' ? 1 : 0);
    metric(
      'itchain_txs_submitted_total',
      'counter',
      'Transactions accepted by the TxPool through this API.',
      [`itchain_txs_submitted_total ${this.submitted}`],
    );
    metric(
      'itchain_txs_committed_total',
      'counter',
      'Transactions in blocks committed since the API started.',
      [`itchain_txs_committed_total ${this.committed}`],
    );
    metric(
      'itchain_txs_rejected_total',
      'counter',
      'Transactions refused by the TxPool since the API started.',
      [`itchain_txs_rejected_total ${this.rejected}`],
    );
    metric(
      'itchain_commit_latency_seconds',
      'histogram',
      'Time from submit through this API to the commit of the block holding the tx.',
      this.latency.lines('itchain_commit_latency_seconds'),
    );
    return `${out.join('\n')}\n`;
  }
}
