import { get as httpGet, type IncomingMessage } from 'node:http';
import { Router } from '@koa/router';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { documentedRoutes, OPENAPI_DOCUMENT } from '../../adapters/api/openapi.ts';
import type { RouteDeps } from '../../adapters/api/route-deps.ts';
import { createApiApp } from '../../adapters/api/server.ts';
import { ApiHarness, waitFor } from './support/api-harness.ts';

interface SseEvent {
  event: string;
  data: string;
}

/** A server-sent-events reader: parsed events and comment lines as they arrive. */
class SseClient {
  readonly events: SseEvent[] = [];
  readonly comments: string[] = [];
  ended = false;
  private buffer = '';
  private constructor(readonly response: IncomingMessage) {
    response.setEncoding('utf8');
    response.on('data', (chunk: string) => this.feed(chunk));
    response.on('end', () => {
      this.ended = true;
    });
    response.on('close', () => {
      this.ended = true;
    });
  }

  static open(url: string): Promise<SseClient> {
    return new Promise((resolve, reject) => {
      httpGet(url, (response) => resolve(new SseClient(response))).on('error', reject);
    });
  }

  of(event: string): unknown[] {
    return this.events.filter((e) => e.event === event).map((e) => JSON.parse(e.data));
  }

  close(): void {
    this.response.destroy();
  }

  private feed(chunk: string): void {
    this.buffer += chunk;
    for (let end = this.buffer.indexOf('\n\n'); end >= 0; end = this.buffer.indexOf('\n\n')) {
      const frame = this.buffer.slice(0, end);
      this.buffer = this.buffer.slice(end + 2);
      let event = 'message';
      const data: string[] = [];
      for (const line of frame.split('\n')) {
        if (line.startsWith(':')) this.comments.push(line.slice(1).trim());
        else if (line.startsWith('event: ')) event = line.slice(7);
        else if (line.startsWith('data: ')) data.push(line.slice(6));
      }
      if (data.length > 0) this.events.push({ event, data: data.join('\n') });
    }
  }
}

/** Checks Prometheus text exposition line by line; returns the samples by name (with labels). */
function parsePrometheus(text: string): Map<string, number> {
  expect(text.endsWith('\n')).toBe(true);
  const samples = new Map<string, number>();
  const typed = new Set<string>();
  for (const line of text.trimEnd().split('\n')) {
    const help = /^# HELP ([a-zA-Z_:][a-zA-Z0-9_:]*) .+$/.exec(line);
    const type = /^# TYPE ([a-zA-Z_:][a-zA-Z0-9_:]*) (counter|gauge|histogram|summary|untyped)$/.exec(line);
    const sample =
      /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[a-zA-Z_][a-zA-Z0-9_]*="[^"]*"\})? (-?[0-9.e+-]+|\+Inf|NaN)$/.exec(line);
    if (type) typed.add(type[1]!);
    else if (!help && !sample) throw new Error(`not Prometheus text: ${line}`);
    if (sample) {
      const base = sample[1]!.replace(/_(bucket|sum|count)$/, '');
      expect(typed.has(sample[1]!) || typed.has(base), `${sample[1]} has a TYPE line`).toBe(true);
      samples.set(sample[1]! + (sample[2] ?? ''), Number(sample[3]));
    }
  }
  return samples;
}

