import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AmqpBus } from '../../adapters/bus/amqp-bus.ts';
import { BROKER_URL, deleteNodeExchanges, freshNodeId } from '../bus/fixtures/broker.ts';
import { ApiHarness, QuietLogger } from './support/api-harness.ts';

// The API gateway depends on the bus only, so it runs apart from the core: here the gateway and the
// core stand-in each have their own connection to the real RabbitMQ (one node exchange), as with
// `itchain start --only api`. Every payload crosses as JSON.

describe('API gateway on RabbitMQ, apart from the core stand-in', () => {
  const nodeId = freshNodeId();
  let api: ApiHarness;
  beforeAll(async () => {
    const connect = () => AmqpBus.connect({ url: BROKER_URL, nodeId, logger: new QuietLogger() });
    api = await ApiHarness.start({ buses: { api: await connect(), core: await connect() } });
  });
  afterAll(async () => {
    await api.close();
    await deleteNodeExchanges([nodeId]);
  });

  it('a submit gets its verdict, commits, and reads back the same block and receipt across the broker', async () => {
    expect((await api.get('/status')).json).toMatchObject({ leader: api.core.leaderId, height: 0 });
    const answer = await api.post('/transactions', {
      icodeId: 'kv',
      function: 'put',
      args: ['amqp', { ok: true }],
    });
    expect(answer.status).toBe(202);
    const block = await api.core.commitPending();
    const get = await api.post('/transactions', { icodeId: 'kv', function: 'get', args: ['amqp'] });
    await api.core.commitPending();
    expect((await api.settled((get.json as { id: string }).id)).json).toMatchObject({
      status: 'committed',
      result: { ok: true },
    });
    expect((await api.get(`/blocks/${block!.height}`)).json).toEqual(block);
    expect((await api.post('/icodes/kv/query', { function: 'get', args: ['amqp'] })).json).toEqual({
      result: { ok: true },
    });
  });
});
