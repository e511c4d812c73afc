import { type Block, ZERO_SEAL } from '../../domain/block.ts';
import { ValidationError } from '../../domain/errors.ts';
import { validateNextBlock } from '../../domain/validation.ts';
import type { ChainStore, StoreChainContext } from './chain-store.ts';
import { StoreCorruptionError } from './errors.ts';
import { heightKey, LAST_BLOCK_KEY, parseHeightKey, SPACES } from './layout.ts';
import { decodeSeal } from './record-codec.ts';

export interface AuditReport {
  /** Height of last_block; -1 for an empty store. */
  height: number;
  txs: number;
}

/**
 * Walks the whole store and checks what every append promises: last_block is the highest height,
 * heights run from genesis to it without gaps, each block links to the one before and validates
 * with its commit certificate (signatures re-verified), and every index (height, tx, certificate)
 * resolves to exactly those blocks — no extra, no missing entry. Throws the first
 * StoreCorruptionError found. Cost: one signature check per tx and per PreCommit.
 */
export async function auditChain(store: ChainStore, ctx: StoreChainContext): Promise<AuditReport> {
  const last = store.lastBlock();
  const height = last?.height ?? -1;
  const sealOfTx = new Map<string, string>();
  const seals = new Set<string>();
  let prev: Block | undefined;

  for await (const block of store.blocks(0, height)) {
    const at = { space: SPACES.blockHash, key: block.seal };
    if (prev === undefined) {
      if (block.height !== 0 || block.prevSeal !== ZERO_SEAL || block.txs.length > 0) {
        throw new StoreCorruptionError(at.space, at.key, 'the first block is not a genesis block');
      }
    } else {
      const cert = await store.getCertificate(block.height);
      if (!cert) throw new StoreCorruptionError(SPACES.commit, heightKey(block.height), 'missing');
      try {
        validateNextBlock(block, cert, {
          networkId: ctx.networkId,
          last: prev,
          validators: ctx.validatorsAt(block.height),
          keys: ctx.keys,
          limits: ctx.limits,
          isCommittedTx: (id) => sealOfTx.has(id),
        });
      } catch (err) {
        if (err instanceof ValidationError) throw new StoreCorruptionError(at.space, at.key, err.message);
        throw err;
      }
    }
    for (const tx of block.txs) sealOfTx.set(tx.id, block.seal);
    seals.add(block.seal);
    prev = block;
  }
  if (last && prev?.seal !== last.seal) {
    throw new StoreCorruptionError(SPACES.util, LAST_BLOCK_KEY, 'is not the block at its height');
  }

  for await (const [key] of store.records(SPACES.blockNumber)) {
    const h = parseHeightKey(key);
    if (h === undefined || h > height) {
      throw new StoreCorruptionError(SPACES.blockNumber, key, `above last_block (height ${height})`);
    }
  }
  for await (const [key] of store.records(SPACES.blockHash)) {
    if (!seals.has(key)) throw new StoreCorruptionError(SPACES.blockHash, key, 'block is not on the chain');
  }
  for await (const [key] of store.records(SPACES.commit)) {
    const h = parseHeightKey(key);
    if (h === undefined || h < 1 || h > height) {
      throw new StoreCorruptionError(SPACES.commit, key, 'certificate of no stored block');
    }
  }
  let indexed = 0;
  for await (const [key, bytes] of store.records(SPACES.util)) {
    if (key === LAST_BLOCK_KEY) continue;
    const seal = decodeSeal(bytes, { space: SPACES.util, key });
    if (sealOfTx.get(key) !== seal) {
      throw new StoreCorruptionError(SPACES.util, key, `points to block ${seal}, which does not hold the tx`);
    }
    indexed++;
  }
  if (indexed !== sealOfTx.size) {
    throw new StoreCorruptionError(SPACES.util, '', `${sealOfTx.size - indexed} stored txs are not indexed`);
  }
  return { height, txs: sealOfTx.size };
}
