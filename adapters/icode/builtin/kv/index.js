// The built-in `kv` iCode (SPEC §6): a plain key-value store every chain has without a deploy, so a
// network is usable before anyone writes code. `itchain tx submit kv put greeting hello`.

export function put(ctx, key, value) {
  ctx.put(key, value);
  return null;
}

export function get(ctx, key) {
  return ctx.get(key);
}

export function del(ctx, key) {
  ctx.del(key);
  return null;
}
