import { X509Certificate } from 'node:crypto';
import {
  type ChannelCredentials,
  type ChannelOptions,
  Client,
  Server,
  type ServerDuplexStream,
  status,
} from '@grpc/grpc-js';
import type { PeerAddress } from '../../config/peer-address.ts';
import type { NodeId, Signer } from '../../domain/identity.ts';
import type { NodeCredentials } from '../pki/node-credentials.ts';
import { type BackoffPolicy, DEFAULT_BACKOFF } from './backoff.ts';
import { type DialTarget, hostPort, parseDialAddress, redialAddress, splitHostPort } from './dial-address.ts';
import { type LogFields, type Logger, silentLogger } from './logger.ts';
import {
  type CertifiedPeer,
  certifiedPeer,
  checkHandshake,
  isRefusal,
  type LocalPeer,
  PeerDialError,
  type Refusal,
  unverifiedPeerRefusal,
} from './peer-admission.ts';
import {
  type BroadcastResult,
  type ConnectionClosed,
  type JoinResult,
  type MessageHandler,
  Payload,
  type PeerInfo,
  type PeerNetwork,
  type PeerNetworkEvents,
  type ReceivedMessage,
  type RequestHandler,
  type RequestOptions,
  type SendOutcome,
  type Unsubscribe,
} from './peer-network.ts';
import {
  CONNECT_PATH,
  deserializeFrame,
  PROTOCOL_VERSION,
  peerService,
  serializeFrame,
  type WireFrame,
  type WireHandshake,
  type WireMessage,
} from './peer-protocol.ts';
import { PeerSession, type SessionConfig, type SessionEnd } from './peer-session.ts';
import { PendingRequests } from './pending-requests.ts';
import { RedialSchedule } from './redial-schedule.ts';
import { queuedMessage, SendQueue } from './send-queue.ts';
import {
  type PeerServerCredentials,
  peerChannelCredentials,
  peerServerCredentials,
} from './tls-credentials.ts';

// The node's peer-to-peer transport (SPEC §6): one bidirectional gRPC stream per peer pair over mutual
// TLS, signed envelopes, and connection management — dial, join, list, disconnect, and redial with
// backoff to peers that drop. When both peers dial each other at once, both keep the stream dialled by
// the lower node ID; the other is finished in order (the dialler half-closes it, so nothing written to
// it is lost). Messages to a peer wait in a bounded queue and leave in signed envelopes, several at a
// time when they queue up faster than the stream drains.

export interface PeerLimits {
  /** The largest payload of one message. */
  readonly maxMessageBytes: number;
  /** Per peer: what may wait in its send queue. */
  readonly maxQueueBytes: number;
  readonly maxQueueMessages: number;
  /** Batching: the payload bytes and messages one envelope collects (a larger message goes alone). */
  readonly maxEnvelopeBytes: number;
  readonly maxEnvelopeMessages: number;
  /** Per stream: bytes handed to gRPC that are not yet on the socket. */
  readonly maxInFlightBytes: number;
  readonly handshakeTimeoutMs: number;
  readonly requestTimeoutMs: number;
  /** How long a stream being closed may take to finish before it is cancelled. */
  readonly closeTimeoutMs: number;
  /** HTTP/2 keepalive ping interval; a peer silent for half as long again is dropped. */
  readonly keepaliveMs: number;
}

export const DEFAULT_PEER_LIMITS: PeerLimits = {
  maxMessageBytes: 16 * 1024 * 1024,
  maxQueueBytes: 32 * 1024 * 1024,
  maxQueueMessages: 50_000,
  maxEnvelopeBytes: 256 * 1024,
  maxEnvelopeMessages: 1024,
  maxInFlightBytes: 1024 * 1024,
  handshakeTimeoutMs: 5_000,
  requestTimeoutMs: 10_000,
  closeTimeoutMs: 5_000,
  keepaliveMs: 10_000,
};

export interface PeerGatewayOptions {
  readonly credentials: NodeCredentials;
  /** Signs envelopes; must be the key of `credentials`. */
  readonly signer: Signer;
  readonly networkId: string;
  readonly genesisSeal: string;
  readonly logger?: Logger;
  /** Dialled at start and redialled with backoff until they answer (as `nodeId@host:port` or parsed). */
  readonly bootstrapPeers?: readonly (PeerAddress | string)[];
  /** The chain height announced in handshakes. */
  readonly height?: () => number;
  /** `host:port` announced to peers; default: the address the server is bound to. */
  readonly advertiseAddress?: string;
  readonly backoff?: Partial<BackoffPolicy>;
  readonly limits?: Partial<PeerLimits>;
  /** Source of redial jitter, in [0, 1). */
  readonly random?: () => number;
}

