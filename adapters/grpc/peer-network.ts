import type { NodeId } from '../../domain/identity.ts';

// What the node's actors see of the peer network. The gRPC gateway implements it over mTLS; a test or
// the simulator can implement it in memory. Payloads are JSON: pass a value (it is JSON-encoded once,
// also for a broadcast) or bytes that already hold JSON; a receiver gets the bytes and parses them at
// most once.

export type Direction = 'inbound' | 'outbound';

export interface PeerInfo {
  readonly nodeId: NodeId;
  /** `host:port` the peer is (re)dialled at. */
  readonly address: string;
  /** Who dialled the stream that carries the traffic: 'outbound' = this node. */
  readonly direction: Direction;
  readonly connectedAt: Date;
  /** The peer's chain height from its handshake. */
  readonly height: number;
}

/**
 * What happened to a message given to `send`:
 * - queued: it will be written to the peer's stream, in order with the peer's other messages;
 * - not-connected: there is no stream to that peer (nothing is kept for later);
 * - queue-full: the peer's send queue is at its limit (the peer is slow or stalled); the message was
 *   not queued, what was queued before stays;
 * - too-large: the payload is over the message size limit.
 */
export type SendOutcome = 'queued' | 'not-connected' | 'queue-full' | 'too-large';

export interface BroadcastResult {
  readonly queued: NodeId[];
  readonly failed: { readonly nodeId: NodeId; readonly outcome: Exclude<SendOutcome, 'queued'> }[];
}

/** A received payload: the raw JSON bytes, parsed on first use and then kept. */
export class Payload {
  private parsed: unknown;
  private isParsed = false;

  constructor(readonly bytes: Buffer) {}

  text(): string {
    return this.bytes.toString('utf8');
  }

  /** The parsed JSON; throws a SyntaxError when the bytes are not JSON. */
  json(): unknown {
    if (!this.isParsed) {
      this.parsed = JSON.parse(this.text());
      this.isParsed = true;
    }
    return this.parsed;
  }
}

export interface ReceivedMessage {
  readonly from: NodeId;
  readonly type: string;
  readonly payload: Payload;
}

export type MessageHandler = (from: NodeId, type: string, payload: Payload) => void;

/** Answers a request: the reply payload (a JSON value or JSON bytes), or a promise of it. */
export type RequestHandler = (from: NodeId, payload: Payload) => unknown;

export interface RequestOptions {
  readonly timeoutMs?: number;
}

export interface JoinResult {
  /** The peer that was joined through. */
  readonly via: PeerInfo;
  /** Every peer connected once the join finished, `via` included. */
  readonly peers: PeerInfo[];
  /** Peers `via` knew that could not be connected. */
  readonly failed: { readonly address: string; readonly reason: string }[];
}

export interface ConnectionClosed {
  readonly nodeId: NodeId;
  readonly address: string;
  readonly reason: string;
  /** Whether the gateway redials it (with backoff). */
  readonly reconnect: boolean;
}

/** Event names as the bus topics of SPEC §6. */
export interface PeerNetworkEvents {
  'connection.created': PeerInfo;
  'connection.closed': ConnectionClosed;
  /** A join finished: the node syncs and then submits its membership tx. */
  'network.joined': JoinResult;
}

export type Unsubscribe = () => void;

export interface PeerNetwork {
  readonly nodeId: NodeId;
  /** Connects to one peer (`host:port` or `nodeId@host:port`); resolves once the handshake is accepted. */
  dial(address: string): Promise<PeerInfo>;
  /** Dials a peer, asks it for its peers and dials them all; then emits 'network.joined'. */
  join(address: string): Promise<JoinResult>;
  peers(): PeerInfo[];
  /** Closes the stream to a peer on purpose: neither side redials it. False when it was not connected. */
  disconnect(nodeId: NodeId): boolean;
  send(nodeId: NodeId, type: string, payload: unknown): SendOutcome;
  broadcast(type: string, payload: unknown): BroadcastResult;
  /** Sends a message that the peer answers through its `onRequest` handler for that type. */
  request(nodeId: NodeId, type: string, payload: unknown, options?: RequestOptions): Promise<ReceivedMessage>;
  onMessage(handler: MessageHandler): Unsubscribe;
  onRequest(type: string, handler: RequestHandler): Unsubscribe;
  on<E extends keyof PeerNetworkEvents>(
    event: E,
    listener: (event: PeerNetworkEvents[E]) => void,
  ): Unsubscribe;
}
