// What the chain store can answer besides a block: a refusal (the caller asked for something the
// store will not do; nothing was written) or a corruption (bytes on disk that are not what the store
// wrote). Validation failures of an appended block stay ValidationErrors from domain/errors.ts.

export type RefusalCode =
  | 'closed' // the store is closed (or was never opened)
  | 'no-genesis' // nothing can be appended before initGenesis
  | 'genesis-mismatch' // the directory holds another network's genesis
  | 'extras' // receipts or state writes do not belong to the block
  | 'certificate'; // a block without a commit certificate

export class StoreError extends Error {
  override name = 'StoreError';
}

export class StoreRefusalError extends StoreError {
  override name = 'StoreRefusalError';
  constructor(
    readonly code: RefusalCode,
    message: string,
  ) {
    super(`${code}: ${message}`);
  }
}

/** A stored record that does not decode or check out; names the key space and key to look at. */
export class StoreCorruptionError extends StoreError {
  override name = 'StoreCorruptionError';
  constructor(
    readonly space: string,
    readonly key: string,
    readonly reason: string,
  ) {
    super(`corrupt record in ${space} at key ${JSON.stringify(key)}: ${reason}`);
  }
}
