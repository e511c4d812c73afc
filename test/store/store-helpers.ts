import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Level } from 'level';
import { ChainStore, type StoreChainContext } from '../../adapters/store/chain-store.ts';
import { SPACES } from '../../adapters/store/layout.ts';
import type { ChainFixture } from '../support/chain-fixture.ts';

/** A fresh directory under the OS temp dir; remove it with `removeDir`. */
export function tempDir(): Promise<string> {
  return mkdtemp(join(tmpdir(), 'itchain-store-'));
}

export function removeDir(dir: string): Promise<void> {
  return rm(dir, { recursive: true, force: true });
}

/** The fixed validator set of a fixture as the store's validation context. */
export function storeContextOf(fixture: ChainFixture): StoreChainContext {
  return { networkId: fixture.networkId, keys: fixture.keys, validatorsAt: () => fixture.validatorIds };
}

/** Opens the store at `dir` for the fixture's network and makes sure its genesis is stored. */
export async function openFixtureStore(
  dir: string,
  fixture: ChainFixture,
  options: { syncAppends?: boolean } = {},
): Promise<ChainStore> {
  const store = await ChainStore.open(dir, storeContextOf(fixture), options);
  await store.initGenesis(fixture.genesisFile);
  return store;
}

/** Every record of every key space, hex-encoded: two dumps are equal iff nothing was written. */
export async function dumpStore(store: ChainStore): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const space of Object.values(SPACES)) {
    for await (const [key, value] of store.records(space)) {
      out[`${space}/${key}`] = Buffer.from(value).toString('hex');
    }
  }
  return out;
}

/** A second, raw handle on a closed store's directory, to plant bad bytes as disk rot would. */
export async function withRawDb(dir: string, edit: (db: Level<string, Uint8Array>) => Promise<void>) {
  const db = new Level<string, Uint8Array>(dir, { keyEncoding: 'utf8', valueEncoding: 'view' });
  await db.open();
  try {
    await edit(db);
  } finally {
    await db.close();
  }
}