export interface ListenAddress {
  readonly host: string;
  readonly port: number;
}

export interface PeerStats {
  readonly nodeId: NodeId;
  readonly queuedMessages: number;
  readonly queuedBytes: number;
  readonly inFlightBytes: number;
  /** Messages refused because the queue was full. */
  readonly dropped: number;
  readonly envelopesSent: number;
  readonly envelopesReceived: number;
  readonly envelopesRejected: number;
  /** Streams open to this peer: 1, or 2 while a duplicate is being finished. */
  readonly streams: number;
}

// Types starting with this are the gateway's own messages.
const GATEWAY_TYPE_PREFIX = 'gateway.';
const PEERS_REQUEST = 'gateway.peers';
const REQUEST_FAILED = 'gateway.error';
const FRAME_SLACK_BYTES = 64 * 1024;
const PEER_LIST_LIMIT = 1024;

interface PeerLink {
  readonly nodeId: NodeId;
  address: string;
  active: PeerSession;
  /** Losing duplicates, kept until they finish. */
  readonly standby: Set<PeerSession>;
  readonly connectedAt: Date;
  readonly height: number;
  readonly queue: SendQueue;
  flushScheduled: boolean;
  dropped: number;
  full: boolean;
}

type Listeners = { [E in keyof PeerNetworkEvents]: Set<(event: PeerNetworkEvents[E]) => void> };

function encodePayload(payload: unknown): Buffer {
  if (Buffer.isBuffer(payload)) return payload;
  if (payload instanceof Uint8Array)
    return Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength);
  const text = JSON.stringify(payload);
  if (text === undefined) throw new TypeError('a payload must be JSON-encodable or bytes');
  return Buffer.from(text, 'utf8');
}

function refusalText(refusal: Refusal): string {
  return `${refusal.reason}: ${refusal.message}`;
}

function checkType(type: string): void {
  if (typeof type !== 'string' || type.length === 0)
    throw new TypeError('a message type is a non-empty string');
  if (type.startsWith(GATEWAY_TYPE_PREFIX)) {
    throw new TypeError(`message types starting with "${GATEWAY_TYPE_PREFIX}" are reserved for the gateway`);
  }
}

function isPeerListEntry(value: unknown): value is { nodeId: string; address: string } {
  if (typeof value !== 'object' || value === null) return false;
  const { nodeId, address } = value as Record<string, unknown>;
  return typeof nodeId === 'string' && typeof address === 'string';
}

const REFUSING_STATUSES = new Set<number>([status.UNAUTHENTICATED, status.PERMISSION_DENIED]);

export class PeerGateway implements PeerNetwork {
  readonly nodeId: NodeId;

  private readonly logger: Logger;
  private readonly limits: PeerLimits;
  private readonly local: LocalPeer;
  private readonly sessionConfig: SessionConfig;
  private readonly channelCredentials: ChannelCredentials;
  private readonly serverCredentials: PeerServerCredentials;
  private readonly bootstrap: DialTarget[];
  private readonly caCertificate: X509Certificate;
  /** This node's certificate (DER), shown in handshakes. */
  private readonly certificateDer: Buffer;

  private server: Server | undefined;
  private listening: ListenAddress | undefined;
  private stopping = false;

  private readonly links = new Map<NodeId, PeerLink>();
  private readonly sessions = new Set<PeerSession>();
  private readonly dialling = new Map<string, Promise<PeerInfo>>();
  private readonly redials: RedialSchedule;
  private readonly requests = new PendingRequests();

  private readonly messageHandlers = new Set<MessageHandler>();
  private readonly requestHandlers = new Map<string, RequestHandler>();
  private readonly listeners: Listeners = {
    'connection.created': new Set(),
    'connection.closed': new Set(),
    'network.joined': new Set(),
  };

