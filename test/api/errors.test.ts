import { request as httpRequest } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiHarness, type HttpAnswer } from './support/api-harness.ts';

// Every failure is {"error":{"code","message"}} with a 4xx/5xx, and a refused request changes nothing
// (the core stand-in sees no tx).

function expectError(answer: HttpAnswer, status: number, code: string, field?: string): void {
  expect(answer.status).toBe(status);
  expect(answer.headers.get('content-type')).toMatch(/^application\/json/);
  const body = answer.json as { error: { code: string; message: string; field?: string } };
  expect(Object.keys(body)).toEqual(['error']);
  expect(body.error.code).toBe(code);
  expect(typeof body.error.message).toBe('string');
  expect(body.error.message.length).toBeGreaterThan(0);
  if (field !== undefined) expect(body.error.field).toBe(field);
}

/** Sends a body in chunks without a Content-Length (chunked transfer encoding). */
function chunkedPost(url: string, chunks: string[]): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      url,
      { method: 'POST', headers: { 'content-type': 'application/json' } },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          body += chunk;
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      },
    );
    req.on('error', reject);
    for (const chunk of chunks) req.write(chunk);
    req.end();
  });
}

describe('API error shapes (core stand-in behind the API)', () => {
  let api: ApiHarness;
  let submittedBefore: number;
  beforeAll(async () => {
    api = await ApiHarness.start({ maxTxBytes: 2_048 });
    submittedBefore = api.core.submitted.length;
  });
  afterAll(() => api.close());

  it('a body that is not JSON is 400 bad_json; an empty body too', async () => {
    expectError(await api.request('POST', '/transactions', { raw: '{"icodeId": "kv",' }), 400, 'bad_json');
    expectError(await api.request('POST', '/transactions', { raw: '' }), 400, 'bad_json');
  });

  it('a body that is JSON but not an object is 400 naming the body', async () => {
    expectError(await api.post('/transactions', [1, 2]), 400, 'bad_request', 'body');
    expectError(await api.post('/transactions', 'kv'), 400, 'bad_request', 'body');
  });

  it('wrong or missing field types are 400 naming the field', async () => {
    expectError(
      await api.post('/transactions', { icodeId: 5, function: 'put' }),
      400,
      'bad_request',
      'icodeId',
    );
    expectError(await api.post('/transactions', { icodeId: 'kv' }), 400, 'bad_request', 'function');
    expectError(
      await api.post('/transactions', { icodeId: 'kv', function: 'put', args: 'a' }),
      400,
      'bad_request',
      'args',
    );
    // Floats cannot be hashed canonically: the element is named.
    expectError(
      await api.post('/transactions', { icodeId: 'kv', function: 'put', args: ['a', 1.5] }),
      400,
      'bad_request',
      'args[1]',
    );
    expectError(
      await api.post('/transactions', { icodeId: 'kv', function: 'put', fn: 'x' }),
      400,
      'bad_request',
      'fn',
    );
    expectError(
      await api.post('/peers', { type: 'hug', address: '127.0.0.1:5000' }),
      400,
      'bad_request',
      'type',
    );
    expectError(
      await api.post('/peers', { type: 'dial', address: 'nowhere' }),
      400,
      'bad_request',
      'address',
    );
    expectError(await api.post('/icodes', { gitUrl: 42 }), 400, 'bad_request', 'gitUrl');
    expectError(await api.post('/icodes/kv/query', { args: [] }), 400, 'bad_request', 'function');
  });

  it('a batch with one bad call is refused whole, naming it: nothing is half-applied', async () => {
    const answer = await api.post('/transactions/batch', {
      txs: [
        { icodeId: 'kv', function: 'put', args: ['a'] },
        { icodeId: 'kv', function: 7 },
      ],
    });
    expectError(answer, 400, 'bad_request', 'txs[1].function');
    expectError(await api.post('/transactions/batch', { txs: [] }), 400, 'bad_request', 'txs');
    expectError(await api.post('/transactions/batch', { txs: {} }), 400, 'bad_request', 'txs');
  });

  it('an oversized body is 413, by Content-Length or while streaming, and the server stays usable', async () => {
    const big = JSON.stringify({ icodeId: 'kv', function: 'put', args: ['x'.repeat(5_000)] });
    expectError(await api.request('POST', '/transactions', { raw: big }), 413, 'payload_too_large');
    const streamed = await chunkedPost(`${api.url}/transactions`, [big.slice(0, 3_000), big.slice(3_000)]);
    expect(streamed.status).toBe(413);
    expect(JSON.parse(streamed.body)).toMatchObject({ error: { code: 'payload_too_large' } });
    expect((await api.get('/status')).status).toBe(200);
  });

  it('a tx whose signed encoding is over txpool.maxTxBytes is 413 even when the body fits', async () => {
    // Under 2 KiB of body, but the tx adds id, signature, signer, nonce and timestamp.
    const args = ['y'.repeat(1_700)];
    expectError(
      await api.post('/transactions', { icodeId: 'kv', function: 'put', args }),
      413,
      'payload_too_large',
    );
  });

  it('unknown ids are 404: tx, block height, block seal, iCode', async () => {
    expectError(await api.get(`/transactions/${'a'.repeat(64)}`), 404, 'not_found');
    expectError(await api.get('/transactions/not-a-tx-id'), 404, 'not_found');
    expectError(await api.get('/blocks/999999'), 404, 'not_found');
    expectError(await api.get(`/blocks/${'b'.repeat(64)}`), 404, 'not_found');
    expectError(await api.get('/icodes/unknown'), 404, 'not_found');
  });

  it('a malformed block key or query parameter is 400 naming it', async () => {
    expectError(await api.get('/blocks/-1'), 400, 'bad_request', 'heightOrSeal');
    expectError(await api.get('/blocks?limit=0'), 400, 'bad_request', 'limit');
    expectError(await api.get('/blocks?from=abc'), 400, 'bad_request', 'from');
    expectError(await api.get('/events?kinds=gossip'), 400, 'bad_request', 'kinds');
  });

  it('an unknown route is a JSON 404, a known path with the wrong method a JSON 405', async () => {
    expectError(await api.get('/nowhere'), 404, 'not_found');
    expectError(await api.request('DELETE', '/nowhere'), 404, 'not_found');
    expectError(await api.request('PUT', '/status'), 405, 'method_not_allowed');
  });

  it('reads answer any origin (CORS); a mutating call from a page of another origin is 403', async () => {
    const status = await api.request('GET', '/status', { headers: { origin: 'http://viewer.example' } });
    expect(status.headers.get('access-control-allow-origin')).toBe('*');
    const call = { icodeId: 'kv', function: 'put', args: ['o'] };
    expectError(
      await api.post('/transactions', call, { origin: 'http://evil.example' }),
      403,
      'forbidden_origin',
    );
    expectError(
      await api.request('POST', '/transactions', {
        raw: JSON.stringify(call),
        headers: { origin: 'http://evil.example', 'content-type': 'text/plain' },
      }),
      403,
      'forbidden_origin',
    );
  });

  it('none of the refused requests reached the TxPool', () => {
    expect(api.core.submitted.length).toBe(submittedBefore);
  });
});

