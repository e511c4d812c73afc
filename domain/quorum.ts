// Byzantine quorum arithmetic. With n = 3f + 1 representatives a quorum is 2f + 1; for any n it is
// the smallest count such that two quorums always share an honest node: floor(2n/3) + 1.

/** The most Byzantine representatives a set of n tolerates. */
export function maxFaulty(n: number): number {
  return Math.floor((n - 1) / 3);
}

/** Matching votes from distinct representatives needed to decide. Equals 2f+1 when n = 3f+1. */
export function quorumSize(n: number): number {
  return Math.floor((2 * n) / 3) + 1;
}
