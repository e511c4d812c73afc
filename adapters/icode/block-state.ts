// The state a block's txs run against: committed state with the writes of the block's earlier txs on
// top, so tx k sees txs 1..k-1 in block order. At the end it hands over the block's final writes,
// which go into the block's atomic batch and into nextStateRoot (domain/icode-state-root.ts).

import type { CanonicalJson, StateWrite } from '../../domain/icode.ts';
import type { BlockWrite } from '../../domain/icode-state-root.ts';
import { overlayView } from './overlay.ts';
import type { StateView } from './runtime.ts';

export class BlockState {
  private readonly pending = new Map<string, Map<string, CanonicalJson | null>>();

  /** `committed(icodeId)` is the committed state of an iCode before the block. */
  constructor(private readonly committed: (icodeId: string) => StateView) {}

  view(icodeId: string): StateView {
    return overlayView(this.committed(icodeId), this.pendingOf(icodeId));
  }

  /** Lays a successful invoke's writes over the block's state. */
  apply(icodeId: string, writes: readonly StateWrite[]): void {
    const pending = this.pendingOf(icodeId);
    for (const { key, value } of writes) pending.set(key, value);
  }

  /** Every key the block changed, with its final value (null = deleted). */
  writes(): BlockWrite[] {
    const out: BlockWrite[] = [];
    for (const [icodeId, pending] of this.pending) {
      for (const [key, value] of pending) out.push({ icodeId, key, value });
    }
    return out;
  }

  private pendingOf(icodeId: string): Map<string, CanonicalJson | null> {
    let pending = this.pending.get(icodeId);
    if (!pending) {
      pending = new Map();
      this.pending.set(icodeId, pending);
    }
    return pending;
  }
}
