import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Block } from '../../domain/block.ts';
import { icodeIdOf } from '../../domain/icode.ts';
import { ApiHarness, COUNTER_URL, waitFor } from './support/api-harness.ts';

// SPEC §6 routes against a core stand-in that plays TxPool, Blockchain, IVM, Consensus and the gRPC
// gateway on a real memory bus; blocks are real, signed and certified by the chain fixture.

describe('REST API with a core stand-in committing blocks on demand', () => {
  let api: ApiHarness;
  beforeAll(async () => {
    api = await ApiHarness.start();
  });
  afterAll(() => api.close());

  it('GET /status gives nodeId, networkId, role, leader, term, height, lastSeal and peers from bus events', async () => {
    const { status, json } = await api.get('/status');
    expect(status).toBe(200);
    expect(json).toMatchObject({
      nodeId: api.nodeId,
      networkId: api.fixture.networkId,
      role: 'follower',
      leader: api.core.leaderId,
      term: 1,
      height: 0,
      lastSeal: api.fixture.genesis.seal,
      peers: [],
    });
  });

  it('role follows leader.updated: this node is leader once the election names it', async () => {
    await api.core.electLeader(0);
    await waitFor(
      async () => ((await api.get('/status')).json as { role: string }).role === 'leader',
      'leader role',
    );
    expect((await api.get('/status')).json).toMatchObject({ role: 'leader', leader: api.nodeId, term: 2 });
    await api.core.electLeader(1);
  });

  it('POST /transactions answers 202 {id}; the tx is pending, then committed with its height and result', async () => {
    const put = await api.post('/transactions', { icodeId: 'kv', function: 'put', args: ['color', 'blue'] });
    expect(put.status).toBe(202);
    const { id } = put.json as { id: string };
    expect(id).toMatch(/^[0-9a-f]{64}$/);
    expect((await api.get(`/transactions/${id}`)).json).toEqual({ id, status: 'pending' });
    // The accepting node signed it: the stand-in pool verified the signature with the node's key.
    expect(api.core.pool.get(id)).toMatchObject({
      signer: api.nodeId,
      kind: 'invoke',
      args: ['color', 'blue'],
    });
    const block = await api.core.commitPending();
    expect((await api.settled(id)).json).toEqual({
      id,
      status: 'committed',
      height: block!.height,
      result: null,
    });

    const get = await api.post('/transactions', { icodeId: 'kv', function: 'get', args: ['color'] });
    await api.core.commitPending();
    const { json } = await api.settled((get.json as { id: string }).id);
    expect(json).toMatchObject({ status: 'committed', result: 'blue' });
  });

  it("a committed tx whose iCode call failed carries the receipt's error", async () => {
    const answer = await api.post('/transactions', { icodeId: 'kv', function: 'explode', args: [] });
    await api.core.commitPending();
    const { json } = await api.settled((answer.json as { id: string }).id);
    expect(json).toMatchObject({ status: 'committed', error: { code: 'no-such-function' } });
  });

  it('GET /blocks/:heightOrSeal and /blocks/latest return the committed Block exactly', async () => {
    const latest = await api.get('/blocks/latest');
    expect(latest.status).toBe(200);
    const expected = api.core.chain[api.core.height]!.block;
    expect(latest.json).toEqual(expected);
    expect((await api.get(`/blocks/${expected.height}`)).json).toEqual(expected);
    expect((await api.get(`/blocks/${expected.seal}`)).json).toEqual(expected);
    expect((await api.get('/blocks/0')).json).toEqual(api.fixture.genesis);
  });

  it('GET /blocks pages in height order: from and limit, newest page by default, limit capped at 1000', async () => {
    for (let i = 0; i < 3; i++) {
      await api.post('/transactions', { icodeId: 'kv', function: 'put', args: [`k${i}`, i] });
      await api.core.commitPending();
    }
    await waitFor(() => api.gateway.readModel.lastHeight === api.core.height, 'blocks applied');
    const top = api.core.height;
    const page = (await api.get('/blocks?from=1&limit=2')).json as Block[];
    expect(page.map((b) => b.height)).toEqual([1, 2]);
    const newest = (await api.get('/blocks?limit=2')).json as Block[];
    expect(newest.map((b) => b.height)).toEqual([top - 1, top]);
    const all = (await api.get('/blocks')).json as Block[];
    expect(all.map((b) => b.height)).toEqual(Array.from({ length: top + 1 }, (_, h) => h));
    expect(((await api.get('/blocks?from=0&limit=5000')).json as Block[]).length).toBe(top + 1);
    expect((await api.get(`/blocks?from=${top + 1}`)).json).toEqual([]);
  });

  it('POST /transactions/batch (an addition) answers 202 {ids} in request order and every tx commits', async () => {
    const txs = Array.from({ length: 25 }, (_, i) => ({
      icodeId: 'kv',
      function: 'put',
      args: [`b${i}`, i],
    }));
    const answer = await api.post('/transactions/batch', { txs });
    expect(answer.status).toBe(202);
    const { ids } = answer.json as { ids: string[] };
    expect(ids).toHaveLength(25);
    expect(api.core.submitted.slice(-25).map((tx) => tx.args[0])).toEqual(txs.map((t) => t.args[0]));
    const block = await api.core.commitPending();
    for (const id of ids)
      expect((await api.settled(id)).json).toMatchObject({ status: 'committed', height: block!.height });
  });

  it('GET /icodes lists the built-in kv; deploy is a tx: 202 {id, txId}, listed once the deploy commits', async () => {
    const before = (await api.get('/icodes')).json as { id: string }[];
    expect(before.map((i) => i.id)).toEqual(['kv']);
    const deploy = await api.post('/icodes', { gitUrl: COUNTER_URL });
    expect(deploy.status).toBe(202);
    const { id, txId } = deploy.json as { id: string; txId: string };
    expect(id).toBe(icodeIdOf(COUNTER_URL, 'c0ffee'.padEnd(40, '0')));
    expect(api.core.pool.get(txId)).toMatchObject({ kind: 'deploy', icodeId: id, function: 'deploy' });
    await api.core.commitPending();
    await waitFor(async () => (await api.get(`/icodes/${id}`)).status === 200, 'icode listed');
    expect((await api.get(`/icodes/${id}`)).json).toMatchObject({ id, gitUrl: COUNTER_URL, txId });
    expect(((await api.get('/icodes')).json as { id: string }[]).map((i) => i.id)).toEqual(['kv', id]);

    const again = await api.post('/icodes', { gitUrl: COUNTER_URL });
    expect(again.status).toBe(409);
    expect(again.json).toMatchObject({ error: { code: 'already_deployed' } });

    const query = await api.post(`/icodes/${id}/query`, { function: 'count', args: [] });
    expect(query).toMatchObject({ status: 200, json: { result: 'queried count' } });

    const undeploy = await api.request('DELETE', `/icodes/${id}`);
    expect(undeploy.status).toBe(202);
    expect(undeploy.json).toMatchObject({ id });
    await api.core.commitPending();
    await waitFor(async () => (await api.get(`/icodes/${id}`)).status === 404, 'icode removed');
  });

  it('a deployer failure is its 4xx with the error shape, and nothing is submitted', async () => {
    const submitted = api.core.submitted.length;
    const answer = await api.post('/icodes', { gitUrl: 'https://git.example/missing.git' });
    expect(answer.status).toBe(404);
    expect(answer.json).toEqual({
      error: { code: 'repo_not_found', message: 'no repository at https://git.example/missing.git' },
    });
    expect(api.core.submitted.length).toBe(submitted);
  });

  it('the built-in kv iCode cannot be undeployed; unknown iCodes are 404', async () => {
    expect((await api.request('DELETE', '/icodes/kv')).json).toMatchObject({ error: { code: 'builtin' } });
    expect((await api.get('/icodes/kv')).json).toMatchObject({ id: 'kv', builtin: true });
    expect((await api.get('/icodes/nope')).status).toBe(404);
    expect((await api.request('DELETE', '/icodes/nope')).status).toBe(404);
    expect((await api.post('/icodes/nope/query', { function: 'get' })).status).toBe(404);
  });

  it('POST /icodes/:id/query answers {result} from committed state, over the bus to the IVM', async () => {
    const put = await api.post('/transactions', { icodeId: 'kv', function: 'put', args: ['q', { n: 1 }] });
    await api.core.commitPending();
    await api.settled((put.json as { id: string }).id);
    const answer = await api.post('/icodes/kv/query', { function: 'get', args: ['q'] });
    expect(answer).toMatchObject({ status: 200, json: { result: { n: 1 } } });
    const missing = await api.post('/icodes/kv/query', { function: 'nope', args: [] });
    expect(missing.status).toBe(404);
    expect(missing.json).toMatchObject({ error: { code: 'no_such_function' } });
  });

  it('peers: POST /peers dials through the gRPC gateway, GET /peers lists it, DELETE /peers/:id disconnects', async () => {
    const peerId = api.fixture.validatorIds[2]!;
    const dial = await api.post('/peers', { type: 'dial', address: `${peerId}@127.0.0.1:5002` });
    expect(dial).toMatchObject({ status: 202, json: { type: 'dial', peerId } });
    await waitFor(async () => ((await api.get('/peers')).json as unknown[]).length === 1, 'peer listed');
    expect((await api.get('/peers')).json).toEqual([
      { id: peerId, address: `${peerId}@127.0.0.1:5002`, outbound: true },
    ]);
    expect(((await api.get('/status')).json as { peers: unknown[] }).peers).toHaveLength(1);

    const join = await api.post('/peers', { type: 'join', address: '127.0.0.1:9' });
    expect(join.status).toBe(502);
    expect(join.json).toMatchObject({ error: { code: 'unreachable' } });

    expect((await api.request('DELETE', `/peers/${peerId}`)).json).toEqual({ id: peerId });
    await waitFor(async () => ((await api.get('/peers')).json as unknown[]).length === 0, 'peer gone');
    const again = await api.request('DELETE', `/peers/${peerId}`);
    expect(again.status).toBe(404);
    expect(again.json).toMatchObject({ error: { code: 'not_found' } });
  });
});

