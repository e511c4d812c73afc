// iCode state held in memory: a StateView over a map, kept sorted lazily for ranges. The SDK's local
// harness and the tests use it; a node can use it as the in-memory cache its StateView needs.

import { type CanonicalJson, compareKeys, type StateWrite } from '../../domain/icode.ts';
import { inRange } from './overlay.ts';
import type { KeyRange, StateEntry, StateView } from './runtime.ts';

export class MemoryState implements StateView {
  private readonly values = new Map<string, CanonicalJson>();
  private sortedKeys: string[] | undefined;

  constructor(entries: Iterable<readonly [string, CanonicalJson]> = []) {
    for (const [key, value] of entries) this.values.set(key, value);
  }

  get size(): number {
    return this.values.size;
  }

  get(key: string): CanonicalJson | null {
    return this.values.get(key) ?? null;
  }

  range(range: KeyRange): StateEntry[] {
    this.sortedKeys ??= [...this.values.keys()].sort(compareKeys);
    const out: StateEntry[] = [];
    for (const key of this.sortedKeys) {
      if (out.length >= range.limit) break;
      if (inRange(key, range)) out.push({ key, value: this.values.get(key)! });
    }
    return out;
  }

  apply(writes: readonly StateWrite[]): void {
    for (const { key, value } of writes) {
      if (value === null) {
        if (this.values.delete(key)) this.sortedKeys = undefined;
      } else {
        if (!this.values.has(key)) this.sortedKeys = undefined;
        this.values.set(key, value);
      }
    }
  }

  entries(): StateEntry[] {
    return this.range({ limit: Number.POSITIVE_INFINITY });
  }
}
