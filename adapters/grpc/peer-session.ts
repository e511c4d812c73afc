import type { KeyObject } from 'node:crypto';
import { type ClientDuplexStream, type ServerDuplexStream, type StatusObject, status } from '@grpc/grpc-js';
import type { NodeId, Signer } from '../../domain/identity.ts';
import { signEnvelope, verifyEnvelope } from './envelope-signature.ts';
import type { LogFields, Logger } from './logger.ts';
import type { Refusal } from './peer-admission.ts';
import type { Direction } from './peer-network.ts';
import type {
  CloseKind,
  WireClose,
  WireEnvelope,
  WireFrame,
  WireHandshake,
  WireMessage,
} from './peer-protocol.ts';
import type { QueuedMessage } from './send-queue.ts';

// One gRPC stream to a peer, from either end: the dialler's client call or the answering server call.
// It writes frames with a bound on bytes handed to gRPC but not yet on the socket, checks every
// envelope (sender, sequence, signature) before handing its messages on, and reports once how it ended.
// Which stream of a pair carries traffic, and everything after a message is accepted, is the gateway's.

type Call = ClientDuplexStream<WireFrame, WireFrame> | ServerDuplexStream<WireFrame, WireFrame>;

/** The peer on the other end, once its certificate and handshake were accepted. */
export interface AdmittedPeer {
  readonly nodeId: NodeId;
  readonly publicKey: KeyObject;
  readonly handshake: WireHandshake;
  /** `host:port` to redial it at. */
  readonly address: string;
}

export interface SessionEnd {
  /** 'closed' when the stream finished in order, 'failed' when it was cancelled or broke. */
  readonly how: 'closed' | 'failed';
  /** The peer's Close frame, when it sent one. */
  readonly close?: WireClose;
  readonly statusCode?: number;
  readonly detail: string;
}

export interface SessionListener {
  /** The first frame; the listener admits or refuses the session before it returns. */
  firstFrame(frame: WireFrame): void;
  messages(messages: readonly WireMessage[]): void;
  /** Room to write again after the in-flight bound was reached. */
  writable(): void;
  closed(end: SessionEnd): void;
}

export interface SessionConfig {
  readonly localNodeId: NodeId;
  readonly signer: Signer;
  readonly logger: Logger;
  readonly maxInFlightBytes: number;
  /** How long a stream this side finished may take to end before it is cancelled. */
  readonly closeTimeoutMs: number;
}

export type EnvelopeRejection = 'wrong-sender' | 'stale-seq' | 'bad-signature' | 'not-admitted';

// Log the first few rejections of a stream at warn, the rest at debug: a broken peer must not flood logs.
const REJECTIONS_LOGGED_AT_WARN = 10;
const FRAME_OVERHEAD_BYTES = 160;
const EMPTY = Buffer.alloc(0);

let sessionCounter = 0;

export class PeerSession {
  readonly id = ++sessionCounter;
  /** The other end's socket address as gRPC reports it. */
  readonly remote: string;
  peer: AdmittedPeer | undefined;

  private state: 'opening' | 'open' | 'finishing' | 'closed' = 'opening';
  private sawFirstFrame = false;
  private sendSeq = 0;
  private receiveSeq = 0;
  private inFlight = 0;
  private blocked = false;
  private receivedClose: WireClose | undefined;
  private finishTimer: NodeJS.Timeout | undefined;

  envelopesSent = 0;
  envelopesReceived = 0;
  envelopesRejected = 0;

  constructor(
    private readonly call: Call,
    readonly direction: Direction,
    private readonly config: SessionConfig,
    private readonly listener: SessionListener,
  ) {
    this.remote = call.getPeer();
    call.on('data', (frame: WireFrame) => this.receive(frame));
    call.on('error', () => {}); // the status or cancellation that follows is what ends the session
    if (direction === 'outbound') {
      call.on('status', (result: StatusObject) =>
        this.ended(result.code === status.OK ? 'closed' : 'failed', result.details, result.code),
      );
    } else {
      // The dialler half-closed: it is done with this stream, so answer by finishing it in order.
      call.on('end', () => this.finish());
      call.on('cancelled', () => this.ended('failed', 'cancelled by the peer or connection lost'));
      call.on('finish', () => this.ended('closed', 'stream finished'));
      call.on('close', () => this.ended('failed', 'stream closed'));
    }
  }

  get isOpen(): boolean {
    return this.state === 'open';
  }

  /** Open and below the in-flight bound. */
  get canSend(): boolean {
    return this.state === 'open' && this.inFlight < this.config.maxInFlightBytes;
  }

  get inFlightBytes(): number {
    return this.inFlight;
  }

  admit(peer: AdmittedPeer): void {
    if (this.state !== 'opening') return;
    this.peer = peer;
    this.state = 'open';
  }

  writeHandshake(handshake: WireHandshake): void {
    if (this.state === 'opening' || this.state === 'open') this.write({ handshake }, FRAME_OVERHEAD_BYTES);
  }

  /** Signs the messages as one envelope and writes it. */
  sendEnvelope(messages: readonly QueuedMessage[]): void {
    const peer = this.peer;
    if (this.state !== 'open' || !peer) throw new Error('envelopes go only to an open, admitted stream');
    const seq = ++this.sendSeq;
    const from = this.config.localNodeId;
    const signature = signEnvelope(this.config.signer, { from, to: peer.nodeId, seq, messages });
    let bytes = FRAME_OVERHEAD_BYTES;
    for (const message of messages) bytes += message.size;
    // The queued messages carry an extra `size` field; the encoder writes only declared fields.
    const envelope: WireEnvelope = { from, seq, messages, signature };
    this.write({ envelope }, bytes);
    this.envelopesSent++;
  }

