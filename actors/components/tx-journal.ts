import { Level } from 'level';
import { txCodec } from '../../domain/codec.ts';
import type { Transaction } from '../../domain/transaction.ts';

// The accepting node's promise to its client: a tx acknowledged with 202 is committed exactly once,
// even when this node crashes before it passed the tx on — the pool lives in memory, and a restarted
// replica gets back only its records and its chain. So a client's tx is written here, synced, BEFORE
// its acknowledgement leaves the node, and deleted once a block holding it is stored. A restarted
// node puts what is left back into its pool; a tx the network committed meanwhile is refused there
// as already committed (or leaves the pool when the synced block arrives), so nothing commits twice.
//
// Its own LevelDB next to the chain store (`<storage.path>-pending`): the store's key spaces are a
// contract (SPEC §3), and this is not chain data — deleting it loses only unacknowledged promises.

export class TxJournal {
  private constructor(private readonly db: Level<string, string>) {}

  static async open(path: string): Promise<TxJournal> {
    const db = new Level<string, string>(path, { keyEncoding: 'utf8', valueEncoding: 'utf8' });
    await db.open();
    return new TxJournal(db);
  }

  /** The journal directory of a chain store at `storagePath`. */
  static pathFor(storagePath: string): string {
    return `${storagePath}-pending`;
  }

  /** Writes the txs durably (one synced batch); resolves once they are on disk. */
  async record(txs: readonly Transaction[]): Promise<void> {
    if (txs.length === 0) return;
    await this.db.batch(
      txs.map((tx) => ({ type: 'put' as const, key: tx.id, value: txCodec.encodeText(tx) })),
      { sync: true },
    );
  }

  /** Deletes committed txs (not synced: one left behind is refused as committed after a restart). */
  async forget(ids: readonly string[]): Promise<void> {
    if (ids.length === 0) return;
    await this.db.batch(ids.map((id) => ({ type: 'del' as const, key: id })));
  }

  /** Every tx still waiting to commit, as written. */
  async pending(): Promise<Transaction[]> {
    const txs: Transaction[] = [];
    for await (const value of this.db.values()) txs.push(txCodec.parse(value));
    return txs;
  }

  async close(): Promise<void> {
    await this.db.close();
  }
}
