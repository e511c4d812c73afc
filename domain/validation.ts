import { type Block, type BlockHeader, sealOf, txRootOf } from './block.ts';
import { canonicalJson } from './canonical.ts';
import { type CommitCertificate, verifyCommitCertificate } from './commit-certificate.ts';
import { ValidationError } from './errors.ts';
import type { NodeId, SignatureVerifier } from './identity.ts';
import { type Transaction, txIdOf, txSigningBytes } from './transaction.ts';

export interface ValidationLimits {
  /** Largest canonical encoding of one transaction, in bytes. */
  maxTxBytes: number;
  /** Largest canonical encoding of one block, in bytes. */
  maxBlockBytes: number;
  /** How far a timestamp may run ahead of the validating node's clock, in ms. */
  maxClockSkewMs: number;
}

export const DEFAULT_LIMITS: ValidationLimits = {
  maxTxBytes: 64 * 1024,
  maxBlockBytes: 16 * 1024 * 1024,
  maxClockSkewMs: 30_000,
};

/** Bytes of the canonical encoding, counted without building the byte array. */
function encodedSize(value: unknown): number {
  return Buffer.byteLength(canonicalJson(value));
}

/** Throws ValidationError unless the tx id recomputes and the signer's signature verifies. */
export function validateTransaction(
  tx: Transaction,
  keys: SignatureVerifier,
  limits: Pick<ValidationLimits, 'maxTxBytes'> = DEFAULT_LIMITS,
): void {
  const size = encodedSize(tx);
  if (size > limits.maxTxBytes) {
    throw new ValidationError('size', 'tx', `${size} bytes, the limit is ${limits.maxTxBytes}`);
  }
  if (txIdOf(tx) !== tx.id) throw new ValidationError('txId', 'id', `tx ${tx.id} does not match its body`);
  if (!keys.has(tx.signer)) throw new ValidationError('signature', 'signer', `unknown signer ${tx.signer}`);
  if (!keys.verify(tx.signer, txSigningBytes(tx.id), tx.signature)) {
    throw new ValidationError('signature', 'signature', `tx ${tx.id} signature does not verify`);
  }
}

export interface ChainContext {
  networkId: string;
  /** The block the candidate must follow. */
  last: BlockHeader & { seal: string };
  validators: readonly NodeId[];
  keys: SignatureVerifier;
  /** The validating node's clock (ms); omitted when replaying stored blocks. */
  now?: number;
  limits?: ValidationLimits;
  /** Tx ids already on the chain, so a tx cannot commit twice. */
  isCommittedTx?: (id: string) => boolean;
  /** Signatures this node verified already, by tx id: each signature is checked once per node. */
  verifiedTxs?: Map<string, string>;
}

/**
 * Everything checked before a block is voted for or stored: height, link, seal, txRoot, each tx's id
 * and signature, duplicates, size, timestamp; and, when given, its commit certificate.
 * Throws the first ValidationError found.
 */
export function validateNextBlock(block: Block, cert: CommitCertificate | null, ctx: ChainContext): void {
  const limits = ctx.limits ?? DEFAULT_LIMITS;
  if (block.height !== ctx.last.height + 1) {
    throw new ValidationError('height', 'height', `expected ${ctx.last.height + 1}, got ${block.height}`);
  }
  if (block.prevSeal !== ctx.last.seal) {
    throw new ValidationError('link', 'prevSeal', `does not point at block ${ctx.last.height}`);
  }
  if (sealOf(block) !== block.seal)
    throw new ValidationError('seal', 'seal', 'does not recompute from the header');
  if (txRootOf(block.txs) !== block.txRoot) {
    throw new ValidationError('txRoot', 'txRoot', 'does not recompute from the transactions');
  }
  if (block.timestamp < ctx.last.timestamp) {
    throw new ValidationError('timestamp', 'timestamp', 'goes backwards from the previous block');
  }
  if (ctx.now !== undefined && block.timestamp > ctx.now + limits.maxClockSkewMs) {
    throw new ValidationError(
      'timestamp',
      'timestamp',
      `more than ${limits.maxClockSkewMs} ms in the future`,
    );
  }
  const size = encodedSize(block);
  if (size > limits.maxBlockBytes) {
    throw new ValidationError('size', 'block', `${size} bytes, the limit is ${limits.maxBlockBytes}`);
  }
  const seen = new Set<string>();
  for (const [i, tx] of block.txs.entries()) {
    if (seen.has(tx.id) || ctx.isCommittedTx?.(tx.id)) {
      throw new ValidationError('duplicate', `txs[${i}]`, `tx ${tx.id} is already in the chain or block`);
    }
    seen.add(tx.id);
    if (ctx.verifiedTxs?.get(tx.id) === tx.signature && txIdOf(tx) === tx.id) continue;
    try {
      validateTransaction(tx, ctx.keys, limits);
    } catch (err) {
      if (err instanceof ValidationError)
        throw new ValidationError(
          err.code,
          err.field === 'tx' ? `txs[${i}]` : `txs[${i}].${err.field}`,
          err.reason,
        );
      throw err;
    }
    ctx.verifiedTxs?.set(tx.id, tx.signature);
  }
  if (cert) {
    verifyCommitCertificate(
      cert,
      { height: block.height, blockHash: block.seal, networkId: ctx.networkId },
      ctx.validators,
      ctx.keys,
    );
  }
}