  /** Sends a Close frame and finishes the stream from this side. */
  close(kind: CloseKind, reason: string): void {
    if (this.state === 'opening' || this.state === 'open') {
      this.write({ close: { kind, reason } }, FRAME_OVERHEAD_BYTES);
    }
    this.finish();
  }

  /**
   * Refuses the peer. A dialler says why in a Close frame; the answering side ends the call with an
   * error status carrying the reason, which is what a gRPC client reports.
   */
  refuse(refusal: Refusal): void {
    if (this.direction === 'outbound') {
      this.close('REFUSED', `${refusal.reason}: ${refusal.message}`);
      return;
    }
    this.fail(status.PERMISSION_DENIED, `${refusal.reason}: ${refusal.message}`);
  }

  /**
   * Stops writing and ends this side in order: the dialler half-closes (it still reads until the
   * peer's status), the answering side sends its status. Cancels if the peer does not finish in time.
   */
  finish(): void {
    if (this.state === 'finishing' || this.state === 'closed') return;
    this.state = 'finishing';
    this.call.end();
    this.finishTimer = setTimeout(
      () => this.abort('the peer did not finish the stream in time'),
      this.config.closeTimeoutMs,
    );
    this.finishTimer.unref();
  }

  /** Ends the stream at once, without waiting for anything in flight. */
  abort(detail: string): void {
    if (this.state === 'closed') return;
    if (this.direction === 'outbound') {
      (this.call as ClientDuplexStream<WireFrame, WireFrame>).cancel();
    } else {
      this.fail(status.ABORTED, detail);
    }
    this.ended('failed', detail);
  }

  /** Ends an answering stream with an error status; once its status is sent there is nothing left to end. */
  private fail(code: status, details: string): void {
    if (this.state === 'closed' || this.state === 'finishing') return;
    this.state = 'finishing';
    this.call.emit('error', { code, details });
  }

  private write(frame: WireFrame, bytes: number): void {
    this.inFlight += bytes;
    if (this.inFlight >= this.config.maxInFlightBytes) this.blocked = true;
    this.call.write(frame, () => {
      this.inFlight -= bytes;
      if (this.blocked && this.inFlight < this.config.maxInFlightBytes) {
        this.blocked = false;
        if (this.state === 'open') this.listener.writable();
      }
    });
  }

  private receive(frame: WireFrame): void {
    if (this.state === 'closed') return;
    if (frame.close) {
      this.receivedClose = frame.close;
      return;
    }
    if (!this.sawFirstFrame) {
      this.sawFirstFrame = true;
      this.listener.firstFrame(frame);
      return;
    }
    if (frame.envelope) {
      this.receiveEnvelope(frame.envelope);
      return;
    }
    this.config.logger.debug(this.fields({}), 'unexpected frame after the handshake ignored');
  }

  private receiveEnvelope(envelope: WireEnvelope): void {
    const rejection = this.check(envelope);
    if (rejection) {
      this.reject(rejection, envelope);
      return;
    }
    this.receiveSeq = envelope.seq ?? 0;
    this.envelopesReceived++;
    if (this.state === 'open' || this.state === 'finishing') this.listener.messages(envelope.messages ?? []);
  }

  /** Why an envelope must be dropped, or null when it comes from the peer, in order, correctly signed. */
  private check(envelope: WireEnvelope): EnvelopeRejection | null {
    const peer = this.peer;
    if (!peer) return 'not-admitted';
    if (envelope.from !== peer.nodeId) return 'wrong-sender';
    const seq = envelope.seq ?? 0;
    if (seq <= this.receiveSeq) return 'stale-seq';
    const fields = { from: peer.nodeId, to: this.config.localNodeId, seq, messages: envelope.messages ?? [] };
    return verifyEnvelope(peer.publicKey, fields, envelope.signature ?? EMPTY) ? null : 'bad-signature';
  }

  private reject(reason: EnvelopeRejection, envelope: WireEnvelope): void {
    this.envelopesRejected++;
    const fields = this.fields({
      reason,
      from: envelope.from,
      seq: envelope.seq ?? 0,
      messages: envelope.messages?.length ?? 0,
      rejected: this.envelopesRejected,
    });
    if (this.envelopesRejected <= REJECTIONS_LOGGED_AT_WARN) {
      this.config.logger.warn(fields, 'envelope dropped');
    } else {
      this.config.logger.debug(fields, 'envelope dropped');
    }
  }

  private ended(how: SessionEnd['how'], detail: string, statusCode?: number): void {
    if (this.state === 'closed') return;
    this.state = 'closed';
    if (this.finishTimer) clearTimeout(this.finishTimer);
    const end: SessionEnd = {
      how,
      detail: this.receivedClose?.reason ?? detail,
      ...(this.receivedClose ? { close: this.receivedClose } : {}),
      ...(statusCode === undefined ? {} : { statusCode }),
    };
    this.listener.closed(end);
  }

  fields(extra: LogFields): LogFields {
    return {
      peer: this.peer?.nodeId,
      remote: this.remote,
      stream: this.id,
      direction: this.direction,
      ...extra,
    };
  }
}
