import type { NodeId } from '../../domain/identity.ts';
import type { ReceivedMessage, SendOutcome } from './peer-network.ts';

// Requests waiting for their reply. A request is a message with a request ID; the peer's reply carries
// that ID back. Each waits until its reply, its timeout, or the loss of the connection to its peer.

export class PeerRequestError extends Error {
  constructor(
    readonly reason: 'timeout' | 'failed' | 'connection-closed' | Exclude<SendOutcome, 'queued'>,
    message: string,
  ) {
    super(message);
    this.name = 'PeerRequestError';
  }
}

interface PendingRequest {
  readonly nodeId: NodeId;
  readonly type: string;
  readonly resolve: (message: ReceivedMessage) => void;
  readonly reject: (error: Error) => void;
  readonly timer: NodeJS.Timeout;
}

export class PendingRequests {
  private readonly pending = new Map<number, PendingRequest>();
  private nextId = 1;

  /** Sends a request through `send` (given the request ID) and waits for its reply. */
  open(
    nodeId: NodeId,
    type: string,
    timeoutMs: number,
    send: (requestId: number) => SendOutcome,
  ): Promise<ReceivedMessage> {
    const requestId = this.nextId++;
    return new Promise<ReceivedMessage>((resolve, reject) => {
      const outcome = send(requestId);
      if (outcome !== 'queued') {
        reject(new PeerRequestError(outcome, `request "${type}" to ${nodeId} not sent: ${outcome}`));
        return;
      }
      const timer = setTimeout(() => {
        const error = `no answer to "${type}" from ${nodeId} in ${timeoutMs} ms`;
        this.settle(requestId, new PeerRequestError('timeout', error));
      }, timeoutMs);
      this.pending.set(requestId, { nodeId, type, resolve, reject, timer });
    });
  }

  /**
   * Settles the request a reply answers: with the reply, or with the failure the peer reported.
   * False when no request from this peer waits for it (late, after a timeout, or not ours).
   */
  answer(replyTo: number, reply: ReceivedMessage, failure?: string): boolean {
    const request = this.pending.get(replyTo);
    if (!request || request.nodeId !== reply.from) return false;
    const outcome =
      failure === undefined
        ? reply
        : new PeerRequestError('failed', `request "${request.type}" failed at ${reply.from}: ${failure}`);
    return this.settle(replyTo, outcome);
  }

  /** Fails every request waiting on `nodeId` (or on anyone, when undefined). */
  failAll(nodeId: NodeId | undefined, message: string): void {
    for (const [id, request] of [...this.pending]) {
      if (nodeId === undefined || request.nodeId === nodeId) {
        this.settle(id, new PeerRequestError('connection-closed', message));
      }
    }
  }

  private settle(id: number, outcome: ReceivedMessage | Error): boolean {
    const request = this.pending.get(id);
    if (!request) return false;
    this.pending.delete(id);
    clearTimeout(request.timer);
    if (outcome instanceof Error) request.reject(outcome);
    else request.resolve(outcome);
    return true;
  }
}
