import type { Logger } from 'pino';
import type { Payload, PeerNetwork } from '../adapters/grpc/peer-network.ts';
import type { NodeId, Signer } from '../domain/identity.ts';
import type { Transaction } from '../domain/transaction.ts';
import { admissionTx, admittedKey, type Membership } from './membership.ts';
import type { TxOutcome } from './replica/replica.ts';

// Asking to be admitted, and admitting (SPEC §4 Membership, docs/membership.md).
//
//   joining node J                                  member V (the peer J joined through)
//   join V: learn V's peers, connect to all
//   sync until at V's height (from the handshake)
//   ── membership.admit {certificate} ──────────▶   the certificate must chain to the genesis CA and
//                                                   name J, the peer the TLS session authenticated;
//                                                   V signs a membership tx admitting J into its pool
//   ◀────────────────── {status: 'submitted', txId}
//   the tx commits through consensus; every node (J too) applies it: J's key joins the key ring,
//   so J's own txs are valid from the next height
//
// J asks again (every RETRY_MS, at most MAX_ASKS times, V first and then its other peers in turn)
// until it sees itself admitted on its own chain: a request, its answer or the tx may be lost when V
// crashes. A second membership tx for the same node commits as a no-op. V answers a repeat within
// RESUBMIT_MS with the tx it already submitted.

export const ADMISSION_REQUEST = 'membership.admit';

export type AdmissionReply =
  | { status: 'submitted'; txId: string }
  | { status: 'member' }
  | { status: 'refused'; reason: string };

/** The peer a join went through and its height then (the bus's network.joined, as this node sends it). */
export interface JoinedVia {
  peerId: NodeId;
  address: string;
  height: number;
}

const TICK_MS = 250;
const RETRY_MS = 5_000;
const MAX_ASKS = 12;
const REQUEST_TIMEOUT_MS = 10_000;
const RESUBMIT_MS = 10_000;

export interface AdmissionDeskOptions {
  gateway: PeerNetwork;
  membership: Membership;
  signer: Signer;
  caCertificate: string;
  /** This node's certificate (PEM): what it sends when it asks. */
  certificate: () => string;
  logger: Logger;
  /** Hands a tx to this node's pool (the replica's submitTx). */
  submit: (tx: Transaction) => TxOutcome;
  /** True when this node is not syncing and holds at least `height` blocks. */
  caughtUp: (height: number) => boolean;
  now?: () => number;
}

/** Reads the `via` of a network.joined payload; null when it has none (another publisher's shape). */
export function joinedVia(payload: unknown): JoinedVia | null {
  if (typeof payload !== 'object' || payload === null || !('via' in payload)) return null;
  const via = payload.via;
  if (typeof via !== 'object' || via === null) return null;
  const { peerId, address, height } = via as Record<string, unknown>;
  if (typeof peerId !== 'string' || typeof address !== 'string' || typeof height !== 'number') return null;
  return { peerId, address, height };
}

function certificateOf(payload: Payload): string | null {
  const body = payload.json();
  if (typeof body !== 'object' || body === null || !('certificate' in body)) return null;
  return typeof body.certificate === 'string' && body.certificate.length <= 16_384 ? body.certificate : null;
}

export class AdmissionDesk {
  private unsubscribe: (() => void) | null = null;
  /** Membership txs this node submitted for others, by node: answered again to a repeated request. */
  private readonly submitted = new Map<NodeId, { txId: string; at: number }>();
  /** This node's own request for admission, while it is not a member. */
  private asking: { via: JoinedVia; asks: number; lastAskAt: number; inFlight: boolean } | null = null;
  private ticker: NodeJS.Timeout | null = null;
  private readonly now: () => number;

  constructor(private readonly options: AdmissionDeskOptions) {
    this.now = options.now ?? Date.now;
  }

  start(): void {
    this.unsubscribe = this.options.gateway.onRequest(ADMISSION_REQUEST, (from, payload) =>
      this.answer(from, payload),
    );
  }

  stop(): void {
    this.unsubscribe?.();
    this.unsubscribe = null;
    this.stopAsking();
  }