  constructor(private readonly options: PeerGatewayOptions) {
    const { credentials, signer } = options;
    if (signer.nodeId !== credentials.nodeId) {
      throw new Error(
        `the signer is node ${signer.nodeId} but the credentials are node ${credentials.nodeId}`,
      );
    }
    this.nodeId = credentials.nodeId;
    this.logger = options.logger ?? silentLogger;
    this.limits = { ...DEFAULT_PEER_LIMITS, ...options.limits };
    this.local = { nodeId: this.nodeId, networkId: options.networkId, genesisSeal: options.genesisSeal };
    this.sessionConfig = {
      localNodeId: this.nodeId,
      signer,
      logger: this.logger,
      maxInFlightBytes: this.limits.maxInFlightBytes,
      closeTimeoutMs: this.limits.closeTimeoutMs,
    };
    this.caCertificate = new X509Certificate(credentials.caCertificate);
    this.certificateDer = new X509Certificate(credentials.certificate).raw;
    this.channelCredentials = peerChannelCredentials(credentials);
    this.serverCredentials = peerServerCredentials(credentials);
    this.bootstrap = (options.bootstrapPeers ?? []).map((peer) => {
      const target = typeof peer === 'string' ? parseDialAddress(peer) : peer;
      if (!target?.nodeId)
        throw new Error(`a bootstrap peer is "nodeId@host:port", got ${JSON.stringify(peer)}`);
      return target;
    });
    this.redials = new RedialSchedule(
      { ...DEFAULT_BACKOFF, ...options.backoff },
      options.random ?? Math.random,
      this.logger,
      (nodeId, address) => this.redial(nodeId, address),
    );
    this.requestHandlers.set(PEERS_REQUEST, (from) => ({
      peers: this.peers()
        .filter((peer) => peer.nodeId !== from)
        .map((peer) => ({ nodeId: peer.nodeId, address: peer.address })),
    }));
  }

  // ---- lifecycle -------------------------------------------------------------------------------------

  /** Listens for peers (port 0 picks a free port) and dials the bootstrap peers; returns the bound address. */
  async start(listen: Partial<ListenAddress> = {}): Promise<ListenAddress> {
    if (this.server || this.stopping) throw new Error('a peer gateway starts once');
    const host = listen.host ?? '127.0.0.1';
    const server = new Server(this.grpcOptions());
    server.addService(peerService, {
      Connect: (call: ServerDuplexStream<WireFrame, WireFrame>) => this.accept(call),
    });
    const port = await new Promise<number>((resolve, reject) => {
      server.bindAsync(
        hostPort(host, listen.port ?? 0),
        this.serverCredentials.credentials,
        (error, bound) =>
          error
            ? reject(new Error(`cannot listen on ${hostPort(host, listen.port ?? 0)}: ${error.message}`))
            : resolve(bound),
      );
    });
    await this.serverCredentials.ready;
    this.server = server;
    this.listening = { host, port };
    this.logger.info({ nodeId: this.nodeId, listen: hostPort(host, port) }, 'peer gateway listening');
    for (const peer of this.bootstrap) {
      if (peer.nodeId === undefined || peer.nodeId === this.nodeId) continue;
      this.redials.want(peer.nodeId, hostPort(peer.host, peer.port));
      this.redials.schedule(peer.nodeId, true);
    }
    return this.listening;
  }

  /** Says goodbye to every peer (they redial with backoff), stops listening and closes every stream. */
  async stop(): Promise<void> {
    if (this.stopping) return;
    this.stopping = true;
    this.redials.clear();
    for (const link of [...this.links.values()])
      this.dropLink(link, 'this node is stopping', false, 'SHUTDOWN');
    this.requests.failAll(undefined, 'the peer gateway stopped');
    for (const session of this.sessions) if (!session.peer) session.abort('the peer gateway is stopping');
    await this.sessionsClosed(this.limits.closeTimeoutMs);
    for (const session of this.sessions) session.abort('the peer gateway stopped');
    const server = this.server;
    if (server) {
      await new Promise<void>((resolve) => {
        const force = setTimeout(() => {
          server.forceShutdown();
          resolve();
        }, 1_000);
        server.tryShutdown(() => {
          clearTimeout(force);
          resolve();
        });
      });
    }
    this.logger.info({ nodeId: this.nodeId }, 'peer gateway stopped');
  }

  /** The address the server is bound to (after start). */
  get address(): ListenAddress | undefined {
    return this.listening;
  }

  // ---- connection management ------------------------------------------------------------------------

  async dial(address: string): Promise<PeerInfo> {
    const target = parseDialAddress(address);
    if (!target) {
      throw new PeerDialError('bad-address', `expected "host:port" or "nodeId@host:port", got "${address}"`);
    }
    const info = await this.dialTarget(target, 'dial');
    this.redials.want(info.nodeId, info.address);
    return info;
  }

