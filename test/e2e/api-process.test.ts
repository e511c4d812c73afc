import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dumpLogsOnFailure, PORTS, TestNetwork } from '../support/network.ts';

// The components are really separable (SPEC §6): node0 runs as two processes, `--only core` and
// `--only api`, that talk only through RabbitMQ (the real broker at 127.0.0.1:5672; if it is down,
// this fails). The other nodes run whole, on the same broker (each node its own exchange).

const AMQP = 'amqp://guest:guest@127.0.0.1:5672';

let net: TestNetwork | undefined;
const network = (): TestNetwork => {
  if (!net) throw new Error('the network did not start');
  return net;
};

beforeAll(async () => {
  net = await TestNetwork.create({ basePort: PORTS.apiProcess, busUrl: AMQP });
  await net.start(0, { only: 'core' });
  await Promise.all([1, 2, 3].map((i) => net!.start(i)));
  await net.start(0, { only: 'api' });
});

afterAll(async () => {
  await net?.dispose();
});

describe('the API gateway in a process of its own', () => {
  it('takes a tx, and the core commits it through RabbitMQ; the separate API sees it committed', async () => {
    dumpLogsOnFailure(() => net);
    const n = network();
    const status = await n.status(0);
    expect(status.nodeId).toBe(n.nodeId(0));

    const id = await n.submit(0, 'kv', 'put', ['split', 'works']);
    const views = await n.waitCommitted(id, [0, 1, 2, 3]);
    expect(new Set(views.map((v) => v.height)).size).toBe(1);
    const read = await n.post<{ result: unknown }>(0, '/icodes/kv/query', {
      function: 'get',
      args: ['split'],
    });
    expect(read).toEqual({ status: 200, body: { result: 'works' } });
    expect((await n.status(0)).height).toBe(views[0]!.height);
  });

  it('the API process restarts and rebuilds its read model from the core over the bus', async () => {
    dumpLogsOnFailure(() => net);
    const n = network();
    const id = await n.submit(1, 'kv', 'put', ['while', 'api restarts']);
    await n.waitCommitted(id, [1, 2, 3]);
    expect(await n.stop(100)).toBe(0);
    await n.start(0, { only: 'api' });
    await n.waitCommitted(id, [0]);
    const again = await n.submit(0, 'kv', 'put', ['after', 'restart']);
    await n.waitCommitted(again, [0, 1, 2, 3]);
  });
});
