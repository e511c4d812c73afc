// The load generator: offers txs at a set rate through the public API (POST /transactions/batch,
// round-robin over the nodes), with a bound on the requests in flight. When the bound is reached the
// offer is skipped and counted — the API is not keeping up, which is a saturation signal, not a
// queue that would hide it. For latency, a sample of the acknowledged txs is kept with the time
// their request left.

export interface Call {
  icodeId: string;
  function: string;
  args: unknown[];
}

export interface LoadOptions {
  apiUrls: readonly string[];
  /** The k-th tx offered. */
  call: (k: number) => Call;
  maxInFlight: number;
  /** Keep one acknowledged tx in this many for latency (setSampling changes it). */
  sampleEvery: number;
}

export interface Sample {
  id: string;
  sentAt: number;
}

const TICK_MS = 10;

export class Load {
  rate = 0;
  batch = 1;
  offered = 0;
  acked = 0;
  /** Txs not offered because maxInFlight requests were waiting. */
  skipped = 0;
  readonly refusals = new Map<string, number>();
  samples: Sample[] = [];
  private tokens = 0;
  private inFlight = 0;
  private timer: NodeJS.Timeout | null = null;
  private last = 0;
  private turn = 0;
  private k = 0;
  private readonly pending = new Set<Promise<void>>();
  private sampleEvery: number;

  constructor(private readonly options: LoadOptions) {
    this.sampleEvery = options.sampleEvery;
  }

  /** Keeps one acknowledged tx in `every` from now on. */
  setSampling(every: number): void {
    this.sampleEvery = Math.max(1, Math.floor(every));
  }

  /** Offers `rate` tx/s from now on, in requests of `batch` txs. */
  setRate(rate: number, batch: number): void {
    this.rate = rate;
    this.batch = Math.max(1, Math.floor(batch));
    this.tokens = 0;
    this.last = performance.now();
    this.timer ??= setInterval(() => this.tick(), TICK_MS);
  }

  /** Stops offering; resolves when every request in flight is answered. */
  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    this.rate = 0;
    await Promise.all(this.pending);
  }

  /** Resolves when the requests in flight now are answered. */
  async idle(): Promise<void> {
    await Promise.all(this.pending);
  }

  /** Counters since the last reset, then zeroed (samples included). */
  reset(): void {
    this.offered = 0;
    this.acked = 0;
    this.skipped = 0;
    this.refusals.clear();
    this.samples = [];
  }

  private tick(): void {
    const now = performance.now();
    this.tokens += ((now - this.last) / 1000) * this.rate;
    this.last = now;
    while (this.tokens >= this.batch) {
      this.tokens -= this.batch;
      if (this.inFlight >= this.options.maxInFlight) {
        this.skipped += this.batch;
        continue;
      }
      const request = this.send().finally(() => this.pending.delete(request));
      this.pending.add(request);
    }
  }

  private async send(): Promise<void> {
    const { apiUrls, call } = this.options;
    const sampleEvery = this.sampleEvery;
    const url = apiUrls[this.turn++ % apiUrls.length]!;
    const txs = Array.from({ length: this.batch }, () => call(this.k++));
    this.offered += txs.length;
    this.inFlight++;
    const sentAt = Date.now();
    try {
      const response = await fetch(`${url}/transactions/batch`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ txs }),
        signal: AbortSignal.timeout(30_000),
      });
      const body = (await response.json()) as { ids?: string[]; rejected?: { id: string; code: string }[] };
      if (response.status !== 202 || !body.ids) {
        this.refuse(`HTTP ${response.status}`, txs.length);
        return;
      }
      const rejected = new Set((body.rejected ?? []).map((r) => r.id));
      for (const r of body.rejected ?? []) this.refuse(r.code, 1);
      body.ids.forEach((id, i) => {
        if (rejected.has(id)) return;
        this.acked++;
        if (i % sampleEvery === 0) this.samples.push({ id, sentAt });
      });
    } catch (error) {
      this.refuse(error instanceof Error ? error.name : 'error', txs.length);
    } finally {
      this.inFlight--;
    }
  }

  private refuse(reason: string, count: number): void {
    this.refusals.set(reason, (this.refusals.get(reason) ?? 0) + count);
  }
}
