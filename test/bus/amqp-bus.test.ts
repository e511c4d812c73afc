import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { connect } from 'amqplib';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { AmqpBus } from '../../adapters/bus/amqp-bus.ts';
import type { EventBus } from '../../adapters/bus/event-bus.ts';
import { createBus } from '../../adapters/bus/index.ts';
import { buildBlock, ZERO_SEAL } from '../../domain/block.ts';
import { txIdOf } from '../../domain/transaction.ts';
import { busContract } from './bus-contract.ts';
import {
  BROKER_URL,
  deleteNodeExchanges,
  freshNodeId,
  TEST_GROUP_QUEUE_EXPIRES_MS,
  usedNodeIds,
} from './fixtures/broker.ts';
import { CaptureLogger, Inbox, range, unsignedCertificate } from './fixtures/bus-test-kit.ts';

afterAll(() => deleteNodeExchanges(usedNodeIds));

busContract('AmqpBus', async () => {
  const logger = new CaptureLogger();
  const bus = await AmqpBus.connect({
    url: BROKER_URL,
    nodeId: freshNodeId(),
    logger,
    groupQueueExpiresMs: TEST_GROUP_QUEUE_EXPIRES_MS,
  });
  return { bus, logger };
});

describe('AmqpBus through the real broker', () => {
  const buses: EventBus[] = [];
  async function open(nodeId: string): Promise<AmqpBus> {
    const bus = await AmqpBus.connect({ url: BROKER_URL, nodeId, logger: new CaptureLogger() });
    buses.push(bus);
    return bus;
  }
  afterEach(async () => {
    await Promise.all(buses.splice(0).map((bus) => bus.close()));
  });

  it('declares one topic exchange per node, itchain.<nodeId>', async () => {
    const nodeId = freshNodeId();
    const bus = await open(nodeId);
    expect(bus.exchange).toBe(`itchain.${nodeId}`);
    const probe = await connect(BROKER_URL);
    try {
      const channel = await probe.createChannel();
      await expect(channel.checkExchange(`itchain.${nodeId}`)).resolves.toBeDefined();
    } finally {
      await probe.close();
    }
  });

  it('carries messages between two bus instances of one node, each on its own connection', async () => {
    const nodeId = freshNodeId();
    const core = await open(nodeId);
    const gateway = await open(nodeId);
    const inbox = new Inbox();
    await core.subscribe('leader.*', inbox.handler);
    await Promise.all(range(50).map((term) => gateway.publish('leader.updated', { leader: 'n1', term })));
    const terms = (await inbox.waitFor(50)).map((m) => (m.topic === 'leader.updated' ? m.payload.term : -1));
    expect(terms).toEqual(range(50));
  });

  it('keeps nodes apart on a shared broker: a node never hears another node’s messages', async () => {
    const nodeA = await open(freshNodeId());
    const nodeB = await open(freshNodeId());
    const heardByA = new Inbox();
    const heardByB = new Inbox();
    await nodeA.subscribe('#', heardByA.handler);
    await nodeB.subscribe('#', heardByB.handler);
    await nodeA.publish('leader.updated', { leader: 'a', term: 1 });
    await heardByA.waitFor(1);
    // A's message was routed before its confirm; had it reached B's queue it would come before this one.
    await nodeB.publish('leader.updated', { leader: 'b', term: 1 });
    await heardByB.waitFor(1);
    expect(heardByB.messages).toEqual([{ topic: 'leader.updated', payload: { leader: 'b', term: 1 } }]);
    expect(heardByA.messages).toEqual([{ topic: 'leader.updated', payload: { leader: 'a', term: 1 } }]);
  });

  it('lets the API gateway run as a separate process: its tx reaches the core and the commit comes back', async () => {
    const nodeId = freshNodeId();
    const core = await open(nodeId);
    await core.subscribe('tx.submitted', async ({ payload: { tx } }) => {
      if (txIdOf(tx) !== tx.id) throw new Error('tx changed on the way');
      const block = buildBlock({
        height: 1,
        prevSeal: ZERO_SEAL,
        stateRoot: ZERO_SEAL,
        timestamp: tx.timestamp,
        creator: nodeId,
        txs: [tx],
      });
      await core.publish('block.committed', { block, certificate: unsignedCertificate(block) });
    });
    const script = fileURLToPath(new URL('./fixtures/api-gateway-process.ts', import.meta.url));
    const child = spawn(process.execPath, ['--import', 'tsx', script, BROKER_URL, nodeId], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
    });
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    const exitCode = await new Promise<number | null>((resolve) => child.on('exit', resolve));
    expect(exitCode, stderr).toBe(0);
    const report = JSON.parse(stdout.trim()) as { txId: string; height: number; seal: string };
    expect(report.height).toBe(1);
    expect(report.seal).toMatch(/^[0-9a-f]{64}$/);
  });

  it('createBus gives an AMQP bus for an amqp:// URL and an in-process one for "memory"', async () => {
    const amqp = await createBus(BROKER_URL, freshNodeId(), new CaptureLogger());
    buses.push(amqp);
    expect(amqp).toBeInstanceOf(AmqpBus);
    const memory = await createBus('memory', 'n0', new CaptureLogger());
    buses.push(memory);
    expect(memory).not.toBeInstanceOf(AmqpBus);
    await expect(createBus('redis://127.0.0.1', 'n0', new CaptureLogger())).rejects.toThrow(/bus\.url/);
  });
});