  async join(address: string): Promise<JoinResult> {
    const via = await this.dial(address);
    const reply = await this.requestInternal(via.nodeId, PEERS_REQUEST, {}, {});
    const body = reply.payload.json();
    const listed = typeof body === 'object' && body !== null && 'peers' in body ? body.peers : undefined;
    const entries = (Array.isArray(listed) ? listed : []).filter(isPeerListEntry).slice(0, PEER_LIST_LIMIT);
    const failed: { address: string; reason: string }[] = [];
    await Promise.all(
      entries
        .filter((entry) => entry.nodeId !== this.nodeId && !this.links.has(entry.nodeId))
        .map(async (entry) => {
          const address = `${entry.nodeId}@${entry.address}`;
          try {
            await this.dial(address);
          } catch (error) {
            failed.push({ address, reason: (error as Error).message });
          }
        }),
    );
    const result: JoinResult = { via: this.linkInfo(via.nodeId) ?? via, peers: this.peers(), failed };
    this.logger.info(
      { via: via.nodeId, peers: result.peers.length, failed: failed.length },
      'joined the network; the node syncs and asks for admission next',
    );
    this.emit('network.joined', result);
    return result;
  }

  peers(): PeerInfo[] {
    return [...this.links.values()].map((link) => this.infoOf(link));
  }

  disconnect(nodeId: NodeId): boolean {
    this.redials.forget(nodeId);
    const link = this.links.get(nodeId);
    if (!link) return false;
    this.dropLink(link, 'disconnected by this node', false, 'DISCONNECTED');
    return true;
  }

  // ---- messages ----------------------------------------------------------------------------------------

  send(nodeId: NodeId, type: string, payload: unknown): SendOutcome {
    checkType(type);
    return this.enqueue(nodeId, type, encodePayload(payload), 0, 0);
  }

  broadcast(type: string, payload: unknown): BroadcastResult {
    checkType(type);
    const bytes = encodePayload(payload);
    const result: BroadcastResult = { queued: [], failed: [] };
    for (const nodeId of this.links.keys()) {
      const outcome = this.enqueue(nodeId, type, bytes, 0, 0);
      if (outcome === 'queued') result.queued.push(nodeId);
      else result.failed.push({ nodeId, outcome });
    }
    return result;
  }

  request(
    nodeId: NodeId,
    type: string,
    payload: unknown,
    options: RequestOptions = {},
  ): Promise<ReceivedMessage> {
    checkType(type);
    return this.requestInternal(nodeId, type, payload, options);
  }

  onMessage(handler: MessageHandler): Unsubscribe {
    this.messageHandlers.add(handler);
    return () => this.messageHandlers.delete(handler);
  }

  onRequest(type: string, handler: RequestHandler): Unsubscribe {
    checkType(type);
    if (this.requestHandlers.has(type)) throw new Error(`requests of type "${type}" already have a handler`);
    this.requestHandlers.set(type, handler);
    return () => {
      if (this.requestHandlers.get(type) === handler) this.requestHandlers.delete(type);
    };
  }

  on<E extends keyof PeerNetworkEvents>(
    event: E,
    listener: (event: PeerNetworkEvents[E]) => void,
  ): Unsubscribe {
    const set: Set<(event: PeerNetworkEvents[E]) => void> = this.listeners[event];
    set.add(listener);
    return () => set.delete(listener);
  }

  // ---- diagnostics -----------------------------------------------------------------------------------

  stats(): PeerStats[] {
    return [...this.links.values()].map((link) => {
      const streams = [link.active, ...link.standby];
      return {
        nodeId: link.nodeId,
        queuedMessages: link.queue.length,
        queuedBytes: link.queue.bytes,
        inFlightBytes: streams.reduce((sum, s) => sum + s.inFlightBytes, 0),
        dropped: link.dropped,
        envelopesSent: streams.reduce((sum, s) => sum + s.envelopesSent, 0),
        envelopesReceived: streams.reduce((sum, s) => sum + s.envelopesReceived, 0),
        envelopesRejected: streams.reduce((sum, s) => sum + s.envelopesRejected, 0),
        streams: streams.length,
      };
    });
  }

  /** Streams not yet closed, in any state (handshaking, carrying traffic, finishing). */
  openStreams(): number {
    return this.sessions.size;
  }

  // ---- inbound ---------------------------------------------------------------------------------------

