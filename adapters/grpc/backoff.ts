// Redial delays: the step doubles from `initialMs` per attempt up to `maxMs`, and each delay is drawn
// from [½, 1] of its step, so that peers which lost each other at the same moment do not redial in
// lockstep.

export interface BackoffPolicy {
  readonly initialMs: number;
  readonly maxMs: number;
}

export const DEFAULT_BACKOFF: BackoffPolicy = { initialMs: 200, maxMs: 15_000 };

/** The step of redial attempt `attempt` (0 = the first redial): the most it waits. */
export function backoffStep(policy: BackoffPolicy, attempt: number): number {
  return Math.min(policy.maxMs, policy.initialMs * 2 ** Math.min(attempt, 30));
}

/** The delay before redial attempt `attempt`; `random` is in [0, 1). */
export function backoffDelay(policy: BackoffPolicy, attempt: number, random: number): number {
  const step = backoffStep(policy, attempt);
  return Math.round(step / 2 + (step / 2) * random);
}
