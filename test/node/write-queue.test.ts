import { describe, expect, it } from 'vitest';
import { WriteQueue } from '../../actors/write-queue.ts';

// The durability order the replica relies on: whatever was persisted or appended is on disk before
// any message issued after it leaves the node. The "disk" here is a write whose completion the test
// controls, so every interleaving is explicit.

/** A write that finishes when the test says so. */
function gate() {
  let open!: () => void;
  let fail!: (error: Error) => void;
  const done = new Promise<void>((resolve, reject) => {
    open = resolve;
    fail = reject;
  });
  return { done, open, fail };
}

const tick = () => new Promise<void>((resolve) => setImmediate(resolve));

describe('WriteQueue', () => {
  it('an effect issued after a write waits until that write is durable', async () => {
    const disk = gate();
    const log: string[] = [];
    const queue = new WriteQueue(() => {});
    queue.write(async () => {
      await disk.done;
      log.push('record on disk');
    });
    queue.afterDurable(() => log.push('vote sent'));
    await tick();
    expect(log).toEqual([]);
    disk.open();
    await queue.drained();
    expect(log).toEqual(['record on disk', 'vote sent']);
  });

  it('an effect with no write pending goes out at once', () => {
    const log: string[] = [];
    const queue = new WriteQueue(() => {});
    queue.afterDurable(() => log.push('sent'));
    expect(log).toEqual(['sent']);
  });

  it('effects leave in the order they were issued, each behind the writes issued before it', async () => {
    const first = gate();
    const second = gate();
    const log: string[] = [];
    const queue = new WriteQueue(() => {});
    queue.afterDurable(() => log.push('m0'));
    queue.write(() => first.done);
    queue.afterDurable(() => log.push('m1'));
    queue.write(() => second.done);
    queue.afterDurable(() => log.push('m2'));
    queue.afterDurable(() => log.push('m3'));
    first.open();
    await tick();
    expect(log).toEqual(['m0', 'm1']);
    second.open();
    await queue.drained();
    expect(log).toEqual(['m0', 'm1', 'm2', 'm3']);
  });

  it('writes run one at a time, in the order they were queued', async () => {
    const gates = [gate(), gate(), gate()];
    const started: number[] = [];
    const queue = new WriteQueue(() => {});
    for (const [i, g] of gates.entries()) {
      queue.write(async () => {
        started.push(i);
        await g.done;
      });
    }
    await tick();
    expect(started).toEqual([0]);
    gates[0]!.open();
    await tick();
    expect(started).toEqual([0, 1]);
    gates[1]!.open();
    gates[2]!.open();
    await queue.drained();
    expect(started).toEqual([0, 1, 2]);
  });

  it('a newer record replaces one still waiting at the tail, never one queued before a later write', async () => {
    const busy = gate();
    const written: string[] = [];
    const save = async (value: string) => {
      written.push(value);
    };
    const queue = new WriteQueue(() => {});
    queue.write(() => busy.done);
    queue.replace('record', 'r1', save);
    queue.replace('record', 'r2', save); // coalesced with r1: one write of r2
    queue.write(async () => {
      written.push('block');
    });
    queue.replace('record', 'r3', save); // after the block: a write of its own
    busy.open();
    await queue.drained();
    expect(written).toEqual(['r2', 'block', 'r3']);
  });

  it('a failed write is reported, and nothing issued after it ever leaves', async () => {
    const disk = gate();
    const failures: string[] = [];
    const log: string[] = [];
    const queue = new WriteQueue((error) => failures.push(error.message));
    queue.write(() => disk.done);
    queue.afterDurable(() => log.push('after the failed write'));
    disk.fail(new Error('disk full'));
    await queue.drained();
    queue.afterDurable(() => log.push('later'));
    expect(failures).toEqual(['disk full']);
    expect(log).toEqual([]);
    expect(queue.failure?.message).toBe('disk full');
  });
});