  private accept(call: ServerDuplexStream<WireFrame, WireFrame>): void {
    const remote = call.getPeer();
    if (this.stopping) {
      call.emit('error', { code: status.UNAVAILABLE, details: 'the node is stopping' });
      return;
    }
    // grpc-js exposes the client certificate only when TLS verified it against the network CA.
    const verified = call.getAuthContext()?.sslPeerCertificate?.raw;
    let certified: CertifiedPeer | undefined;
    if (verified) {
      const checked = certifiedPeer(verified, this.caCertificate);
      if (isRefusal(checked)) {
        this.logRefusal('inbound', remote, checked);
        call.emit('error', { code: status.UNAUTHENTICATED, details: refusalText(checked) });
        return;
      }
      certified = checked;
    }
    const session: PeerSession = new PeerSession(call, 'inbound', this.sessionConfig, {
      firstFrame: (frame) => {
        clearTimeout(timer);
        if (certified) {
          this.admitInbound(session, certified, frame.handshake);
          return;
        }
        const refusal = unverifiedPeerRefusal(frame.handshake?.certificate, this.caCertificate);
        this.logRefusal('inbound', remote, refusal);
        session.refuse(refusal);
      },
      messages: (messages) => this.deliver(session, messages),
      writable: () => this.flushFor(session),
      closed: (end) => {
        clearTimeout(timer);
        this.sessionClosed(session, end);
      },
    });
    this.sessions.add(session);
    const timer = setTimeout(() => {
      const refusal: Refusal = { reason: 'handshake-timeout', message: 'no handshake in time' };
      this.logRefusal('inbound', remote, refusal, certified?.nodeId);
      session.refuse(refusal);
    }, this.limits.handshakeTimeoutMs);
    timer.unref();
  }

  private admitInbound(
    session: PeerSession,
    certified: CertifiedPeer,
    handshake: WireHandshake | undefined,
  ): void {
    const refusal = checkHandshake(this.local, handshake, certified.nodeId);
    if (refusal || !handshake) {
      const reason = refusal ?? { reason: 'bad-handshake', message: 'no handshake' };
      this.logRefusal('inbound', session.remote, reason, certified.nodeId);
      session.refuse(reason);
      return;
    }
    const address = redialAddress(handshake.listenAddress ?? '', session.remote) ?? '';
    session.admit({ ...certified, handshake, address });
    session.writeHandshake(this.handshake());
    this.register(session);
  }

  // ---- outbound --------------------------------------------------------------------------------------

  private dialTarget(target: DialTarget, why: 'dial' | 'redial'): Promise<PeerInfo> {
    if (this.stopping) return Promise.reject(new PeerDialError('stopped', 'the peer gateway is stopping'));
    if (target.nodeId === this.nodeId) {
      return Promise.reject(new PeerDialError('self-connection', 'that is this node itself'));
    }
    const connected = target.nodeId === undefined ? undefined : this.links.get(target.nodeId);
    if (connected) return Promise.resolve(this.infoOf(connected));
    const key = target.nodeId ?? hostPort(target.host, target.port);
    const inProgress = this.dialling.get(key);
    if (inProgress) return inProgress;
    const attempt = this.openOutbound(target, why).finally(() => this.dialling.delete(key));
    this.dialling.set(key, attempt);
    return attempt;
  }