describe('TxPool verdicts through the API (core stand-in with a small pool)', () => {
  let api: ApiHarness;
  beforeAll(async () => {
    api = await ApiHarness.start({ core: { maxPoolTxs: 2 }, verdictTimeoutMs: 300 });
  });
  afterAll(() => api.close());

  it('a full pool answers 503 pool_full, never a silent drop; the tx shows as rejected', async () => {
    for (let i = 0; i < 2; i++) {
      expect((await api.post('/transactions', { icodeId: 'kv', function: 'put', args: [i] })).status).toBe(
        202,
      );
    }
    const full = await api.post('/transactions', { icodeId: 'kv', function: 'put', args: [3] });
    expect(full.status).toBe(503);
    expect(full.json).toEqual({ error: { code: 'pool_full', message: 'the tx pool is full: retry later' } });
    const refused = api.core.submitted[api.core.submitted.length - 1]!;
    await waitFor(
      async () => (await api.get(`/transactions/${refused.id}`)).status === 200,
      'rejection recorded',
    );
    expect((await api.get(`/transactions/${refused.id}`)).json).toMatchObject({
      status: 'rejected',
      error: { code: 'pool_full' },
    });
  });

  it('a batch into a full pool lists the refused txs; all refused is a 503', async () => {
    const batch = await api.post('/transactions/batch', { txs: [{ icodeId: 'kv', function: 'get' }] });
    expect(batch.status).toBe(503);
    await api.core.commitPending();
    const partly = await api.post('/transactions/batch', {
      txs: [0, 1, 2].map((i) => ({ icodeId: 'kv', function: 'put', args: [i] })),
    });
    expect(partly.status).toBe(202);
    const { ids, rejected } = partly.json as { ids: string[]; rejected: { index: number; code: string }[] };
    expect(ids).toHaveLength(3);
    expect(rejected).toEqual([expect.objectContaining({ index: 2, id: ids[2], code: 'pool_full' })]);
    await api.core.commitPending();
  });

  it('a duplicate verdict is a 409 (fault injected: the stand-in pool calls the next tx a duplicate)', async () => {
    api.core.duplicateNext = 1;
    const answer = await api.post('/transactions', { icodeId: 'kv', function: 'put', args: ['d'] });
    expect(answer.status).toBe(409);
    expect(answer.json).toMatchObject({ error: { code: 'duplicate' } });
  });

  it('with no verdict in time (fault injected: a silent pool) the submit is still 202 and the tx stays pending', async () => {
    api.core.silentPool = true;
    const started = Date.now();
    try {
      const answer = await api.post('/transactions', { icodeId: 'kv', function: 'put', args: ['s'] });
      expect(answer.status).toBe(202);
      expect(Date.now() - started).toBeGreaterThanOrEqual(290);
      expect((await api.get(`/transactions/${(answer.json as { id: string }).id}`)).json).toMatchObject({
        status: 'pending',
      });
    } finally {
      api.core.silentPool = false;
    }
  });
});

describe('a tx the pool refuses as invalid (core stand-in; the API node is not in the network)', () => {
  it('answers 400 invalid_tx and records the tx as rejected', async () => {
    const api = await ApiHarness.start({ identity: 'outsider' });
    try {
      const answer = await api.post('/transactions', { icodeId: 'kv', function: 'put', args: ['x'] });
      expect(answer.status).toBe(400);
      expect(answer.json).toMatchObject({ error: { code: 'invalid_tx' } });
      expect((answer.json as { error: { message: string } }).error.message).toMatch(/unknown signer/);
    } finally {
      await api.close();
    }
  });
});
