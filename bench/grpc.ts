// `npx tsx bench/grpc.ts`: how many messages per second go through the peer gateway, with envelopes
// signed (Ed25519) by the sender and verified by the receiver, over mTLS on loopback. Not a test: prints
// a table and writes bench/results/grpc.json. The receiver is a gateway in a child process (its own
// core); the sender pushes as fast as the gateway accepts, backing off briefly on "queue-full", and the
// clock stops when the receiver has counted every message.
import { writeFile } from 'node:fs/promises';
import { cpus, loadavg } from 'node:os';
import { PeerGateway, type PeerLimits } from '../adapters/grpc/peer-gateway.ts';
import { type ChildPeer, killPeer, spawnPeer } from '../test/grpc/support/child-peer.ts';
import { makeTestnet, signerFor } from '../test/grpc/support/testnet.ts';

const RUNS = Number(process.env.BENCH_RUNS ?? 3);
const SCALE = Number(process.env.BENCH_SCALE ?? 1);

interface Result {
  name: string;
  messages: number;
  payloadBytes: number;
  seconds: number;
  msgsPerSec: number;
  mbPerSec: number;
  envelopes: number;
  msgsPerEnvelope: number;
  /** msgs/s of every run, slowest first; the figures above are the median run's. */
  runs?: number[];
  note?: string;
}

const net = await makeTestnet(2, 'bench-grpc');
const receiverId = net.credentials[1]!.nodeId;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const nextTurn = () => new Promise((resolve) => setImmediate(resolve));

async function receiver(): Promise<ChildPeer> {
  return spawnPeer({
    home: net.testnet.nodes[1]!.home,
    port: 0,
    networkId: net.testnet.genesis.networkId,
    genesisSeal: net.genesisSeal,
  });
}

async function sender(peer: ChildPeer, limits: Partial<PeerLimits> = {}): Promise<PeerGateway> {
  const gateway = new PeerGateway({
    credentials: net.credentials[0]!,
    signer: signerFor(net.credentials[0]!),
    networkId: net.testnet.genesis.networkId,
    genesisSeal: net.genesisSeal,
    limits,
  });
  await gateway.start({ port: 0 });
  await gateway.dial(`${receiverId}@127.0.0.1:${peer.port}`);
  return gateway;
}

async function receivedBy(gateway: PeerGateway): Promise<number> {
  const reply = await gateway.request(receiverId, 'test.count', {});
  return (reply.payload.json() as { received: number }).received;
}

/** Sends `count` messages of `bytes` JSON bytes and waits until the receiver has them all. */
async function oneWay(
  name: string,
  count: number,
  bytes: number,
  limits: Partial<PeerLimits> = {},
  note?: string,
) {
  const samples: Result[] = [];
  for (let run = 0; run < RUNS; run++) {
    const peer = await receiver();
    const gateway = await sender(peer, limits);
    const payload = Buffer.from(JSON.stringify({ tx: 'x'.repeat(Math.max(0, bytes - 9)) }));
    const start = performance.now();
    let sent = 0;
    while (sent < count) {
      const outcome = gateway.send(receiverId, 'bench.message', payload);
      if (outcome === 'queued') {
        sent++;
        if (sent % 256 === 0) await nextTurn();
      } else if (outcome === 'queue-full') {
        await sleep(1);
      } else {
        throw new Error(`send failed: ${outcome}`);
      }
    }
    while ((await receivedBy(gateway)) < count) await sleep(5);
    const seconds = (performance.now() - start) / 1000;
    const envelopes = gateway.stats()[0]!.envelopesSent;
    samples.push({
      name,
      messages: count,
      payloadBytes: payload.length,
      seconds: round(seconds, 3),
      msgsPerSec: Math.round(count / seconds),
      mbPerSec: round((count * payload.length) / seconds / 1e6, 1),
      envelopes,
      msgsPerEnvelope: round(count / envelopes, 1),
      ...(note ? { note } : {}),
    });
    await gateway.stop();
    await killPeer(peer, 'SIGTERM');
  }
  // The median run: the machine is shared, so single runs swing.
  samples.sort((a, b) => a.msgsPerSec - b.msgsPerSec);
  const median = { ...samples[Math.floor(samples.length / 2)]!, runs: samples.map((s) => s.msgsPerSec) };
  results.push(median);
  console.log(`${name}: ${median.msgsPerSec} msgs/s (runs: ${samples.map((s) => s.msgsPerSec).join(', ')})`);
}

/** Sequential request → reply round trips (the path block sync uses). */
async function roundTrips(count: number) {
  const peer = await receiver();
  const gateway = await sender(peer);
  const times: number[] = [];
  for (let i = 0; i < count; i++) {
    const start = performance.now();
    await receivedBy(gateway);
    times.push(performance.now() - start);
  }
  times.sort((a, b) => a - b);
  const at = (q: number) => round(times[Math.min(times.length - 1, Math.floor(q * times.length))]!, 3);
  roundTrip = { requests: count, p50Ms: at(0.5), p99Ms: at(0.99) };
  console.log(`request/reply round trip: p50 ${roundTrip.p50Ms} ms, p99 ${roundTrip.p99Ms} ms`);
  await gateway.stop();
  await killPeer(peer, 'SIGTERM');
}

function round(n: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(n * f) / f;
}

const results: Result[] = [];
let roundTrip: { requests: number; p50Ms: number; p99Ms: number } | undefined;

try {
  await oneWay('1 KiB messages, batched envelopes', 200_000 * SCALE, 1024);
  await oneWay('200 B messages (vote-sized), batched envelopes', 200_000 * SCALE, 200);
  await oneWay(
    '1 KiB messages, one envelope per message',
    20_000 * SCALE,
    1024,
    { maxEnvelopeMessages: 1 },
    'every message signed and verified on its own: the Ed25519 bound',
  );
  await oneWay('1 MiB messages', 200 * SCALE, 1024 * 1024);
  await roundTrips(2_000 * SCALE);
} finally {
  await net.remove();
}

const report = {
  bench: 'grpc',
  date: new Date().toISOString(),
  node: process.version,
  platform: `${process.platform} ${process.arch}`,
  cpu: cpus()[0]?.model,
  cores: cpus().length,
  loadAverage1m: round(loadavg()[0]!, 2),
  setup:
    'sender gateway in the bench process, receiver gateway in a child process; mTLS on 127.0.0.1; ' +
    'every envelope Ed25519-signed by the sender and verified by the receiver; default limits unless noted',
  runs: RUNS,
  results,
  roundTrip,
};
console.table(
  results.map(({ name, msgsPerSec, mbPerSec, msgsPerEnvelope }) => ({
    name,
    msgsPerSec,
    mbPerSec,
    msgsPerEnvelope,
  })),
);
await writeFile(new URL('./results/grpc.json', import.meta.url), `${JSON.stringify(report, null, 2)}\n`);
console.log('wrote bench/results/grpc.json');
