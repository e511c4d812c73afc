// A bank: accounts with integer balances. Anyone may mint (it is a demo); a transfer fails, and
// changes nothing, when the sender has too little.

import { accountName, amountOf, BALANCE_PREFIX, balanceKey } from './accounts.js';

function balanceOf(ctx, account) {
  return ctx.get(balanceKey(account)) ?? 0;
}

export function mint(ctx, account, amount) {
  const to = accountName(account);
  const balance = balanceOf(ctx, to) + amountOf(amount);
  if (!Number.isSafeInteger(balance)) throw new Error('balance would overflow');
  ctx.put(balanceKey(to), balance);
  return balance;
}

export function transfer(ctx, from, to, amount) {
  const sender = accountName(from);
  const receiver = accountName(to);
  const n = amountOf(amount);
  if (sender === receiver) throw new Error('cannot transfer to the same account');
  const available = balanceOf(ctx, sender);
  if (available < n) throw new Error(`insufficient funds: ${sender} has ${available}, needs ${n}`);
  ctx.put(balanceKey(sender), available - n);
  ctx.put(balanceKey(receiver), balanceOf(ctx, receiver) + n);
  return { from: sender, to: receiver, amount: n };
}

export function balance(ctx, account) {
  return balanceOf(ctx, accountName(account));
}

/** Every account with its balance, sorted by name. */
export function accounts(ctx) {
  const out = [];
  let from;
  for (;;) {
    const page = ctx.range(
      from === undefined ? { prefix: BALANCE_PREFIX } : { prefix: BALANCE_PREFIX, from },
    );
    for (const { key, value } of page)
      out.push({ account: key.slice(BALANCE_PREFIX.length), balance: value });
    if (page.length < 1000) return out;
    from = `${page[page.length - 1].key}\u0000`;
  }
}
