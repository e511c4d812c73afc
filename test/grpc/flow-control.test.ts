import { describe, expect, it } from 'vitest';
import { backoffDelay, backoffStep } from '../../adapters/grpc/backoff.ts';
import { parseDialAddress, redialAddress } from '../../adapters/grpc/dial-address.ts';
import { MESSAGE_OVERHEAD_BYTES, queuedMessage, SendQueue } from '../../adapters/grpc/send-queue.ts';

// The small rules the gateway's connection handling rests on: bounded send queues, redial delays and
// peer addresses.

function message(bytes: number, type = 't') {
  return queuedMessage({ type, payload: Buffer.alloc(bytes), requestId: 0, replyTo: 0 });
}

describe('send queue', () => {
  it('refuses a message that would pass its byte or message limit, and keeps what it holds', () => {
    const size = 100 + 1 + MESSAGE_OVERHEAD_BYTES;
    const queue = new SendQueue({ maxBytes: size * 3, maxMessages: 10 });
    expect([1, 2, 3, 4].map(() => queue.offer(message(100)))).toEqual([true, true, true, false]);
    expect(queue.length).toBe(3);
    expect(queue.bytes).toBe(size * 3);
    const counted = new SendQueue({ maxBytes: 1e9, maxMessages: 2 });
    expect([1, 2, 3].map(() => counted.offer(message(1)))).toEqual([true, true, false]);
  });

  it('takes any one message when empty, however large, so no message is too big to ever leave', () => {
    const queue = new SendQueue({ maxBytes: 10, maxMessages: 10 });
    expect(queue.offer(message(1000))).toBe(true);
    expect(queue.offer(message(1))).toBe(false);
  });

  it('hands out batches in order, at least one message, up to the batch limits', () => {
    const queue = new SendQueue({ maxBytes: 1e9, maxMessages: 1e6 });
    for (let i = 0; i < 5000; i++) queue.offer(message(i % 7, `t${i}`));
    const taken: string[] = [];
    while (queue.length > 0) {
      const batch = queue.take(600, 100);
      expect(batch.length).toBeGreaterThan(0);
      expect(batch.length).toBeLessThanOrEqual(100);
      if (batch.length > 1) expect(batch.reduce((sum, m) => sum + m.size, 0)).toBeLessThanOrEqual(600);
      taken.push(...batch.map((m) => m.type));
    }
    expect(taken).toEqual(Array.from({ length: 5000 }, (_, i) => `t${i}`));
    expect(queue.bytes).toBe(0);
    queue.offer(message(2000));
    expect(queue.take(600, 100)).toHaveLength(1);
  });
});

describe('redial backoff', () => {
  const policy = { initialMs: 100, maxMs: 3_000 };

  it('doubles per attempt from the initial delay, jittered within [½, 1] of the step, up to the cap', () => {
    expect([0, 1, 2, 3, 4, 5, 10].map((n) => backoffDelay(policy, n, 0.999_999))).toEqual([
      100, 200, 400, 800, 1600, 3000, 3000,
    ]);
    expect([0, 1, 2, 5, 50].map((n) => backoffDelay(policy, n, 0))).toEqual([50, 100, 200, 1500, 1500]);
  });

  it('stays within [½, 1] of its step for any jitter', () => {
    for (let n = 0; n < 12; n++) {
      for (const random of [0, 0.25, 0.5, 0.999]) {
        const delay = backoffDelay(policy, n, random);
        expect(delay).toBeGreaterThanOrEqual(backoffStep(policy, n) / 2);
        expect(delay).toBeLessThanOrEqual(backoffStep(policy, n));
      }
    }
  });
});

describe('peer addresses', () => {
  const id = 'ab'.repeat(20);

  it('dials host:port or nodeId@host:port, IPv6 in brackets', () => {
    expect(parseDialAddress('127.0.0.1:5000')).toEqual({ host: '127.0.0.1', port: 5000 });
    expect(parseDialAddress(`${id}@node.example:5001`)).toEqual({
      nodeId: id,
      host: 'node.example',
      port: 5001,
    });
    expect(parseDialAddress('[::1]:5002')).toEqual({ host: '::1', port: 5002 });
    for (const bad of ['127.0.0.1', ':5000', '127.0.0.1:0', '127.0.0.1:70000', 'nobody@127.0.0.1:5000']) {
      expect(parseDialAddress(bad)).toBeNull();
    }
  });

  it('redials a peer at its announced listen address, with its connection host when it listens on all interfaces', () => {
    expect(redialAddress('10.0.0.5:5003', '10.0.0.9:41234')).toBe('10.0.0.5:5003');
    expect(redialAddress('0.0.0.0:5003', '10.0.0.9:41234')).toBe('10.0.0.9:5003');
    expect(redialAddress('[::]:5003', '[::ffff:10.0.0.9]:41234')).toBe('10.0.0.9:5003');
    expect(redialAddress('[::]:5003', '[fe80::1]:41234')).toBe('[fe80::1]:5003');
    expect(redialAddress('', '10.0.0.9:41234')).toBeNull();
  });
});
