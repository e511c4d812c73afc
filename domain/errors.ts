// Every way a block, transaction or certificate can be refused, as a typed error naming the cause.
export type ValidationCode =
  | 'field' // a field is missing, of the wrong type or malformed
  | 'size' // the encoded object is larger than allowed
  | 'link' // prevSeal does not point at the last block
  | 'height' // height is not last height + 1
  | 'seal' // the seal does not recompute from the header
  | 'txRoot' // the txRoot does not recompute from the transactions
  | 'txId' // a transaction id does not recompute from its body
  | 'signature' // a signature does not verify, or its signer is unknown
  | 'timestamp' // a timestamp is too far from the validating node's clock or goes backwards
  | 'duplicate' // a transaction appears twice
  | 'certificate'; // a commit certificate lacks a quorum or holds a bad, repeated or mismatched vote

export class ValidationError extends Error {
  /** The message without the code and field prefix, for re-raising under another field path. */
  readonly reason: string;

  constructor(
    readonly code: ValidationCode,
    readonly field: string,
    message: string,
  ) {
    super(`${code} (${field}): ${message}`);
    this.name = 'ValidationError';
    this.reason = message;
  }
}
