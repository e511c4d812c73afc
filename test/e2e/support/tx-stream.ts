import type { TestNetwork } from '../../support/network.ts';

// A steady stream of small kv puts through the public API (POST /transactions/batch), spread over the
// nodes round-robin, that remembers every tx id a node acknowledged with 202 — the ids the network
// owes: each must end in exactly one block (SPEC §4: a tx leaves the pool only when committed).
// A node that is down, stopped or slow simply does not acknowledge; nothing is retried, so an id is
// never counted twice.

export interface TxStreamOptions {
  /** Txs per second offered (approximately; one batch per tick). */
  perSecond: number;
  /** Txs per POST (default 1). */
  perBatch?: number;
  /** Which nodes to send to (default: the running ones at each tick). */
  nodes?: () => number[];
  /** Prefix of the kv keys, so two streams never collide. */
  prefix: string;
}

export class TxStream {
  /** Every id acknowledged with 202 (and not listed as rejected), in order. */
  readonly acked: string[] = [];
  /** Answers other than 202 and network errors, by reason (for a failing test's message). */
  readonly refusals = new Map<string, number>();
  private running = false;
  private loop: Promise<void> = Promise.resolve();
  private sent = 0;
  private perSecond: number;

  constructor(
    private readonly net: TestNetwork,
    private readonly options: TxStreamOptions,
  ) {
    this.perSecond = options.perSecond;
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.loop = this.run();
  }

  /** Changes the rate from the next tick on. */
  setPerSecond(perSecond: number): void {
    this.perSecond = perSecond;
  }

  /** Stops offering txs; resolves when the requests in flight have been answered. */
  async stop(): Promise<void> {
    this.running = false;
    await this.loop;
  }

  private async run(): Promise<void> {
    const perBatch = this.options.perBatch ?? 1;
    const inFlight = new Set<Promise<void>>();
    let next = performance.now();
    let turn = 0;
    while (this.running) {
      const nodes = this.options.nodes?.() ?? this.net.running();
      if (nodes.length > 0) {
        const node = nodes[turn++ % nodes.length]!;
        const request = this.send(node, perBatch).finally(() => inFlight.delete(request));
        inFlight.add(request);
      }
      next += (1000 * perBatch) / this.perSecond;
      const wait = next - performance.now();
      if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
      else next = performance.now();
    }
    await Promise.all(inFlight);
  }

  private async send(node: number, count: number): Promise<void> {
    const txs = Array.from({ length: count }, () => {
      const k = this.sent++;
      return { icodeId: 'kv', function: 'put', args: [`${this.options.prefix}-${k}`, k] };
    });
    try {
      const answer = await this.net.post<{ ids?: string[]; rejected?: { id: string; code: string }[] }>(
        node,
        '/transactions/batch',
        { txs },
      );
      if (answer.status !== 202 || !Array.isArray(answer.body.ids)) {
        this.refused(`node${node} ${answer.status}`);
        return;
      }
      const rejected = new Set((answer.body.rejected ?? []).map((r) => r.id));
      for (const r of answer.body.rejected ?? []) this.refused(`node${node} ${r.code}`);
      for (const id of answer.body.ids) if (!rejected.has(id)) this.acked.push(id);
    } catch (error) {
      this.refused(`node${node} ${error instanceof Error ? error.name : 'error'}`);
    }
  }

  private refused(reason: string): void {
    this.refusals.set(reason, (this.refusals.get(reason) ?? 0) + 1);
  }
}
