import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { TimerTable, VirtualClock } from '../../sim/clock.ts';
import { EventQueue } from '../../sim/event-queue.ts';

describe('EventQueue', () => {
  it('pops events by time, and events at the same time in the order they were scheduled', () => {
    fc.assert(
      fc.property(
        fc.array(fc.oneof(fc.integer({ min: 0, max: 20 }), fc.constant('pop' as const)), { maxLength: 300 }),
        (ops) => {
          const q = new EventQueue<number>();
          const reference: { time: number; seq: number }[] = [];
          let seq = 0;
          for (const op of ops) {
            if (op === 'pop') {
              reference.sort((a, b) => a.time - b.time || a.seq - b.seq);
              const want = reference.shift();
              const got = q.pop();
              expect(got && { time: got.time, seq: got.event }).toEqual(want);
            } else {
              q.push(op, seq);
              reference.push({ time: op, seq });
              seq += 1;
            }
          }
          expect(q.size).toBe(reference.length);
        },
      ),
    );
  });

  it('refuses an event at a time that is not finite', () => {
    const q = new EventQueue<string>();
    expect(() => q.push(Number.POSITIVE_INFINITY, 'x')).toThrow(RangeError);
    expect(() => q.push(Number.NaN, 'x')).toThrow(RangeError);
  });
});

describe('VirtualClock and TimerTable', () => {
  it('virtual time never goes back', () => {
    const clock = new VirtualClock();
    clock.advanceTo(10);
    clock.advanceTo(10);
    expect(() => clock.advanceTo(9)).toThrow(RangeError);
    expect(clock.now()).toBe(10);
  });

  it('re-arming a timer id replaces it, cancelling forgets it, and only the live arming fires', () => {
    const timers = new TimerTable();
    timers.arm('election', 1);
    timers.arm('election', 2);
    expect(timers.take('election', 1)).toBe(false);
    expect(timers.take('election', 2)).toBe(true);
    expect(timers.take('election', 2)).toBe(false);
    timers.arm('round', 3);
    expect(timers.cancel('round')).toBe(true);
    expect(timers.take('round', 3)).toBe(false);
    timers.arm('a', 4);
    timers.clear();
    expect(timers.size).toBe(0);
  });
});
