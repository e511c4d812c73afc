import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { backoffStep } from '../../adapters/grpc/backoff.ts';
import type { PeerGateway } from '../../adapters/grpc/peer-gateway.ts';
import { type ChildPeer, killPeer, spawnPeer } from './support/child-peer.ts';
import {
  addressOf,
  eventually,
  type GrpcTestnet,
  gatewayFor,
  makeTestnet,
  nextEvent,
  TEST_BACKOFF,
} from './support/testnet.ts';

// Peers in processes of their own, so they can really die (SIGKILL) or stall (SIGSTOP).

let net: GrpcTestnet;
const running: PeerGateway[] = [];
const children: ChildPeer[] = [];

beforeAll(async () => {
  net = await makeTestnet(2);
});

afterAll(async () => {
  await net.remove();
});

afterEach(async () => {
  for (const child of children.splice(0)) {
    child.process.kill('SIGCONT');
    await killPeer(child);
  }
  await Promise.all(running.splice(0).map((gateway) => gateway.stop()));
});

async function child(index: number, port: number, bootstrapPeers: string[] = []): Promise<ChildPeer> {
  const peer = await spawnPeer({
    home: net.testnet.nodes[index]!.home,
    port,
    networkId: net.testnet.genesis.networkId,
    genesisSeal: net.genesisSeal,
    bootstrapPeers,
  });
  children.push(peer);
  return peer;
}

async function started(index: number, options: Parameters<typeof gatewayFor>[2] = {}) {
  const made = gatewayFor(net, index, options);
  running.push(made.gateway);
  await made.gateway.start({ port: 0 });
  return made;
}

async function countAt(gateway: PeerGateway, nodeId: string): Promise<number> {
  const reply = await gateway.request(nodeId, 'test.count', {});
  return (reply.payload.json() as { received: number }).received;
}

describe('peers that die or stall', () => {
  it('a killed peer is reported closed and redialled with growing, capped delays until it is back', async () => {
    const a = await started(0);
    const peerId = net.credentials[1]!.nodeId;
    // The peer dials a, so a must redial it at the listen address from its handshake.
    const connected = nextEvent(a.gateway, 'connection.created');
    const first = await child(1, 0, [addressOf(a.gateway)]);
    expect(await connected).toMatchObject({ nodeId: peerId, direction: 'inbound' });

    const closed = nextEvent(a.gateway, 'connection.closed');
    await killPeer(first);
    expect(await closed).toMatchObject({ nodeId: peerId, reconnect: true });
    await new Promise((resolve) => setTimeout(resolve, 800)); // several redials fail meanwhile

    // Back on the same port, dialling nobody: only a's redial can bring the link back.
    const back = nextEvent(a.gateway, 'connection.created', (peer) => peer.nodeId === peerId, 15_000);
    await child(1, first.port);
    expect(await back).toMatchObject({
      nodeId: peerId,
      direction: 'outbound',
      address: `127.0.0.1:${first.port}`,
    });

    // Redial n waits between half and all of min(400, 50·2ⁿ) ms: growing steps, capped, jittered.
    const redials = a.logger.find('debug', 'redial scheduled').map((entry) => entry.fields);
    expect(redials.length).toBeGreaterThanOrEqual(4);
    redials.forEach((fields, n) => {
      expect(fields.attempt).toBe(n);
      const step = backoffStep(TEST_BACKOFF, n);
      expect(fields.delayMs).toBeGreaterThanOrEqual(step / 2);
      expect(fields.delayMs).toBeLessThanOrEqual(step);
    });
    expect(backoffStep(TEST_BACKOFF, redials.length - 1)).toBe(TEST_BACKOFF.maxMs);
    expect(a.gateway.send(peerId, 'test.after', {})).toBe('queued');
    await eventually(() => a.gateway.stats()[0]?.queuedMessages === 0, 'the message to leave');
    expect(await countAt(a.gateway, peerId)).toBe(1);
  });

  it('a stalled peer (SIGSTOP) fills a bounded queue: sends are refused as queue-full, memory stays bounded, and all queued messages arrive after SIGCONT', async () => {
    const limits = { maxQueueBytes: 1024 * 1024, maxInFlightBytes: 256 * 1024 };
    const a = await started(0, { limits });
    const peer = await child(1, 0);
    const peerId = net.credentials[1]!.nodeId;
    await a.gateway.dial(`${peerId}@127.0.0.1:${peer.port}`);
    peer.process.kill('SIGSTOP');

    const payload = Buffer.alloc(16 * 1024, 'x');
    let queued = 0;
    let refused = 0;
    // 64 MiB offered: far more than the queue, the stream window and the socket buffers together hold.
    for (let i = 0; i < 4096 && refused < 100; i++) {
      const outcome = a.gateway.send(peerId, 'test.bulk', payload);
      if (outcome === 'queued') queued++;
      else {
        expect(outcome).toBe('queue-full');
        refused++;
      }
      if (i % 32 === 0) await new Promise((resolve) => setImmediate(resolve));
    }
    expect(refused).toBe(100);
    const stalled = a.gateway.stats()[0]!;
    expect(stalled.queuedBytes).toBeLessThanOrEqual(limits.maxQueueBytes);
    expect(stalled.inFlightBytes).toBeLessThanOrEqual(limits.maxInFlightBytes + 256 * 1024 + 1024);
    expect(stalled.dropped).toBe(100);
    // Logged when the queue becomes full, not for every refused message.
    const warnings = a.logger.find(
      'warn',
      'send queue to peer is full; new messages are refused until it drains',
    );
    expect(warnings.length).toBeGreaterThanOrEqual(1);
    expect(warnings.length).toBeLessThan(refused);

    peer.process.kill('SIGCONT');
    await eventually(() => a.gateway.stats()[0]?.queuedMessages === 0, 'the queue to drain', 10_000);
    await eventually(() => a.gateway.stats()[0]?.inFlightBytes === 0, 'the stream to drain', 10_000);
    expect(await countAt(a.gateway, peerId)).toBe(queued);
  });
});
