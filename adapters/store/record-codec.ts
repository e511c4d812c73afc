import { type Block, sealOf, txRootOf } from '../../domain/block.ts';
import { type Canonical, canonicalJson } from '../../domain/canonical.ts';
import { blockCodec, certificateCodec } from '../../domain/codec.ts';
import type { CommitCertificate } from '../../domain/commit-certificate.ts';
import { txIdOf } from '../../domain/transaction.ts';
import { StoreCorruptionError } from './errors.ts';

// Strict decoding of what the store reads back. Every record was written as canonical JSON, so a
// record is accepted only if it parses, has exactly the expected fields with the expected types,
// re-encodes to the very same bytes (blocks and certificates: domain/codec.ts), and (for blocks)
// its seal, txRoot and tx ids recompute.
// Anything else is a StoreCorruptionError naming the key space and key: disk rot, a bad copy or a
// foreign writer must never reach consensus as a block.

const utf8 = new TextDecoder('utf-8', { fatal: true });
const SEAL = /^[0-9a-f]{64}$/;

/** Where a record came from, for the error message. */
export interface RecordAt {
  space: string;
  key: string;
}

/** A record that parsed but does not check out. */
class RecordError extends Error {}

/** Runs a decoder, turning any failure into a StoreCorruptionError for this record. */
function decoding<T>(at: RecordAt, decode: () => T): T {
  try {
    return decode();
  } catch (err) {
    if (err instanceof StoreCorruptionError) throw err;
    const reason = err instanceof Error ? err.message : String(err);
    throw new StoreCorruptionError(at.space, at.key, reason);
  }
}

function text(bytes: Uint8Array): string {
  return utf8.decode(bytes);
}

/** Canonical JSON only: parses, and re-encodes to the same text. */
function canonicalValue(bytes: Uint8Array): Canonical {
  const source = text(bytes);
  const value = JSON.parse(source) as unknown;
  if (canonicalJson(value) !== source) throw new RecordError('not in canonical encoding');
  return value as Canonical;
}

export function encodeRecord(value: unknown): Uint8Array {
  return Buffer.from(canonicalJson(value), 'utf8');
}

export function encodeSeal(seal: string): Uint8Array {
  return Buffer.from(seal, 'utf8');
}

/** A 64-hex seal stored as plain text (block_number, util). */
export function decodeSeal(bytes: Uint8Array, at: RecordAt): string {
  return decoding(at, () => {
    const seal = text(bytes);
    if (!SEAL.test(seal)) throw new RecordError('not a 64-character hex seal');
    return seal;
  });
}

/** Any opaque canonical JSON value (receipts, state values, the consensus record). */
export function decodeJsonRecord(bytes: Uint8Array, at: RecordAt): Canonical {
  return decoding(at, () => canonicalValue(bytes));
}

/**
 * A stored block whose seal, txRoot and tx ids recompute; `expectedSeal` is the seal it was looked up
 * by, so a block filed under another block's key is caught too.
 */
export function decodeBlockRecord(bytes: Uint8Array, at: RecordAt, expectedSeal: string): Block {
  return decoding(at, () => {
    // No size limit on read: the block passed the node's limits when it was appended.
    const block = blockCodec.decode(bytes, bytes.byteLength);
    if (sealOf(block) !== block.seal) throw new RecordError('seal does not recompute from the header');
    if (block.seal !== expectedSeal) throw new RecordError(`holds block ${block.seal}`);
    if (txRootOf(block.txs) !== block.txRoot) throw new RecordError('txRoot does not recompute');
    block.txs.forEach((tx, i) => {
      if (txIdOf(tx) !== tx.id) throw new RecordError(`txs[${i}] id does not recompute from its body`);
    });
    return block;
  });
}

/** A stored commit certificate for `height` (its signatures are checked at append, not on read). */
export function decodeCertificateRecord(bytes: Uint8Array, at: RecordAt, height: number): CommitCertificate {
  return decoding(at, () => {
    const cert = certificateCodec.decode(bytes, bytes.byteLength);
    if (cert.height !== height) throw new RecordError(`certificate is for height ${cert.height}`);
    return cert;
  });
}
