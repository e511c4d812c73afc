import type { Block } from '../../domain/block.ts';
import { type Canonical, EncodingError } from '../../domain/canonical.ts';
import type { CommitCertificate } from '../../domain/commit-certificate.ts';
import { StoreRefusalError } from './errors.ts';
import { heightKey, LAST_BLOCK_KEY, SPACES, type SpaceName, stateKey } from './layout.ts';
import { encodeRecord, encodeSeal } from './record-codec.ts';

/** One state change an iCode made while the block's txs ran; value null deletes the key. */
export interface StateWrite {
  icodeId: string;
  key: string;
  value: Canonical | null;
}

/** What the IVM produced for a block; committed in the same batch as the block. */
export interface BlockExtras {
  receipts?: ReadonlyMap<string, Canonical> | Readonly<Record<string, Canonical>>;
  stateWrites?: readonly StateWrite[];
}

/** One record of the batch; value null is a delete. */
export interface RecordWrite {
  space: SpaceName;
  key: string;
  value: Uint8Array | null;
}

function refuse(message: string): never {
  throw new StoreRefusalError('extras', message);
}

function encodeExtra(value: Canonical, what: string): Uint8Array {
  try {
    return encodeRecord(value);
  } catch (err) {
    if (err instanceof EncodingError) refuse(`${what} cannot be encoded: ${err.message}`);
    throw err;
  }
}

/**
 * Every record a block brings, in one list so the store can write them in one atomic batch: the
 * block, its height index, one index per tx, its certificate, receipts, state writes and last_block.
 * Refuses (StoreRefusalError 'extras') receipts for txs that are not in the block and malformed
 * state writes, before anything is written.
 */
export function blockWrites(
  block: Block,
  cert: CommitCertificate | null,
  extras: BlockExtras = {},
): RecordWrite[] {
  const seal = encodeSeal(block.seal);
  const height = heightKey(block.height);
  const writes: RecordWrite[] = [
    { space: SPACES.blockHash, key: block.seal, value: encodeRecord(block) },
    { space: SPACES.blockNumber, key: height, value: seal },
  ];
  for (const tx of block.txs) writes.push({ space: SPACES.util, key: tx.id, value: seal });
  if (cert) writes.push({ space: SPACES.commit, key: height, value: encodeRecord(cert) });

  const txIds = new Set(block.txs.map((tx) => tx.id));
  const receipts =
    extras.receipts instanceof Map ? [...extras.receipts] : Object.entries(extras.receipts ?? {});
  for (const [txId, receipt] of receipts) {
    if (!txIds.has(txId)) refuse(`receipt for tx ${txId}, which is not in block ${block.height}`);
    writes.push({ space: SPACES.receipt, key: txId, value: encodeExtra(receipt, `receipt of ${txId}`) });
  }
  for (const [i, write] of (extras.stateWrites ?? []).entries()) {
    const { icodeId, key, value } = write;
    if (typeof icodeId !== 'string' || icodeId === '' || icodeId.includes('/')) {
      refuse(`stateWrites[${i}].icodeId must be a non-empty string without '/'`);
    }
    if (typeof key !== 'string') refuse(`stateWrites[${i}].key must be a string`);
    writes.push({
      space: SPACES.state,
      key: stateKey(icodeId, key),
      value: value === null ? null : encodeExtra(value, `stateWrites[${i}].value`),
    });
  }
  writes.push({ space: SPACES.util, key: LAST_BLOCK_KEY, value: seal });
  return writes;
}