  /** After a join through `via`: once caught up with it, ask it to admit this node (until admitted). */
  askAfterSync(via: JoinedVia): void {
    const { membership, signer, logger } = this.options;
    if (membership.isMember(signer.nodeId)) {
      logger.info({ via: via.peerId }, 'joined the network; this node is a member already');
      return;
    }
    this.asking = { via, asks: 0, lastAskAt: 0, inFlight: false };
    this.ticker ??= setInterval(() => this.tick(), TICK_MS);
    this.ticker.unref();
    logger.info(
      { via: via.peerId, height: via.height },
      'joined the network; syncing, then asking to be admitted',
    );
  }

  /** This node saw itself admitted on its chain: nothing more to ask. */
  admitted(): void {
    this.stopAsking();
  }

  private stopAsking(): void {
    if (this.ticker) clearInterval(this.ticker);
    this.ticker = null;
    this.asking = null;
  }

  private tick(): void {
    const asking = this.asking;
    const { membership, signer, caughtUp, logger } = this.options;
    if (asking === null || asking.inFlight) return;
    if (membership.isMember(signer.nodeId)) {
      this.stopAsking();
      return;
    }
    if (!caughtUp(asking.via.height)) return;
    if (asking.asks > 0 && this.now() - asking.lastAskAt < RETRY_MS) return;
    if (asking.asks >= MAX_ASKS) {
      logger.error(
        { via: asking.via.peerId, asks: asking.asks },
        'not admitted after asking repeatedly; join again through another member',
      );
      this.stopAsking();
      return;
    }
    void this.ask(asking);
  }

  private async ask(asking: NonNullable<AdmissionDesk['asking']>): Promise<void> {
    const { gateway, certificate, logger } = this.options;
    // First the peer it joined through; if that fails, the other peers in turn (one may be down).
    const others = gateway
      .peers()
      .map((p) => p.nodeId)
      .filter((id) => id !== asking.via.peerId)
      .sort();
    const candidates = [asking.via.peerId, ...others];
    const via = candidates[asking.asks % candidates.length]!;
    asking.inFlight = true;
    asking.asks += 1;
    asking.lastAskAt = this.now();
    try {
      const reply = await gateway.request(
        via,
        ADMISSION_REQUEST,
        { certificate: certificate() },
        { timeoutMs: REQUEST_TIMEOUT_MS },
      );
      const answer = reply.payload.json() as AdmissionReply;
      if (answer.status === 'refused') {
        logger.warn({ via, reason: answer.reason }, 'the peer refused to admit this node');
      } else {
        logger.info({ via, ...answer }, 'asked to be admitted: the membership tx is on its way');
      }
    } catch (error) {
      logger.warn(
        { via, err: error instanceof Error ? error.message : String(error) },
        'asking to be admitted failed; asking again',
      );
    } finally {
      asking.inFlight = false;
    }
  }

  /** A peer asks to be admitted: check its certificate, then put a membership tx into the pool. */
  private answer(from: NodeId, payload: Payload): AdmissionReply {
    const { membership, signer, caCertificate, submit, logger } = this.options;
    const refuse = (reason: string): AdmissionReply => {
      logger.warn({ peer: from, reason }, 'refused a request for admission');
      return { status: 'refused', reason };
    };
    if (!membership.canAdmit) {
      return refuse(`node ${signer.nodeId} cannot admit members (its key ring was not loaded at start)`);
    }
    if (!membership.isMember(signer.nodeId)) {
      return refuse(`node ${signer.nodeId} is not a member itself: ask another peer`);
    }
    if (membership.isMember(from)) return { status: 'member' };
    const certificate = certificateOf(payload);
    if (certificate === null) return refuse('the request carries no certificate (PEM)');
    try {
      // The TLS session authenticated `from`: a node can only ask for itself.
      admittedKey({ nodeId: from, certificate }, caCertificate, new Date(this.now()));
    } catch (error) {
      return refuse(error instanceof Error ? error.message : String(error));
    }
    const earlier = this.submitted.get(from);
    if (earlier !== undefined && this.now() - earlier.at < RESUBMIT_MS) {
      return { status: 'submitted', txId: earlier.txId };
    }
    const tx = admissionTx({ nodeId: from, certificate }, signer, this.now());
    const outcome = submit(tx);
    if (outcome.status === 'rejected') return refuse(`the membership tx was refused: ${outcome.reason}`);
    this.submitted.set(from, { txId: tx.id, at: this.now() });
    logger.info({ peer: from, txId: tx.id }, 'a peer asked to be admitted: membership tx submitted');
    return { status: 'submitted', txId: tx.id };
  }
}
