import { type AnyActorRef, fromCallback } from 'xstate';
import type { ReplicaTimer } from './replica/replica.ts';

// Time as events (SPEC §1: machines have no timers of their own): the node's one place with real
// setTimeout. Another actor arms a named timer; when it fires, the timer actor sends `timer.fired`
// to the actor that armed it (by system ID). Arming an armed timer replaces it; a cancelled timer
// never fires.

export type TimerEvent =
  | { type: 'timer.arm'; timer: ReplicaTimer; ms: number }
  | { type: 'timer.cancel'; timer: ReplicaTimer }
  | { type: 'timer.cancelAll' };

export interface TimerFired {
  type: 'timer.fired';
  timer: ReplicaTimer;
}

export interface TimerActorInput {
  /** System ID of the actor the timers belong to. */
  owner: string;
}

export const timerActor = fromCallback<TimerEvent, TimerActorInput>(({ input, system, receive }) => {
  const armed = new Map<ReplicaTimer, NodeJS.Timeout>();
  const cancel = (timer: ReplicaTimer): void => {
    const handle = armed.get(timer);
    if (handle === undefined) return;
    clearTimeout(handle);
    armed.delete(timer);
  };
  receive((event) => {
    switch (event.type) {
      case 'timer.arm': {
        cancel(event.timer);
        const handle = setTimeout(
          () => {
            armed.delete(event.timer);
            const owner: AnyActorRef | undefined = system.get(input.owner);
            owner?.send({ type: 'timer.fired', timer: event.timer } satisfies TimerFired);
          },
          Math.max(0, event.ms),
        );
        armed.set(event.timer, handle);
        return;
      }
      case 'timer.cancel':
        cancel(event.timer);
        return;
      case 'timer.cancelAll':
        for (const timer of [...armed.keys()]) cancel(timer);
        return;
    }
  });
  return () => {
    for (const handle of armed.values()) clearTimeout(handle);
    armed.clear();
  };
});