describe('api.token (core stand-in behind the API)', () => {
  const token = 's3cret-token';
  let api: ApiHarness;
  beforeAll(async () => {
    api = await ApiHarness.start({ token });
  });
  afterAll(() => api.close());

  it('a mutating call without the bearer token is 401, with a wrong one too, and nothing is submitted', async () => {
    const call = { icodeId: 'kv', function: 'put', args: ['t'] };
    expectError(await api.post('/transactions', call), 401, 'unauthorized');
    expectError(await api.post('/transactions', call, { authorization: 'Bearer nope' }), 401, 'unauthorized');
    expectError(await api.post('/transactions', call, { authorization: token }), 401, 'unauthorized');
    expectError(await api.request('DELETE', '/peers/ab'), 401, 'unauthorized');
    expectError(await api.post('/peers', { type: 'dial', address: '127.0.0.1:5001' }), 401, 'unauthorized');
    expect(api.core.submitted).toHaveLength(0);
  });

  it('with the right bearer token the call goes through', async () => {
    const answer = await api.post(
      '/transactions',
      { icodeId: 'kv', function: 'put', args: ['t'] },
      { authorization: `Bearer ${token}` },
    );
    expect(answer.status).toBe(202);
  });

  it('reads and iCode queries (read-only) need no token', async () => {
    expect((await api.get('/status')).status).toBe(200);
    expect((await api.get('/blocks')).status).toBe(200);
    expect((await api.post('/icodes/kv/query', { function: 'get', args: ['t'] })).status).toBe(200);
  });
});
