// A read view with pending writes laid over it: a call sees its own writes (state-access.ts), and a
// block's later txs see the writes of its earlier ones (block-state.ts).

import { type CanonicalJson, compareKeys } from '../../domain/icode.ts';
import type { KeyRange, StateEntry, StateView } from './runtime.ts';

export function inRange(key: string, range: Omit<KeyRange, 'limit'>): boolean {
  if (range.prefix !== undefined && !key.startsWith(range.prefix)) return false;
  if (range.from !== undefined && compareKeys(key, range.from) < 0) return false;
  if (range.to !== undefined && compareKeys(key, range.to) >= 0) return false;
  return true;
}

/** Entries of `range` in `base` with `pending` (null = deleted) applied, sorted, at most range.limit. */
export function overlayRange(
  base: StateView,
  pending: ReadonlyMap<string, CanonicalJson | null>,
  range: KeyRange,
): StateEntry[] {
  let overridden = 0;
  for (const k of pending.keys()) if (inRange(k, range)) overridden++;
  // Ask for enough committed entries that, after the pending deletes and overwrites, `limit` remain.
  const merged = new Map<string, CanonicalJson>();
  for (const e of base.range({ ...range, limit: range.limit + overridden })) merged.set(e.key, e.value);
  for (const [k, v] of pending) {
    if (!inRange(k, range)) continue;
    if (v === null) merged.delete(k);
    else merged.set(k, v);
  }
  return [...merged]
    .sort(([a], [b]) => compareKeys(a, b))
    .slice(0, range.limit)
    .map(([key, value]) => ({ key, value }));
}

export function overlayView(base: StateView, pending: ReadonlyMap<string, CanonicalJson | null>): StateView {
  return {
    get: (key) => (pending.has(key) ? pending.get(key)! : base.get(key)),
    range: (range) => overlayRange(base, pending, range),
  };
}
