import { PassThrough } from 'node:stream';
import type { Context } from 'koa';
import type { ReadModel, ReadModelChange } from './read-model.ts';

// GET /events: server-sent events from the read model's changes. Each client gets a `status` event
// on connect, then `block` (a committed block's header and tx count), `leader` (leader and term) and
// `tx` (a tx's new status) as they happen, and a comment line as a heartbeat so proxies keep the
// connection open. A client that stops reading is dropped before its backlog grows past a bound.
// Other parts of the node can add kinds of their own (the live view adds `consensus`).

export const EVENT_KINDS = ['block', 'leader', 'tx'] as const;
type BuiltInKind = (typeof EVENT_KINDS)[number];

/**
 * An extra kind of event: called once per client that asks for it, with a writer of whole SSE frames
 * ("event: x\ndata: ...\n\n"); returns the function that stops it when the client goes.
 */
export type EventSource = (write: (frame: string) => void) => () => void;

const MAX_BACKLOG_BYTES = 4 * 1024 * 1024;

interface Client {
  stream: PassThrough;
  kinds: ReadonlySet<string>;
  stops: (() => void)[];
  /** Cuts the connection of a client that stopped reading. */
  drop(): void;
}

export class EventStreams {
  private readonly clients = new Set<Client>();
  private readonly heartbeat: NodeJS.Timeout;
  private readonly unsubscribe: () => void;
  /** Every kind a client may ask for. */
  readonly kinds: readonly string[];

  constructor(
    private readonly readModel: ReadModel,
    heartbeatMs: number,
    private readonly sources: Readonly<Record<string, EventSource>> = {},
  ) {
    this.kinds = [
      ...EVENT_KINDS,
      ...Object.keys(sources).filter((k) => !(EVENT_KINDS as readonly string[]).includes(k)),
    ];
    this.unsubscribe = readModel.onChange((change) => this.broadcast(change));
    this.heartbeat = setInterval(() => {
      for (const client of this.clients) this.write(client, `: heartbeat ${Date.now()}\n\n`);
    }, heartbeatMs);
    this.heartbeat.unref();
  }

  get size(): number {
    return this.clients.size;
  }

  open(ctx: Context, kinds: ReadonlySet<string>): void {
    ctx.req.socket.setTimeout(0);
    ctx.req.socket.setNoDelay(true);
    ctx.req.socket.setKeepAlive(true);
    ctx.status = 200;
    ctx.type = 'text/event-stream';
    ctx.set('Cache-Control', 'no-cache');
    ctx.set('Connection', 'keep-alive');
    ctx.set('X-Accel-Buffering', 'no');
    const stream = new PassThrough();
    const socket = ctx.req.socket;
    const client: Client = { stream, kinds, stops: [], drop: () => socket.destroy() };
    this.clients.add(client);
    ctx.req.on('close', () => this.forget(client));
    stream.on('error', () => this.forget(client));
    stream.write(`retry: 2000\nevent: status\ndata: ${JSON.stringify(this.readModel.status())}\n\n`);
    for (const kind of kinds) {
      const source = this.sources[kind];
      if (source) client.stops.push(source((text) => this.write(client, text)));
    }
    ctx.body = stream;
  }

  /** Ends every stream (the gateway is closing), so the HTTP server can finish its connections. */
  close(): void {
    clearInterval(this.heartbeat);
    this.unsubscribe();
    for (const client of this.clients) this.forget(client);
  }

  private forget(client: Client): void {
    if (!this.clients.delete(client)) return;
    for (const stop of client.stops) stop();
    client.stream.end();
  }

  private broadcast(change: ReadModelChange): void {
    if (this.clients.size === 0) return;
    switch (change.type) {
      case 'block': {
        const { txs, ...header } = change.block;
        this.send('block', frame('block', { ...header, txCount: txs.length }));
        break;
      }
      case 'leader':
        this.send('leader', frame('leader', { leader: change.leader, term: change.term }));
        break;
      case 'tx':
        this.send('tx', frame('tx', change.tx));
        break;
    }
  }

  private send(kind: BuiltInKind, text: string): void {
    for (const client of this.clients) if (client.kinds.has(kind)) this.write(client, text);
  }

  private write(client: Client, text: string): void {
    if (!this.clients.has(client)) return;
    if (client.stream.writableLength > MAX_BACKLOG_BYTES) {
      this.forget(client);
      client.drop();
      return;
    }
    client.stream.write(text);
  }
}

function frame(event: BuiltInKind, data: unknown): string {
  return `event: ${event}\ndata: ${JSON.stringify(data)}\n\n`;
}
