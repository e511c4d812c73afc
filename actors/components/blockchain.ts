import type { CommittedBlock, CommittedReceipt } from '../../adapters/api/api-topics.ts';
import type { Subscription } from '../../adapters/bus/event-bus.ts';
import type { Canonical } from '../../domain/canonical.ts';
import type { CoreParts } from '../node-parts.ts';
import { type ActorLinks, type Component, errorText } from './component.ts';

// Blockchain: the chain store and the ledger over it. Appends come from the replica through the
// ledger (node-ledger.ts) and reach the disk through the node's write queue; this component answers
// what others ask of the stored chain — replay.requested from an API gateway that (re)starts or
// missed blocks: the committed blocks from a height on, with certificates and receipts, in chunks —
// and on stop waits until every queued write is on disk.

const REPLAY_CHUNK_BLOCKS = 16;

export const BLOCKCHAIN_ID = 'blockchain';

function receiptOf(stored: Canonical | undefined): CommittedReceipt | undefined {
  if (typeof stored !== 'object' || stored === null || Array.isArray(stored)) return undefined;
  const { status, result, error, gasUsed } = stored;
  if ((status !== 'ok' && status !== 'error') || typeof gasUsed !== 'number') return undefined;
  const receipt: CommittedReceipt = { status, gasUsed };
  if (result !== undefined) receipt.result = result;
  if (typeof error === 'object' && error !== null && !Array.isArray(error)) {
    const { code, message } = error;
    if (typeof code === 'string' && typeof message === 'string') {
      receipt.error = { code: code as NonNullable<CommittedReceipt['error']>['code'], message };
    }
  }
  return receipt;
}

export class BlockchainComponent implements Component {
  private readonly subscriptions: Subscription[] = [];
  private readonly log;
  /** Replays run one at a time, in the order they were asked for. */
  private replays: Promise<void> = Promise.resolve();

  constructor(
    private readonly parts: CoreParts,
    private readonly links: ActorLinks,
  ) {
    this.log = parts.logger.child({ component: 'blockchain' });
  }

  async start(): Promise<void> {
    const { topics, store } = this.parts;
    this.subscriptions.push(
      await topics.on('replay.requested', ({ requestId, fromHeight }) => {
        this.replays = this.replays.then(() => this.replay(requestId, fromHeight));
      }),
    );
    this.log.info({ height: store.height, seal: store.lastBlock()?.seal.slice(0, 12) }, 'chain opened');
  }

  /** Waits for the writes already queued; the store is closed by the node after the other components. */
  async stop(): Promise<void> {
    await Promise.all(this.subscriptions.splice(0).map((s) => s.unsubscribe()));
    await this.replays;
    await this.parts.writes.drained();
  }

  private async replay(requestId: string, fromHeight: number): Promise<void> {
    const { store, topics } = this.parts;
    try {
      let from = Math.max(0, fromHeight);
      const to = store.height;
      do {
        const last = Math.min(to, from + REPLAY_CHUNK_BLOCKS - 1);
        const entries: CommittedBlock[] = [];
        for await (const block of store.blocks(from, last)) {
          const certificate =
            block.height === 0 ? null : ((await store.getCertificate(block.height)) ?? null);
          const receipts: Record<string, CommittedReceipt> = {};
          for (const tx of block.txs) {
            const receipt = receiptOf(await store.getReceipt(tx.id));
            if (receipt) receipts[tx.id] = receipt;
          }
          entries.push({ block, certificate, receipts });
        }
        from = last + 1;
        await topics.publish('replay.delivered', { requestId, entries, done: from > to });
      } while (from <= to);
    } catch (error) {
      if (!store.isOpen) return;
      this.log.warn({ requestId, fromHeight, err: errorText(error) }, 'replay failed');
      if (error instanceof Error && error.name === 'StoreCorruptionError') this.links.fail(error);
    }
  }
}
