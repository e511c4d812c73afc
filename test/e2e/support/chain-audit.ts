import type { Block } from '../../../domain/block.ts';

// What the end-to-end tests check about the chains the nodes hold once the faults are over: every
// node has the same blocks (seal by seal), and every tx the API acknowledged with 202 is in exactly
// one of them (SPEC §4: txs leave the pool only when committed, duplicates are ignored).

export interface ChainSource {
  name: string;
  chain(height: number): Promise<Block[]>;
}

export interface ChainAudit {
  /** The chain every source holds (heights 0..height). */
  chain: Block[];
  /** Sources whose chain differs from the first one's, with the first height where it does. */
  diverged: { name: string; height: number }[];
}

/** Reads heights 0..height from every source and compares them with the first source's. */
export async function auditChains(sources: readonly ChainSource[], height: number): Promise<ChainAudit> {
  const chains = await Promise.all(sources.map((source) => source.chain(height)));
  const reference = chains[0] ?? [];
  const diverged: { name: string; height: number }[] = [];
  chains.forEach((chain, i) => {
    const at = reference.findIndex((block, h) => chain[h]?.seal !== block.seal);
    if (at >= 0 || chain.length !== reference.length) {
      diverged.push({
        name: sources[i]!.name,
        height: at >= 0 ? at : Math.min(chain.length, reference.length),
      });
    }
  });
  return { chain: reference, diverged };
}

export interface ExactlyOnce {
  /** Acknowledged ids in no block. */
  missing: string[];
  /** Ids in more than one place (two blocks, or twice in one). */
  duplicated: string[];
  /** How many txs the chain holds in all. */
  committed: number;
}

/** Counts each acknowledged tx id over every block of the chain. */
export function countAcknowledged(acked: readonly string[], chain: readonly Block[]): ExactlyOnce {
  const seen = new Map<string, number>();
  for (const block of chain) for (const tx of block.txs) seen.set(tx.id, (seen.get(tx.id) ?? 0) + 1);
  return {
    missing: acked.filter((id) => !seen.has(id)),
    duplicated: [...seen].filter(([, n]) => n > 1).map(([id]) => id),
    committed: [...seen.values()].reduce((a, b) => a + b, 0),
  };
}

/**
 * Waits until the nodes agree on a height that has not moved for `quietMs` (nothing is left to
 * commit once the load stopped), and returns it.
 */
export async function settledHeight(
  heights: () => Promise<number[]>,
  quietMs = 1_500,
  timeoutMs = 30_000,
): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  let last = -1;
  let since = Date.now();
  for (;;) {
    const now = await heights().catch(() => [] as number[]);
    const agreed = now.length > 0 && now.every((h) => h === now[0]) ? now[0]! : -1;
    if (agreed !== last) {
      last = agreed;
      since = Date.now();
    } else if (agreed >= 0 && Date.now() - since >= quietMs) {
      return agreed;
    }
    if (Date.now() > deadline) throw new Error(`the nodes did not settle on one height: ${now.join(', ')}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