describe('GET /events, /metrics and /openapi.json (core stand-in committing blocks)', () => {
  let api: ApiHarness;
  beforeAll(async () => {
    api = await ApiHarness.start({ heartbeatMs: 100 });
  });
  afterAll(() => api.close());

  it('GET /events streams a status on connect, then the committed block, tx status changes and leader changes', async () => {
    const sse = await SseClient.open(`${api.url}/events`);
    try {
      expect(sse.response.headers['content-type']).toMatch(/^text\/event-stream/);
      await waitFor(() => sse.of('status').length === 1, 'status event');
      expect(sse.of('status')[0]).toMatchObject({ nodeId: api.nodeId, height: 0 });

      const { id } = (await api.post('/transactions', { icodeId: 'kv', function: 'put', args: ['e', 1] }))
        .json as {
        id: string;
      };
      const block = await api.core.commitPending();
      await waitFor(() => sse.of('block').length === 1, 'block event');
      const { txs, ...header } = block!;
      expect(sse.of('block')[0]).toEqual({ ...header, txCount: txs.length });
      await waitFor(() => sse.of('tx').length === 2, 'tx events');
      expect(sse.of('tx')).toEqual([
        { id, status: 'pending' },
        { id, status: 'committed', height: block!.height, result: null },
      ]);

      await api.core.electLeader(2);
      await waitFor(() => sse.of('leader').length === 1, 'leader event');
      expect(sse.of('leader')[0]).toEqual({ leader: api.fixture.validatorIds[2], term: 2 });

      await waitFor(() => sse.comments.some((c) => c.startsWith('heartbeat')), 'a heartbeat');
    } finally {
      sse.close();
    }
  });

  it('GET /events?kinds=block leaves out the other kinds', async () => {
    const sse = await SseClient.open(`${api.url}/events?kinds=block`);
    try {
      await waitFor(() => sse.of('status').length === 1, 'status event');
      await api.post('/transactions', { icodeId: 'kv', function: 'put', args: ['k', 2] });
      await api.core.commitPending();
      await waitFor(() => sse.of('block').length === 1, 'block event');
      expect(sse.of('tx')).toEqual([]);
    } finally {
      sse.close();
    }
  });

  it('GET /metrics is Prometheus text: height, term, round, pool size, peers and the commit latency histogram', async () => {
    const answer = await api.get('/metrics');
    expect(answer.status).toBe(200);
    expect(answer.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    const samples = parsePrometheus(answer.text);
    const status = (await api.get('/status')).json as { height: number; term: number };
    expect(samples.get('itchain_height')).toBe(status.height);
    expect(samples.get('itchain_term')).toBe(status.term);
    for (const name of ['itchain_round', 'itchain_pool_size', 'itchain_peers'])
      expect(samples.has(name)).toBe(true);
    const count = samples.get('itchain_commit_latency_seconds_count')!;
    expect(count).toBeGreaterThanOrEqual(2);
    expect(samples.get('itchain_commit_latency_seconds_bucket{le="+Inf"}')).toBe(count);
    const buckets = [...samples].filter(([name]) => name.startsWith('itchain_commit_latency_seconds_bucket'));
    const counts = buckets.map(([, value]) => value);
    expect(counts).toEqual([...counts].sort((a, b) => a - b));
    expect(samples.get('itchain_commit_latency_seconds_sum')).toBeGreaterThan(0);
  });

  it('GET /openapi.json serves the OpenAPI 3.1 document', async () => {
    const answer = await api.get('/openapi.json');
    expect(answer.status).toBe(200);
    expect(answer.json).toEqual(JSON.parse(JSON.stringify(OPENAPI_DOCUMENT)));
    expect((answer.json as { openapi: string }).openapi).toBe('3.1.0');
  });

  it('closing the gateway ends open event streams cleanly', async () => {
    const sse = await SseClient.open(`${api.url}/events`);
    await waitFor(() => sse.of('status').length === 1, 'status event');
    const started = Date.now();
    await api.gateway.close();
    await waitFor(() => sse.ended, 'stream end');
    expect(Date.now() - started).toBeLessThan(1_000);
    // The harness closes the gateway again in afterAll: close() is idempotent.
  });
});

describe('routes and event kinds added by other parts of the node (as the live view adds its own)', () => {
  it('an extra router answers on the API port after the API routes; an extra kind streams on /events', async () => {
    const extra = new Router();
    extra.get('/extra', (ctx) => {
      ctx.body = { extra: true };
    });
    let stopped = 0;
    const api = await ApiHarness.start({
      extras: {
        routers: [extra],
        eventSources: {
          custom: (write) => {
            write('event: custom\ndata: {"n":1}\n\n');
            return () => {
              stopped += 1;
            };
          },
        },
      },
    });
    try {
      expect((await api.get('/extra')).json).toEqual({ extra: true });
      expect((await api.get('/nowhere')).status).toBe(404);
      const sse = await SseClient.open(`${api.url}/events?kinds=custom,block`);
      await waitFor(() => sse.of('custom').length === 1, 'custom event');
      expect(sse.of('custom')).toEqual([{ n: 1 }]);
      sse.close();
      await waitFor(() => stopped === 1, 'the source stopped');
    } finally {
      await api.close();
    }
  });
});

describe('the OpenAPI document', () => {
  it('lists exactly the routes the router has', () => {
    // Route registration reads no dependency, so empty ones do.
    const { router } = createApiApp({} as RouteDeps, null);
    const routes = router.stack.flatMap((layer) =>
      layer.methods.filter((m) => m !== 'HEAD').map((method) => `${method} ${String(layer.path)}`),
    );
    expect(new Set(routes).size).toBe(routes.length);
    expect([...routes].sort()).toEqual([...documentedRoutes()].sort());
    expect(routes.length).toBeGreaterThanOrEqual(18);
  });
});