  private openOutbound(target: DialTarget, why: 'dial' | 'redial'): Promise<PeerInfo> {
    const address = hostPort(target.host, target.port);
    const client = new Client(address, this.channelCredentials, this.channelOptions(target.nodeId));
    const call = client.makeBidiStreamRequest(CONNECT_PATH, serializeFrame, deserializeFrame);
    return new Promise<PeerInfo>((resolve, reject) => {
      let settled = false;
      const fail = (error: PeerDialError): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        const fields = { peer: target.nodeId, address, reason: error.reason, detail: error.message };
        if (error.reason === 'unreachable' && why === 'redial') this.logger.debug(fields, 'peer unreachable');
        else this.logger.warn(fields, 'could not connect to peer');
        reject(error);
      };
      const session: PeerSession = new PeerSession(call, 'outbound', this.sessionConfig, {
        firstFrame: (frame) => {
          clearTimeout(timer);
          const refuse = (refusal: Refusal, nodeId: NodeId | undefined): void => {
            this.logRefusal('outbound', address, refusal, nodeId);
            session.refuse(refusal);
            fail(new PeerDialError(refusal.reason, refusalText(refusal)));
          };
          const raw = call.getAuthContext()?.sslPeerCertificate?.raw;
          const certified = certifiedPeer(raw, this.caCertificate);
          if (isRefusal(certified)) {
            refuse(certified, target.nodeId);
            return;
          }
          const handshake = frame.handshake;
          const refusal = checkHandshake(this.local, handshake, certified.nodeId, target.nodeId);
          if (refusal || !handshake) {
            refuse(refusal ?? { reason: 'bad-handshake', message: 'no handshake' }, certified.nodeId);
            return;
          }
          session.admit({ ...certified, handshake, address });
          settled = true;
          clearTimeout(timer);
          resolve(this.infoOf(this.register(session)));
        },
        messages: (messages) => this.deliver(session, messages),
        writable: () => this.flushFor(session),
        closed: (end) => {
          client.close();
          this.sessionClosed(session, end);
          fail(this.dialFailure(end));
        },
      });
      this.sessions.add(session);
      session.writeHandshake(this.handshake());
      const timer = setTimeout(() => {
        fail(new PeerDialError('handshake-timeout', `no handshake from ${address} in time`));
        session.abort('no handshake in time');
      }, this.limits.handshakeTimeoutMs);
      timer.unref();
    });
  }

  private dialFailure(end: SessionEnd): PeerDialError {
    if (this.stopping) return new PeerDialError('stopped', 'the peer gateway is stopping');
    if (
      end.close?.kind === 'REFUSED' ||
      (end.statusCode !== undefined && REFUSING_STATUSES.has(end.statusCode))
    ) {
      return new PeerDialError('refused-by-peer', `refused by the peer: ${end.detail}`);
    }
    return new PeerDialError('unreachable', end.detail);
  }

  // ---- the one stream per pair -------------------------------------------------------------------------

  /** Who opened a stream: this node for outbound ones, the peer for inbound ones. */
  private diallerOf(session: PeerSession): NodeId {
    return session.direction === 'outbound' ? this.nodeId : (session.peer?.nodeId ?? '');
  }

  /** Both peers pick the same stream: the one dialled by the lower node ID; of two by the same dialler, the newer. */
  private preferred(current: PeerSession, arriving: PeerSession): PeerSession {
    const a = this.diallerOf(current);
    const b = this.diallerOf(arriving);
    if (a === b) return arriving;
    return a < b ? current : arriving;
  }

  private register(session: PeerSession): PeerLink {
    const peer = session.peer;
    if (!peer) throw new Error('only an admitted stream is registered');
    const existing = this.links.get(peer.nodeId);
    if (!this.stopping) this.redials.want(peer.nodeId, peer.address);
    this.redials.connected(peer.nodeId);
    if (!existing) {
      const link: PeerLink = {
        nodeId: peer.nodeId,
        address: peer.address,
        active: session,
        standby: new Set(),
        connectedAt: new Date(),
        height: peer.handshake.height ?? 0,
        queue: new SendQueue({
          maxBytes: this.limits.maxQueueBytes,
          maxMessages: this.limits.maxQueueMessages,
        }),
        flushScheduled: false,
        dropped: 0,
        full: false,
      };
      this.links.set(peer.nodeId, link);
      const info = this.infoOf(link);
      this.logger.info(
        { peer: info.nodeId, address: info.address, direction: info.direction, height: info.height },
        'peer connected',
      );
      this.emit('connection.created', info);
      return link;
    }
    const kept = this.preferred(existing.active, session);
    const retired = kept === session ? existing.active : session;
    if (kept === session) {
      existing.active = session;
      existing.address = peer.address;
    }
    this.logger.debug(
      session.fields({ kept: kept.direction, finishing: retired.direction }),
      'second stream to the same peer; keeping one',
    );
    this.retire(existing, retired);
    this.flush(existing);
    return existing;
  }

  private retire(link: PeerLink, session: PeerSession): void {
    link.standby.add(session);
    // The dialler of a losing stream half-closes it; the answering side stops writing to it and waits
    // for that (or for the close timeout), so messages already on their way are still read.
    if (session.direction === 'outbound') session.finish();
    else {
      const timer = setTimeout(() => {
        if (link.standby.has(session)) session.abort('duplicate stream not finished by its dialler');
      }, this.limits.closeTimeoutMs);
      timer.unref();
    }
  }

  private sessionClosed(session: PeerSession, end: SessionEnd): void {
    this.sessions.delete(session);
    const nodeId = session.peer?.nodeId;
    const link = nodeId === undefined ? undefined : this.links.get(nodeId);
    if (!link) return;
    if (link.standby.delete(session)) return;
    if (link.active !== session) return;
    const replacement = [...link.standby].find((candidate) => candidate.isOpen);
    if (replacement) {
      link.standby.delete(replacement);
      link.active = replacement;
      link.address = replacement.peer?.address ?? link.address;
      this.logger.debug(replacement.fields({}), 'stream to peer replaced by its duplicate');
      this.flush(link);
      return;
    }
    const closeKind = end.close?.kind;
    if (closeKind === 'DISCONNECTED' || closeKind === 'REFUSED') this.redials.forget(link.nodeId);
    const reason = end.close ? `peer closed the stream: ${end.detail}` : `stream ${end.how}: ${end.detail}`;
    this.dropLink(link, reason, !this.stopping && this.redials.isWanted(link.nodeId));
  }

  /** Forgets a peer's link, closes its streams, and reports it; redials it when asked to. */
  private dropLink(
    link: PeerLink,
    reason: string,
    reconnect: boolean,
    closeKind?: 'DISCONNECTED' | 'SHUTDOWN',
  ): void {
    if (this.links.get(link.nodeId) !== link) return;
    this.links.delete(link.nodeId);
    if (closeKind) link.active.close(closeKind, reason);
    else link.active.abort(reason);
    for (const session of link.standby) session.abort(reason);
    const discarded = link.queue.clear();
    this.requests.failAll(link.nodeId, `connection to ${link.nodeId} closed`);
    const event: ConnectionClosed = { nodeId: link.nodeId, address: link.address, reason, reconnect };
    this.logger.info(
      { peer: link.nodeId, address: link.address, reason, reconnect, discarded },
      'peer disconnected',
    );
    this.emit('connection.closed', event);
    if (reconnect) this.redials.schedule(link.nodeId);
  }

  // ---- redial ------------------------------------------------------------------------------------------

  private redial(nodeId: NodeId, address: string): void {
    const target = splitHostPort(address);
    if (!target || this.links.has(nodeId) || this.stopping) return;
    this.dialTarget({ nodeId, ...target }, 'redial').catch((error: unknown) => {
      if (this.links.has(nodeId) || !this.redials.isWanted(nodeId)) return;
      if (error instanceof PeerDialError && error.permanent) {
        this.logger.warn(
          { peer: nodeId, address, reason: error.reason },
          'not redialling a peer that refused',
        );
        this.redials.forget(nodeId);
        return;
      }
      this.redials.schedule(nodeId);
    });
  }

  // ---- sending -----------------------------------------------------------------------------------------

  private enqueue(
    nodeId: NodeId,
    type: string,
    payload: Buffer,
    requestId: number,
    replyTo: number,
  ): SendOutcome {
    const link = this.links.get(nodeId);
    if (!link) return 'not-connected';
    if (payload.length > this.limits.maxMessageBytes) {
      this.logger.warn(
        { peer: nodeId, type, bytes: payload.length, limit: this.limits.maxMessageBytes },
        'message over the size limit not sent',
      );
      return 'too-large';
    }
    if (!link.queue.offer(queuedMessage({ type, payload, requestId, replyTo }))) {
      link.dropped++;
      if (!link.full) {
        link.full = true;
        this.logger.warn(
          { peer: nodeId, queuedMessages: link.queue.length, queuedBytes: link.queue.bytes },
          'send queue to peer is full; new messages are refused until it drains',
        );
      }
      return 'queue-full';
    }
    link.full = false;
    if (!link.flushScheduled) {
      // Flushing on the next turn of the event loop lets messages sent together share an envelope.
      link.flushScheduled = true;
      setImmediate(() => {
        link.flushScheduled = false;
        this.flush(link);
      });
    }
    return 'queued';
  }

  private flushFor(session: PeerSession): void {
    const link = session.peer ? this.links.get(session.peer.nodeId) : undefined;
    if (link?.active === session) this.flush(link);
  }

  private flush(link: PeerLink): void {
    if (this.links.get(link.nodeId) !== link) return;
    const session = link.active;
    while (link.queue.length > 0 && session.canSend) {
      session.sendEnvelope(link.queue.take(this.limits.maxEnvelopeBytes, this.limits.maxEnvelopeMessages));
    }
  }

  // ---- receiving ---------------------------------------------------------------------------------------

  private deliver(session: PeerSession, messages: readonly WireMessage[]): void {
    const from = session.peer?.nodeId;
    if (from === undefined) return;
    for (const message of messages) {
      const type = message.type ?? '';
      const payload = new Payload(message.payload ?? Buffer.alloc(0));
      if (message.replyTo) {
        this.receiveReply(from, type, message.replyTo, payload);
      } else if (message.requestId) {
        this.answer(from, type, message.requestId, payload);
      } else if (!type.startsWith(GATEWAY_TYPE_PREFIX)) {
        for (const handler of this.messageHandlers) {
          try {
            handler(from, type, payload);
          } catch (error) {
            this.logger.error(
              { peer: from, type, error: (error as Error).message },
              'message handler failed',
            );
          }
        }
      }
    }
  }

  private answer(from: NodeId, type: string, requestId: number, payload: Payload): void {
    const handler = this.requestHandlers.get(type);
    const replyFailed = (message: string): void => {
      this.enqueue(from, REQUEST_FAILED, encodePayload({ error: message }), 0, requestId);
    };
    if (!handler) {
      replyFailed(`no handler for requests of type "${type}"`);
      return;
    }
    let result: unknown;
    try {
      result = handler(from, payload);
    } catch (error) {
      replyFailed((error as Error).message);
      return;
    }
    Promise.resolve(result).then(
      (reply) => {
        let bytes: Buffer;
        try {
          bytes = encodePayload(reply);
        } catch (error) {
          replyFailed((error as Error).message);
          return;
        }
        const outcome = this.enqueue(from, type, bytes, 0, requestId);
        if (outcome === 'too-large') replyFailed('the reply is over the message size limit');
      },
      (error: unknown) => replyFailed(error instanceof Error ? error.message : String(error)),
    );
  }

  private receiveReply(from: NodeId, type: string, replyTo: number, payload: Payload): void {
    let failure: string | undefined;
    if (type === REQUEST_FAILED) {
      const body = payload.json();
      failure =
        typeof body === 'object' && body !== null && 'error' in body ? String(body.error) : payload.text();
    }
    if (!this.requests.answer(replyTo, { from, type, payload }, failure)) {
      this.logger.debug({ peer: from, type, replyTo }, 'reply to no pending request ignored');
    }
  }

  private requestInternal(
    nodeId: NodeId,
    type: string,
    payload: unknown,
    options: RequestOptions,
  ): Promise<ReceivedMessage> {
    const bytes = encodePayload(payload);
    const timeoutMs = options.timeoutMs ?? this.limits.requestTimeoutMs;
    return this.requests.open(nodeId, type, timeoutMs, (requestId) =>
      this.enqueue(nodeId, type, bytes, requestId, 0),
    );
  }

  // ---- helpers -----------------------------------------------------------------------------------------

  private handshake(): WireHandshake {
    const listen =
      this.options.advertiseAddress ??
      (this.listening ? hostPort(this.listening.host, this.listening.port) : '');
    return {
      protocolVersion: PROTOCOL_VERSION,
      nodeId: this.nodeId,
      networkId: this.options.networkId,
      genesisSeal: this.options.genesisSeal,
      listenAddress: listen,
      height: this.options.height?.() ?? 0,
      certificate: this.certificateDer,
    };
  }

  private infoOf(link: PeerLink): PeerInfo {
    return {
      nodeId: link.nodeId,
      address: link.address,
      direction: link.active.direction,
      connectedAt: link.connectedAt,
      height: link.height,
    };
  }

  private linkInfo(nodeId: NodeId): PeerInfo | undefined {
    const link = this.links.get(nodeId);
    return link ? this.infoOf(link) : undefined;
  }

  private emit<E extends keyof PeerNetworkEvents>(event: E, payload: PeerNetworkEvents[E]): void {
    const set: Set<(event: PeerNetworkEvents[E]) => void> = this.listeners[event];
    for (const listener of set) {
      try {
        listener(payload);
      } catch (error) {
        this.logger.error({ event, error: (error as Error).message }, 'peer event listener failed');
      }
    }
  }

  private logRefusal(side: 'inbound' | 'outbound', remote: string, refusal: Refusal, nodeId?: NodeId): void {
    const fields: LogFields = { side, remote, peer: nodeId, reason: refusal.reason, detail: refusal.message };
    this.logger.warn(fields, 'peer refused');
  }

  private sessionsClosed(timeoutMs: number): Promise<void> {
    return new Promise((resolve) => {
      const started = Date.now();
      const check = (): void => {
        if (this.sessions.size === 0 || Date.now() - started >= timeoutMs) resolve();
        else setTimeout(check, 10).unref();
      };
      check();
    });
  }

  private grpcOptions(): ChannelOptions {
    const frameBytes = this.limits.maxMessageBytes + FRAME_SLACK_BYTES;
    return {
      'grpc.max_receive_message_length': frameBytes,
      'grpc.max_send_message_length': frameBytes,
      'grpc.keepalive_time_ms': this.limits.keepaliveMs,
      'grpc.keepalive_timeout_ms': Math.max(1_000, Math.round(this.limits.keepaliveMs / 2)),
      'grpc.keepalive_permit_without_calls': 1,
    };
  }

  private channelOptions(expectedNodeId: NodeId | undefined): ChannelOptions {
    return {
      ...this.grpcOptions(),
      // TLS server name: the node ID when known (it is the certificate's DNS SAN). Identity is checked
      // per stream either way; a fixed name keeps Node from sending an IP address as SNI.
      'grpc.ssl_target_name_override': expectedNodeId ?? 'itchain-peer',
      // Each dial gets its own connection, and a broken stream is redialled by the gateway, not retried.
      'grpc.use_local_subchannel_pool': 1,
      'grpc.enable_retries': 0,
    };
  }
}
