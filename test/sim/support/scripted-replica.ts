import type { NodeId } from '../../../domain/identity.ts';
import type { Transaction } from '../../../domain/transaction.ts';
import type { Replica, ReplicaContext, Wiring } from '../../../sim/replica.ts';

// A replica whose every reaction is a callback: lets a test drive the simulator's host through
// exactly the calls it wants to observe (persist, send, timers) without any protocol around them.

export interface Script<M> {
  create?(ctx: ReplicaContext<M>): void;
  deliver?(ctx: ReplicaContext<M>, from: NodeId, message: M): void;
  timer?(ctx: ReplicaContext<M>, timerId: string): void;
  submit?(ctx: ReplicaContext<M>, tx: Transaction): void;
}

export function scripted<M extends object>(
  script: Script<M>,
  describe = (m: M) => JSON.stringify(m),
): Wiring<M> {
  return {
    name: 'scripted',
    certifiesCommits: false,
    describe,
    create(ctx): Replica<M> {
      script.create?.(ctx);
      return {
        deliver: (from, message) => script.deliver?.(ctx, from, message),
        fireTimer: (timerId) => script.timer?.(ctx, timerId),
        submitTx: (tx) => script.submit?.(ctx, tx),
        status: () => ({ height: 0 }),
      };
    },
  };
}
