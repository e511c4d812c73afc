// A counter: the smallest iCode that keeps state. Deploy it, then
//   itchain icode invoke <id> increment 5
//   itchain icode query <id> get

/** Accepts 5 or "5" (the CLI passes arguments as text). */
function positiveInteger(value, name) {
  const n = typeof value === 'string' && /^\d+$/.test(value) ? Number(value) : value;
  if (!Number.isSafeInteger(n) || n < 1) throw new Error(`${name} must be a positive integer`);
  return n;
}

export function increment(ctx, by = 1) {
  const count = (ctx.get('count') ?? 0) + positiveInteger(by, 'by');
  ctx.put('count', count);
  return count;
}

export function get(ctx) {
  return ctx.get('count') ?? 0;
}

export function reset(ctx) {
  ctx.del('count');
  return 0;
}
