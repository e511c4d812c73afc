// Argument checks and the state layout of the bank: one key per account, `balance/<account>`.

export const BALANCE_PREFIX = 'balance/';

export function balanceKey(account) {
  return BALANCE_PREFIX + account;
}

/** An account name: 1 to 64 characters, no control characters. */
export function accountName(value) {
  if (
    typeof value !== 'string' ||
    value.length === 0 ||
    value.length > 64 ||
    [...value].some((c) => c < ' ')
  ) {
    throw new Error(`bad account name ${JSON.stringify(value)}`);
  }
  return value;
}

/** A positive safe integer; "25" is read as 25 (the CLI passes arguments as text). */
export function amountOf(value) {
  const n = typeof value === 'string' && /^\d+$/.test(value) ? Number(value) : value;
  if (!Number.isSafeInteger(n) || n < 1)
    throw new Error(`bad amount ${JSON.stringify(value)}: a positive integer`);
  return n;
}
