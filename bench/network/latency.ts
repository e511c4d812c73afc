import type { BlockClock } from './block-clock.ts';
import type { Sample } from './load.ts';

// Submit → committed on all nodes, for the sampled txs: each sample's height comes from
// GET /transactions/:id, its commit time from the block clock (the last node's stamp of that height).

export interface LatencyFigures {
  samples: number;
  /** Samples not committed on every node (yet). */
  uncommitted: number;
  p50Ms: number | null;
  p99Ms: number | null;
  maxMs: number | null;
}

export function percentile(sorted: readonly number[], p: number): number | null {
  if (sorted.length === 0) return null;
  const index = Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1);
  return sorted[Math.max(0, index)]!;
}

async function heightOf(apiUrl: string, id: string): Promise<number | undefined> {
  const response = await fetch(`${apiUrl}/transactions/${id}`, { signal: AbortSignal.timeout(10_000) });
  if (!response.ok) return undefined;
  const view = (await response.json()) as { status: string; height?: number };
  return view.status === 'committed' ? view.height : undefined;
}

export async function latencies(
  samples: readonly Sample[],
  apiUrl: string,
  clock: BlockClock,
  nodes: readonly number[],
  concurrency = 16,
): Promise<LatencyFigures> {
  const ms: number[] = [];
  let uncommitted = 0;
  let next = 0;
  const worker = async () => {
    while (next < samples.length) {
      const sample = samples[next++]!;
      const height = await heightOf(apiUrl, sample.id).catch(() => undefined);
      const at = height === undefined ? undefined : clock.onAll(height, nodes);
      if (at === undefined) uncommitted++;
      else ms.push(at - sample.sentAt);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  ms.sort((a, b) => a - b);
  return {
    samples: samples.length,
    uncommitted,
    p50Ms: percentile(ms, 50),
    p99Ms: percentile(ms, 99),
    maxMs: ms.length > 0 ? ms[ms.length - 1]! : null,
  };
}
