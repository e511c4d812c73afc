import { createHash, randomBytes } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { PeerGateway } from '../../adapters/grpc/peer-gateway.ts';
import type { PeerInfo } from '../../adapters/grpc/peer-network.ts';
import {
  addressOf,
  eventually,
  type GrpcTestnet,
  gatewayFor,
  makeTestnet,
  nextEvent,
} from './support/testnet.ts';

// Gateways of one testnet on real loopback sockets with real certificates (SPEC §2, §4, §6).

let net: GrpcTestnet;
const running: PeerGateway[] = [];

beforeAll(async () => {
  net = await makeTestnet(4);
});

afterAll(async () => {
  await net.remove();
});

afterEach(async () => {
  await Promise.all(running.splice(0).map((gateway) => gateway.stop()));
});

async function started(index: number, options: Parameters<typeof gatewayFor>[2] = {}) {
  const made = gatewayFor(net, index, options);
  running.push(made.gateway);
  await made.gateway.start({ host: '127.0.0.1', port: 0 });
  return made;
}

function ids(peers: PeerInfo[]): string[] {
  return peers.map((peer) => peer.nodeId).sort();
}

describe('peer gateway on loopback', () => {
  it('four gateways connect (bootstrap peers dialled at start) and every one hears every broadcast', async () => {
    const first = await Promise.all([0, 1, 2].map((i) => started(i)));
    const bootstrapPeers = first.map(({ gateway }) => addressOf(gateway));
    const last = await started(3, { bootstrapPeers });
    await first[0]!.gateway.dial(addressOf(first[1]!.gateway));
    await first[0]!.gateway.dial(addressOf(first[2]!.gateway));
    await first[1]!.gateway.dial(addressOf(first[2]!.gateway));
    const all = [...first, last].map((made) => made.gateway);
    await eventually(() => all.every((gateway) => gateway.peers().length === 3), 'a full mesh');

    const received = new Map<string, string[]>(all.map((gateway) => [gateway.nodeId, []]));
    for (const gateway of all) {
      gateway.onMessage((from, type, payload) => {
        const body = payload.json() as { n: number };
        received.get(gateway.nodeId)!.push(`${type}:${from}:${body.n}`);
      });
    }
    for (const gateway of all) {
      const result = gateway.broadcast('test.hello', { n: 7 });
      expect(result.queued).toHaveLength(3);
    }
    await eventually(
      () => all.every((gateway) => received.get(gateway.nodeId)!.length === 3),
      'all broadcasts',
    );
    for (const gateway of all) {
      const expected = all
        .filter((other) => other !== gateway)
        .map((other) => `test.hello:${other.nodeId}:7`)
        .sort();
      expect(received.get(gateway.nodeId)!.sort()).toEqual(expected);
    }
    for (const gateway of all) expect(gateway.openStreams()).toBe(3);
  });

  it('messages to one peer arrive in the order they were sent', async () => {
    const a = await started(0);
    const b = await started(1);
    await a.gateway.dial(addressOf(b.gateway));
    await eventually(() => b.gateway.peers().length === 1, 'b to see a');
    const seen: number[] = [];
    b.gateway.onMessage((_from, _type, payload) => seen.push((payload.json() as { i: number }).i));
    for (let i = 0; i < 5_000; i++)
      expect(a.gateway.send(b.gateway.nodeId, 'test.seq', { i })).toBe('queued');
    await eventually(() => seen.length === 5_000, 'all 5000 messages');
    expect(seen).toEqual(Array.from({ length: 5_000 }, (_, i) => i));
  });

  it('a message of 1 MiB and a 1 MiB reply to a request get through intact', async () => {
    const a = await started(0);
    const b = await started(1);
    await a.gateway.dial(addressOf(b.gateway));
    await eventually(() => b.gateway.peers().length === 1, 'b to see a');
    const big = randomBytes(1024 * 1024);
    const digest = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');
    const arrived = new Promise<string>((resolve) => {
      b.gateway.onMessage((_from, type, payload) => {
        if (type === 'test.big') resolve(digest(payload.bytes));
      });
    });
    expect(a.gateway.send(b.gateway.nodeId, 'test.big', big)).toBe('queued');
    expect(await arrived).toBe(digest(big));

    b.gateway.onRequest('test.blocks', (_from, payload) => {
      const { from } = payload.json() as { from: number };
      return { from, blob: big.toString('base64') };
    });
    const reply = await a.gateway.request(b.gateway.nodeId, 'test.blocks', { from: 5 });
    const body = reply.payload.json() as { from: number; blob: string };
    expect(body.from).toBe(5);
    expect(digest(Buffer.from(body.blob, 'base64'))).toBe(digest(big));
  });

  it('when both peers dial each other at once, one stream remains on each side: the one the lower node ID dialled', async () => {
    const a = await started(0);
    const b = await started(1);
    const [lower, higher] = a.gateway.nodeId < b.gateway.nodeId ? [a, b] : [b, a];
    const created = { lower: 0, higher: 0 };
    lower.gateway.on('connection.created', () => created.lower++);
    higher.gateway.on('connection.created', () => created.higher++);
    const heard = { lower: 0, higher: 0 };
    lower.gateway.onMessage(() => heard.lower++);
    higher.gateway.onMessage(() => heard.higher++);
    for (let round = 1; round <= 5; round++) {
      await Promise.all([
        lower.gateway.dial(addressOf(higher.gateway)),
        higher.gateway.dial(addressOf(lower.gateway)),
      ]);
      // Sent while the duplicate stream is being finished: none of it may be lost.
      for (let i = 0; i < 200; i++) {
        lower.gateway.send(higher.gateway.nodeId, 'test.race', { i });
        higher.gateway.send(lower.gateway.nodeId, 'test.race', { i });
      }
      await eventually(
        () => lower.gateway.openStreams() === 1 && higher.gateway.openStreams() === 1,
        'one stream on each side',
      );
      expect(lower.gateway.peers().map((peer) => peer.direction)).toEqual(['outbound']);
      expect(higher.gateway.peers().map((peer) => peer.direction)).toEqual(['inbound']);
      expect(created).toEqual({ lower: round, higher: round });
      // Both dials completed their handshakes, so each side really had two streams to choose from.
      const duplicates = (made: typeof lower) =>
        made.logger.find('debug', 'second stream to the same peer; keeping one');
      expect([duplicates(lower).length, duplicates(higher).length]).toEqual([round, round]);
      await eventually(() => heard.lower === round * 200 && heard.higher === round * 200, 'every message');
      const closed = nextEvent(higher.gateway, 'connection.closed');
      lower.gateway.disconnect(higher.gateway.nodeId);
      await closed;
    }
  });

  it('join learns every peer of the peer it joins through, connects to all, and reports network.joined', async () => {
    const [b, c, d] = await Promise.all([1, 2, 3].map((i) => started(i)));
    await b!.gateway.dial(addressOf(c!.gateway));
    await c!.gateway.dial(addressOf(d!.gateway));
    await b!.gateway.dial(addressOf(d!.gateway));
    const a = await started(0);
    const joined = nextEvent(a.gateway, 'network.joined');
    const { host, port } = b!.gateway.address!;
    const result = await a.gateway.join(`${host}:${port}`); // host:port only: the node ID comes from the certificate
    const others = [b!, c!, d!].map(({ gateway }) => gateway.nodeId).sort();
    expect(result.via.nodeId).toBe(b!.gateway.nodeId);
    expect(ids(result.peers)).toEqual(others);
    expect(result.failed).toEqual([]);
    expect(await joined).toEqual(result);
    for (const { gateway } of [b!, c!, d!]) {
      await eventually(
        () => gateway.peers().some((peer) => peer.nodeId === a.gateway.nodeId),
        'the joiner to be a peer',
      );
    }
  });

  it('disconnect closes the stream on both sides, both report it, and neither redials', async () => {
    const a = await started(0);
    const b = await started(1);
    await a.gateway.dial(addressOf(b.gateway));
    const closedA = nextEvent(a.gateway, 'connection.closed');
    const closedB = nextEvent(b.gateway, 'connection.closed');
    expect(a.gateway.disconnect(b.gateway.nodeId)).toBe(true);
    expect(await closedA).toMatchObject({ nodeId: b.gateway.nodeId, reconnect: false });
    expect(await closedB).toMatchObject({ nodeId: a.gateway.nodeId, reconnect: false });
    expect((await closedB).reason).toContain('disconnected');
    await new Promise((resolve) => setTimeout(resolve, 600)); // past several redial delays (50–400 ms)
    expect(a.gateway.peers()).toEqual([]);
    expect(b.gateway.peers()).toEqual([]);
    expect(a.gateway.send(b.gateway.nodeId, 'test.after', {})).toBe('not-connected');
    await b.gateway.dial(addressOf(a.gateway));
    expect(ids(a.gateway.peers())).toEqual([b.gateway.nodeId]);
  });

  it('a request without a handler, or one that throws, fails at the caller with the reason; one unanswered times out', async () => {
    const a = await started(0);
    const b = await started(1);
    await a.gateway.dial(addressOf(b.gateway));
    await eventually(() => b.gateway.peers().length === 1, 'b to see a');
    await expect(a.gateway.request(b.gateway.nodeId, 'test.nobody', {})).rejects.toThrow(
      'no handler for requests of type "test.nobody"',
    );
    b.gateway.onRequest('test.throws', () => {
      throw new Error('height 9 is not stored');
    });
    await expect(a.gateway.request(b.gateway.nodeId, 'test.throws', {})).rejects.toThrow(
      'height 9 is not stored',
    );
    b.gateway.onRequest('test.never', () => new Promise(() => {}));
    await expect(
      a.gateway.request(b.gateway.nodeId, 'test.never', {}, { timeoutMs: 100 }),
    ).rejects.toMatchObject({
      reason: 'timeout',
    });
    expect(() => a.gateway.send(b.gateway.nodeId, 'gateway.peers', {})).toThrow('reserved');
  });

  it('a peer that stops cleanly is reported closed, redialled with backoff, and reconnected when it is back', async () => {
    const a = await started(0);
    const b = await started(1, { height: () => 42 });
    const { port } = b.gateway.address!;
    const before = Date.now();
    const info = await a.gateway.dial(addressOf(b.gateway));
    expect(info).toMatchObject({
      nodeId: b.gateway.nodeId,
      address: `127.0.0.1:${port}`,
      direction: 'outbound',
      height: 42,
    });
    expect(info.connectedAt.getTime()).toBeGreaterThanOrEqual(before);

    const closed = nextEvent(a.gateway, 'connection.closed');
    await b.gateway.stop();
    expect(await closed).toMatchObject({ nodeId: b.gateway.nodeId, reconnect: true });
    expect((await closed).reason).toContain('stopping');
    await new Promise((resolve) => setTimeout(resolve, 300));

    const again = nextEvent(a.gateway, 'connection.created');
    const back = gatewayFor(net, 1, { height: () => 43 });
    running.push(back.gateway);
    await back.gateway.start({ port });
    expect(await again).toMatchObject({ nodeId: b.gateway.nodeId, direction: 'outbound', height: 43 });
  });

  it('a bootstrap peer that is not up yet is dialled with backoff until it answers', async () => {
    // A port that was just free: where node 1 will listen, later.
    const probe = await started(1);
    const { port } = probe.gateway.address!;
    await probe.gateway.stop();
    const a = await started(0, { bootstrapPeers: [`${net.credentials[1]!.nodeId}@127.0.0.1:${port}`] });
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(a.gateway.peers()).toEqual([]);
    expect(a.logger.find('debug', 'peer unreachable').length).toBeGreaterThanOrEqual(2);

    const connected = nextEvent(a.gateway, 'connection.created');
    const late = gatewayFor(net, 1);
    running.push(late.gateway);
    await late.gateway.start({ port });
    expect(await connected).toMatchObject({ nodeId: late.gateway.nodeId, direction: 'outbound' });
  });
});
