import { describe, expect, it } from 'vitest';
import { MemoryBus } from '../../adapters/bus/memory-bus.ts';
import { busContract } from './bus-contract.ts';
import { CaptureLogger, Inbox, range, waitUntil } from './fixtures/bus-test-kit.ts';

busContract('MemoryBus', async () => {
  const logger = new CaptureLogger();
  return { bus: new MemoryBus(logger), logger };
});

describe('MemoryBus', () => {
  it('delivers every message accepted before close, before close resolves', async () => {
    const bus = new MemoryBus(new CaptureLogger());
    const inbox = new Inbox();
    await bus.subscribe('leader.updated', inbox.handler);
    for (const term of range(100)) void bus.publish('leader.updated', { leader: 'n0', term });
    await bus.close();
    expect(inbox.messages).toHaveLength(100);
  });

  it('delivers a message a handler publishes only after that handler returns (no re-entrancy)', async () => {
    const bus = new MemoryBus(new CaptureLogger());
    const trace: string[] = [];
    await bus.subscribe('leader.updated', async (m) => {
      trace.push(`enter ${m.payload.term}`);
      if (m.payload.term < 3) await bus.publish('leader.updated', { leader: 'n0', term: m.payload.term + 1 });
      trace.push(`leave ${m.payload.term}`);
    });
    await bus.publish('leader.updated', { leader: 'n0', term: 1 });
    await waitUntil(() => trace.length === 6, 'three nested publishes');
    await bus.close();
    expect(trace).toEqual(['enter 1', 'leave 1', 'enter 2', 'leave 2', 'enter 3', 'leave 3']);
  });

  it('warns when a pattern matches no known topic (a likely typo)', async () => {
    const logger = new CaptureLogger();
    const bus = new MemoryBus(logger);
    await bus.subscribe('blok.*', () => {});
    await bus.subscribe('block.*', () => {});
    expect(logger.entries.filter((e) => e.level === 'warn').map((e) => e.details)).toEqual([
      { pattern: 'blok.*' },
    ]);
    await bus.close();
  });
});
