// `npm run bench:store`: how fast the chain store takes 100-tx blocks, and the crypto that bounds it.
// Not a test: prints a table and writes bench/results/store.json. Each figure is measured on a fresh
// LevelDB in a temp dir, one process, one core for JavaScript.
import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { Level } from 'level';
import { blockWrites } from '../adapters/store/block-batch.ts';
import { ChainStore, type StoreChainContext } from '../adapters/store/chain-store.ts';
import { rawKey } from '../adapters/store/layout.ts';
import type { Block } from '../domain/block.ts';
import type { CommitCertificate } from '../domain/commit-certificate.ts';
import { hashOf } from '../domain/hash.ts';
import { publicKeyFromPem, signBytes, verifyBytes } from '../domain/identity.ts';
import { txSigningBytes } from '../domain/transaction.ts';
import { createChainFixture } from '../test/support/chain-fixture.ts';

const TXS_PER_BLOCK = 100;
const BLOCKS = Number(process.env.BENCH_BLOCKS ?? 100);

interface Result {
  name: string;
  count: number;
  seconds: number;
  perSecond: number;
  unit: string;
  note?: string;
}

const results: Result[] = [];

function record(name: string, count: number, ms: number, unit: string, note?: string): void {
  const seconds = ms / 1000;
  results.push({ name, count, seconds: round(seconds, 3), perSecond: round(count / seconds, 1), unit, note });
}

function round(n: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(n * f) / f;
}

/** Runs `op` in a loop for about `ms` milliseconds; returns [count, elapsed ms]. */
function loopFor(ms: number, op: (i: number) => void): [number, number] {
  const start = performance.now();
  let count = 0;
  let elapsed = 0;
  while (elapsed < ms) {
    for (let j = 0; j < 200; j++) op(count++);
    elapsed = performance.now() - start;
  }
  return [count, elapsed];
}

