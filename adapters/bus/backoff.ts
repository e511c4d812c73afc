export interface BackoffOptions {
  /** Delay before the first reconnect attempt. */
  initialDelayMs: number;
  /** No delay is longer than this. */
  maxDelayMs: number;
  /** Growth per failed attempt. */
  factor: number;
  /** 0..1: each delay is shortened by a random part of up to this fraction, so clients don't reconnect in step. */
  jitter: number;
}

export const DEFAULT_BACKOFF: BackoffOptions = {
  initialDelayMs: 100,
  maxDelayMs: 10_000,
  factor: 2,
  jitter: 0.3,
};

/**
 * Exponential backoff with a cap and jitter, for attempt 1, 2, 3, … The jitter only ever shortens a
 * delay, so the cap holds exactly and capped delays still spread out instead of piling on the cap.
 */
export function backoffDelay(
  attempt: number,
  options: BackoffOptions,
  random: () => number = Math.random,
): number {
  const exponential = options.initialDelayMs * options.factor ** Math.max(0, attempt - 1);
  const capped = Math.min(options.maxDelayMs, exponential);
  return Math.round(capped * (1 - options.jitter * random()));
}
