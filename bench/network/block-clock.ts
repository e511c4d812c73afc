// When each node committed each block, as its clients see it: one GET /events?kinds=block stream
// (server-sent events) per node, every `block` event stamped with this process's clock on arrival.
// A tx is "committed on all N" at the latest of the N stamps of its block's height.

export interface BlockEvent {
  height: number;
  creator: string;
  txCount: number;
  /** When this process received it (Date.now()). */
  at: number;
}

type Listener = (node: number, event: BlockEvent) => void;

export class BlockClock {
  /** Per node: height → event. */
  private readonly seen: Map<number, BlockEvent>[];
  private readonly listeners = new Set<Listener>();
  private readonly aborts: AbortController[] = [];

  constructor(private readonly apiUrls: readonly string[]) {
    this.seen = apiUrls.map(() => new Map());
  }

  /** Opens the streams; resolves once each answered. */
  async start(): Promise<void> {
    await Promise.all(this.apiUrls.map((url, node) => this.follow(url, node)));
  }

  stop(): void {
    for (const abort of this.aborts.splice(0)) abort.abort();
  }

  on(listener: Listener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** When `node` committed `height` (undefined: not seen). */
  at(node: number, height: number): number | undefined {
    return this.seen[node]?.get(height)?.at;
  }

  /** When the last of `nodes` committed `height` (undefined while one has not). */
  onAll(height: number, nodes: readonly number[]): number | undefined {
    let latest = 0;
    for (const node of nodes) {
      const at = this.at(node, height);
      if (at === undefined) return undefined;
      latest = Math.max(latest, at);
    }
    return latest;
  }

  /** The highest height `node` has reported. */
  height(node: number): number {
    let top = 0;
    for (const h of this.seen[node]?.keys() ?? []) top = Math.max(top, h);
    return top;
  }

  /** Txs in blocks that every one of `nodes` committed within [from, to) (the last stamp counts). */
  committedOnAll(nodes: readonly number[], from: number, to: number): { txs: number; blocks: number } {
    let txs = 0;
    let blocks = 0;
    for (const [height, event] of this.seen[nodes[0]!] ?? []) {
      const at = this.onAll(height, nodes);
      if (at !== undefined && at >= from && at < to) {
        txs += event.txCount;
        blocks++;
      }
    }
    return { txs, blocks };
  }

  /** Txs in every block each of `nodes` committed so far, counted on the slowest of them. */
  committedTxs(nodes: readonly number[]): number {
    let min = Number.POSITIVE_INFINITY;
    for (const node of nodes) {
      let txs = 0;
      for (const event of this.seen[node]?.values() ?? []) txs += event.txCount;
      min = Math.min(min, txs);
    }
    return min;
  }

  /** Re-opens the stream of a node that was restarted. */
  async reconnect(node: number): Promise<void> {
    await this.follow(this.apiUrls[node]!, node);
  }

  private async follow(url: string, node: number): Promise<void> {
    const abort = new AbortController();
    this.aborts.push(abort);
    const response = await fetch(`${url}/events?kinds=block`, { signal: abort.signal });
    if (!response.ok || !response.body) throw new Error(`${url}/events answered ${response.status}`);
    const reader = response.body.getReader();
    const decoder = new TextDecoder();
    let buffer = '';
    const pump = async () => {
      try {
        for (;;) {
          const { done, value } = await reader.read();
          if (done) return;
          buffer += decoder.decode(value, { stream: true });
          let end = buffer.indexOf('\n\n');
          while (end >= 0) {
            this.frame(node, buffer.slice(0, end));
            buffer = buffer.slice(end + 2);
            end = buffer.indexOf('\n\n');
          }
        }
      } catch {
        // Aborted, or the node went away (killed): the stream just ends.
      }
    };
    void pump();
  }

  private frame(node: number, text: string): void {
    let event = '';
    let data = '';
    for (const line of text.split('\n')) {
      if (line.startsWith('event: ')) event = line.slice(7);
      else if (line.startsWith('data: ')) data += line.slice(6);
    }
    if (event !== 'block' || data === '') return;
    const block = JSON.parse(data) as { height: number; creator: string; txCount: number };
    const seen: BlockEvent = {
      height: block.height,
      creator: block.creator,
      txCount: block.txCount,
      at: Date.now(),
    };
    const map = this.seen[node]!;
    if (map.has(block.height)) return;
    map.set(block.height, seen);
    for (const listener of this.listeners) listener(node, seen);
  }
}
