import { describe, expect, it } from 'vitest';
import { Network, type NetworkFaults } from '../../sim/network.ts';
import { Random } from '../../sim/random.ts';

const faults = (f: Partial<NetworkFaults> = {}): NetworkFaults => ({
  dropRate: 0,
  duplicateRate: 0,
  minDelayMs: 1,
  maxDelayMs: 1,
  ...f,
});

function send(net: Network, from: number, to: number, times: number) {
  return Array.from({ length: times }, () => net.route(from, to));
}

describe('Network', () => {
  it('loses messages at the configured drop rate (20% of 20,000, within 1.5 points)', () => {
    const net = new Network(4, faults({ dropRate: 0.2 }), Random.fromSeed(1));
    const routes = send(net, 0, 1, 10_000).concat(send(net, 2, 3, 10_000));
    const lost = routes.filter((r) => r.kind === 'drop').length;
    expect(Math.abs(lost / 20_000 - 0.2)).toBeLessThan(0.015);
    expect(net.stats.dropped.loss).toBe(lost);
    expect(net.stats.sent).toBe(20_000);
  });

  it('duplicates at the configured rate, each copy with its own delay', () => {
    const net = new Network(
      2,
      faults({ duplicateRate: 0.1, minDelayMs: 0, maxDelayMs: 1000 }),
      Random.fromSeed(2),
    );
    const routes = send(net, 0, 1, 20_000);
    const twice = routes.filter((r) => r.kind === 'deliver' && r.delaysMs.length === 2);
    expect(Math.abs(twice.length / 20_000 - 0.1)).toBeLessThan(0.01);
    const sameDelay = twice.filter((r) => r.kind === 'deliver' && r.delaysMs[0] === r.delaysMs[1]);
    expect(sameDelay.length).toBeLessThan(twice.length / 50);
    expect(net.stats.duplicated).toBe(twice.length);
  });

  it('delays stay within [min, max] and reorder messages sent in a row', () => {
    const net = new Network(2, faults({ minDelayMs: 5, maxDelayMs: 50 }), Random.fromSeed(3));
    const arrivals = send(net, 0, 1, 1000).map((r, sentAt) => {
      if (r.kind !== 'deliver') throw new Error('nothing is lost here');
      return { sentAt, at: sentAt + r.delaysMs[0]! };
    });
    const delays = arrivals.map((a) => a.at - a.sentAt);
    expect(Math.min(...delays)).toBe(5);
    expect(Math.max(...delays)).toBe(50);
    const order = [...arrivals].sort((a, b) => a.at - b.at || a.sentAt - b.sentAt).map((a) => a.sentAt);
    const overtaken = order.filter((sentAt, i) => i > 0 && sentAt < order[i - 1]!).length;
    expect(overtaken).toBeGreaterThan(100);
  });

  it('a partition cuts links between groups but not within one; unlisted nodes form a group; healing restores', () => {
    const net = new Network(5, faults(), Random.fromSeed(4));
    net.partition(7, [[0, 1], [2]]);
    expect(net.cut(0, 1)).toBeNull();
    expect(net.cut(0, 2)).toBe('partition');
    expect(net.cut(2, 0)).toBe('partition');
    expect(net.cut(3, 4)).toBeNull();
    expect(net.cut(1, 3)).toBe('partition');
    expect(net.route(0, 2)).toEqual({ kind: 'drop', reason: 'partition' });
    net.heal(7);
    expect(net.cut(0, 2)).toBeNull();
    expect(net.route(0, 2).kind).toBe('deliver');
  });

  it('overlapping partitions each cut their links until each heals', () => {
    const net = new Network(4, faults(), Random.fromSeed(4));
    net.partition(1, [[0]]);
    net.partition(2, [[3]]);
    net.heal(1);
    expect(net.cut(0, 1)).toBeNull();
    expect(net.cut(0, 3)).toBe('partition');
  });

  it('a blocked link is one-way, and blocks nest', () => {
    const net = new Network(3, faults(), Random.fromSeed(5));
    net.blockLink(0, 1);
    net.blockLink(0, 1);
    expect(net.cut(0, 1)).toBe('link-blocked');
    expect(net.cut(1, 0)).toBeNull();
    net.unblockLink(0, 1);
    expect(net.cut(0, 1)).toBe('link-blocked');
    net.unblockLink(0, 1);
    expect(net.cut(0, 1)).toBeNull();
  });

  it("a link's k-th message meets the same fate whatever other links carry and whatever partitions cut it", () => {
    const lossy = faults({ dropRate: 0.3, duplicateRate: 0.2, minDelayMs: 1, maxDelayMs: 100 });
    const quiet = new Network(3, lossy, Random.fromSeed(6));
    const busy = new Network(3, lossy, Random.fromSeed(6));
    const fates: unknown[] = [];
    for (let k = 0; k < 200; k++) {
      send(busy, 1, 2, 3);
      if (k === 50) busy.partition(0, [[0]]);
      if (k === 60) busy.heal(0);
      const b = busy.route(0, 1);
      const q = quiet.route(0, 1);
      if (k < 50 || k >= 60) fates.push([b, q]);
      else expect(b).toEqual({ kind: 'drop', reason: 'partition' });
    }
    for (const [b, q] of fates as [unknown, unknown][]) expect(b).toEqual(q);
  });

  it('refuses fault rates outside [0, 1] and delays that do not make a range', () => {
    const r = Random.fromSeed(0);
    expect(() => new Network(2, faults({ dropRate: 1.5 }), r)).toThrow(RangeError);
    expect(() => new Network(2, faults({ duplicateRate: -0.1 }), r)).toThrow(RangeError);
    expect(() => new Network(2, faults({ minDelayMs: 10, maxDelayMs: 5 }), r)).toThrow(RangeError);
    expect(() => new Network(2, faults({ minDelayMs: 1.5 }), r)).toThrow(RangeError);
  });
});
