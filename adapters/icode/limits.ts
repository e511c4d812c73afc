// The limits every iCode call runs under, and what each state operation costs in gas. The node's
// `ivm` config section fills IvmLimits; every node of a network must use the same values, because
// they decide which txs fail.

export interface IvmLimits {
  /** Gas one invoke or query may use: 1 per interpreter step (call or loop back-edge) plus host costs. */
  gasLimit: number;
  /** Bytes of linear memory one sandbox may grow to (QuickJS: at least 16 MiB, in 64 KiB pages). */
  memoryBytes: number;
  /**
   * Bytes of interpreter stack; deeper recursion fails with stack-overflow. QuickJS runs on the host's
   * own native stack (about 2.5 host bytes per byte counted here): 128 KiB allows ~740 nested calls and
   * leaves most of Node's ~1 MB stack to the host, so the host never overflows first.
   */
  stackBytes: number;
  /** Largest result, as canonical JSON bytes. */
  maxResultBytes: number;
  /** Largest state key, in UTF-8 bytes. */
  maxKeyBytes: number;
  /** Largest state value, as canonical JSON bytes. */
  maxValueBytes: number;
  /** Most bytes (keys + values) one invoke may write. */
  maxWriteBytes: number;
  /** Most entries one ctx.range call returns. */
  maxRangeEntries: number;
  /** Longest error message kept in a receipt, in characters. */
  maxErrorChars: number;
}

export const DEFAULT_IVM_LIMITS: Readonly<IvmLimits> = {
  gasLimit: 2_000_000,
  memoryBytes: 64 * 1024 * 1024,
  stackBytes: 128 * 1024,
  maxResultBytes: 64 * 1024,
  maxKeyBytes: 512,
  maxValueBytes: 64 * 1024,
  maxWriteBytes: 1024 * 1024,
  maxRangeEntries: 1000,
  maxErrorChars: 1000,
};

/**
 * Gas of host operations, charged on top of interpreter steps. A step of a tight loop costs the
 * interpreter a few nanoseconds; a state operation costs a host round trip (~1-2 µs) and JSON work, so
 * it is priced like a few hundred steps, and per byte so that big values cost more.
 */
export const GAS = {
  /** Any ctx.get / put / del / range call. */
  stateCall: 200,
  /** Per byte read or written (key + value). */
  perByte: 1,
  /** Per entry ctx.range returns. */
  perRangeEntry: 50,
  /**
   * The regular-expression engine asks the interrupt handler every 10,000 backtracking steps without
   * counting them as interpreter steps; each such check is charged as 10,000 steps.
   */
  regexpCheck: 10_000,
} as const;