async function withTempDir<T>(run: (dir: string) => Promise<T>): Promise<T> {
  const dir = await mkdtemp(join(tmpdir(), 'itchain-bench-'));
  try {
    return await run(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

const fixture = createChainFixture();
const ctx: StoreChainContext = {
  networkId: fixture.networkId,
  keys: fixture.keys,
  validatorsAt: () => fixture.validatorIds,
};

console.log(`preparing ${BLOCKS} blocks of ${TXS_PER_BLOCK} signed txs with commit certificates…`);
const { blocks, certs } = fixture.extend(fixture.genesis, BLOCKS, TXS_PER_BLOCK);

async function appendAll(syncAppends: boolean): Promise<number> {
  return withTempDir(async (dir) => {
    const store = await ChainStore.open(dir, ctx, { syncAppends });
    await store.initGenesis(fixture.genesisFile);
    const start = performance.now();
    for (let i = 0; i < blocks.length; i++) {
      const block = blocks[i]!;
      await store.append(block, certs[i]!, {
        receipts: Object.fromEntries(block.txs.map((tx) => [tx.id, { ok: true, gas: 1 }])),
        stateWrites: [{ icodeId: 'kv', key: `height`, value: block.height }],
      });
    }
    const ms = performance.now() - start;
    await store.close();
    return ms;
  });
}

async function rawWrites(all: readonly Block[], allCerts: readonly CommitCertificate[]): Promise<number> {
  return withTempDir(async (dir) => {
    const db = new Level<string, Uint8Array>(dir, { keyEncoding: 'utf8', valueEncoding: 'view' });
    await db.open();
    const start = performance.now();
    for (let i = 0; i < all.length; i++) {
      const batch = db.batch();
      for (const w of blockWrites(all[i]!, allCerts[i]!)) {
        if (w.value !== null) batch.put(rawKey(w.space, w.key), w.value);
      }
      await batch.write();
    }
    const ms = performance.now() - start;
    await db.close();
    return ms;
  });
}

async function readAll(): Promise<number> {
  return withTempDir(async (dir) => {
    const store = await ChainStore.open(dir, ctx, { syncAppends: false });
    await store.initGenesis(fixture.genesisFile);
    for (let i = 0; i < blocks.length; i++) await store.append(blocks[i]!, certs[i]!);
    const start = performance.now();
    let n = 0;
    for await (const _ of store.blocks(1)) n++;
    const ms = performance.now() - start;
    await store.close();
    if (n !== blocks.length) throw new Error(`read ${n} blocks, expected ${blocks.length}`);
    return ms;
  });
}

const txs = blocks.length * TXS_PER_BLOCK;
const perBlock = `blocks of ${TXS_PER_BLOCK} txs`;

const synced = await appendAll(true);
record(
  'append, full validation, fsync',
  blocks.length,
  synced,
  perBlock,
  `${round((txs / synced) * 1000, 0)} tx/s`,
);
const unsynced = await appendAll(false);
record(
  'append, full validation, no fsync',
  blocks.length,
  unsynced,
  perBlock,
  `${round((txs / unsynced) * 1000, 0)} tx/s`,
);
const raw = await rawWrites(blocks, certs);
record('raw batch write, no validation', blocks.length, raw, perBlock, 'same records, LevelDB only');
const read = await readAll();
record('read range, strict decode', blocks.length, read, perBlock, 'seal, txRoot, tx ids recomputed');

const signer = fixture.validators[0]!;
const message = txSigningBytes(blocks[0]!.txs[0]!.id);
const signature = signBytes(signer, message);
const pem = signer.publicKey.export({ format: 'pem', type: 'spki' }).toString();
const [signs, signMs] = loopFor(1500, () => signBytes(signer, message));
record('Ed25519 sign', signs, signMs, 'signatures', 'cached private KeyObject');
const [verifies, verifyMs] = loopFor(1500, () => {
  if (!fixture.keys.verify(signer.nodeId, message, signature)) throw new Error('verify failed');
});
record('Ed25519 verify', verifies, verifyMs, 'signatures', 'cached public KeyObject (KeyRing)');
const [reimports, reimportMs] = loopFor(1000, () => verifyBytes(publicKeyFromPem(pem), message, signature));
record('Ed25519 verify, key re-imported', reimports, reimportMs, 'signatures', 'PEM parsed per call: avoid');
const payload = Buffer.alloc(200, 7);
const [hashes, hashMs] = loopFor(1000, () => createHash('sha256').update(payload).digest());
record('SHA-256 of 200 B', hashes, hashMs, 'hashes');
const sampleTx = blocks[0]!.txs[0]!;
const [txHashes, txHashMs] = loopFor(1000, () => hashOf(sampleTx));
record('hashOf(tx): canonical JSON + SHA-256', txHashes, txHashMs, 'hashes');

const table = results.map((r) => ({
  measure: r.name,
  'per second': r.perSecond.toLocaleString('en-US'),
  unit: r.unit,
  count: r.count,
  seconds: r.seconds,
  note: r.note ?? '',
}));
console.table(table);
const [load1] = loadavg();
if (load1 !== undefined && load1 > cpus().length) {
  console.log(`note: load average ${load1.toFixed(1)} on ${cpus().length} cores, figures are low`);
}

const out = {
  bench: 'store',
  date: new Date().toISOString(),
  node: process.version,
  platform: `${process.platform} ${process.arch}`,
  cpu: cpus()[0]?.model ?? 'unknown',
  cores: cpus().length,
  // Other processes on the machine skew every figure: keep the load next to them.
  loadAverage: loadavg().map((l) => round(l, 2)),
  txsPerBlock: TXS_PER_BLOCK,
  blocks: blocks.length,
  validators: fixture.validators.length,
  results,
};
const resultsDir = new URL('./results/', import.meta.url);
await mkdir(resultsDir, { recursive: true });
await writeFile(new URL('store.json', resultsDir), `${JSON.stringify(out, null, 2)}\n`);
console.log('wrote bench/results/store.json');
