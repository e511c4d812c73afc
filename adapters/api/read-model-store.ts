import { Level } from 'level';
import type { Block } from '../../domain/block.ts';
import type { CommitCertificate } from '../../domain/commit-certificate.ts';
import type { IcodeView, TxView } from './views.ts';

// The API read model's own small LevelDB (CQRS: the API never reads the chain store, which may live in
// another process). Values are the JSON the API serves, stored ready to send, so a read is a lookup
// and a string copy. Key spaces:
//   block/<height, 16 digits>  → Block JSON          seal/<seal>    → height
//   cert/<height, 16 digits>   → certificate JSON    tx/<txId>      → TxView JSON (committed, rejected)
//   icode/<id>                 → IcodeView JSON      meta/height    → last applied height
// A block, its txs' records and the new height are written in one atomic batch.

const HEIGHT_DIGITS = 16;

function heightKey(height: number): string {
  return String(height).padStart(HEIGHT_DIGITS, '0');
}

type Root = Level<string, string>;
type Space = ReturnType<typeof openSpace>;

function openSpace(db: Root, name: string) {
  return db.sublevel<string, string>(name, { valueEncoding: 'utf8' });
}

export class ReadModelStore {
  private readonly blocks: Space;
  private readonly certs: Space;
  private readonly seals: Space;
  private readonly txs: Space;
  private readonly icodes: Space;
  private readonly meta: Space;

  private constructor(private readonly db: Root) {
    const space = (name: string) => openSpace(db, name);
    this.blocks = space('block');
    this.certs = space('cert');
    this.seals = space('seal');
    this.txs = space('tx');
    this.icodes = space('icode');
    this.meta = space('meta');
  }

  static async open(path: string): Promise<ReadModelStore> {
    const db = new Level<string, string>(path, { valueEncoding: 'utf8' });
    await db.open();
    return new ReadModelStore(db);
  }

  /** The last applied block, or undefined for an empty store. */
  async lastBlock(): Promise<Block | undefined> {
    const height = await this.meta.get('height');
    if (height === undefined) return undefined;
    const json = await this.blocks.get(heightKey(Number(height)));
    return json === undefined ? undefined : (JSON.parse(json) as Block);
  }

  async appendBlock(
    block: Block,
    certificate: CommitCertificate | null,
    txs: readonly TxView[],
  ): Promise<void> {
    const key = heightKey(block.height);
    const batch = this.db.batch();
    batch.put(key, JSON.stringify(block), { sublevel: this.blocks });
    if (certificate) batch.put(key, JSON.stringify(certificate), { sublevel: this.certs });
    batch.put(block.seal, String(block.height), { sublevel: this.seals });
    for (const tx of txs) batch.put(tx.id, JSON.stringify(tx), { sublevel: this.txs });
    batch.put('height', String(block.height), { sublevel: this.meta });
    await batch.write();
  }

  blockJson(height: number): Promise<string | undefined> {
    return this.blocks.get(heightKey(height));
  }

  async heightOfSeal(seal: string): Promise<number | undefined> {
    const height = await this.seals.get(seal);
    return height === undefined ? undefined : Number(height);
  }

  /** Up to `limit` blocks from height `from` on, in height order. */
  blocksJson(from: number, limit: number): Promise<string[]> {
    return this.blocks.values({ gte: heightKey(from), limit }).all();
  }

  txJson(id: string): Promise<string | undefined> {
    return this.txs.get(id);
  }

  putTx(tx: TxView): Promise<void> {
    return this.txs.put(tx.id, JSON.stringify(tx));
  }

  putIcode(icode: IcodeView): Promise<void> {
    return this.icodes.put(icode.id, JSON.stringify(icode));
  }

  deleteIcode(id: string): Promise<void> {
    return this.icodes.del(id);
  }

  async icode(id: string): Promise<IcodeView | undefined> {
    const json = await this.icodes.get(id);
    return json === undefined ? undefined : (JSON.parse(json) as IcodeView);
  }

  async allIcodes(): Promise<IcodeView[]> {
    const values = await this.icodes.values().all();
    return values.map((json) => JSON.parse(json) as IcodeView);
  }

  close(): Promise<void> {
    return this.db.close();
  }
}
