import { randomUUID } from 'node:crypto';
import type { Subscription } from '../bus/event-bus.ts';
import type { GatewayBus, PeerCommand, PeerCommandReply, QueryOutcome } from './api-topics.ts';
import { type IcodeQuerier, type PeerControl, PeerControlError } from './ports.ts';

// The default IcodeQuerier and PeerControl: requests over the bus (query.requested, peer.requested),
// answered by the IVM and the gRPC gateway wherever they run (same process or over RabbitMQ). No
// answer in time means the component is not there or is stuck: the caller hears 'unavailable'.

/** Matches replies to requests by requestId; a reply nobody waits for (late, foreign) is ignored. */
class ReplyWaiters<R> {
  private readonly waiting = new Map<string, (reply: R | undefined) => void>();

  settle(requestId: string, reply: R): void {
    const resolve = this.waiting.get(requestId);
    if (resolve) resolve(reply);
  }

  /** Sends the request and waits up to timeoutMs for its reply (undefined on timeout). */
  async ask(send: (requestId: string) => Promise<void>, timeoutMs: number): Promise<R | undefined> {
    const requestId = randomUUID();
    let timer: NodeJS.Timeout | undefined;
    const reply = new Promise<R | undefined>((resolve) => {
      this.waiting.set(requestId, resolve);
      timer = setTimeout(() => resolve(undefined), timeoutMs);
    });
    try {
      await send(requestId);
      return await reply;
    } finally {
      clearTimeout(timer);
      this.waiting.delete(requestId);
    }
  }

  cancelAll(): void {
    for (const resolve of this.waiting.values()) resolve(undefined);
  }
}

export interface BusPorts {
  querier: IcodeQuerier;
  peers: PeerControl;
  close(): Promise<void>;
}

export interface BusPortTimeouts {
  queryTimeoutMs?: number;
  peerTimeoutMs?: number;
}

export async function startBusPorts(bus: GatewayBus, timeouts: BusPortTimeouts = {}): Promise<BusPorts> {
  const queryTimeoutMs = timeouts.queryTimeoutMs ?? 5_000;
  const peerTimeoutMs = timeouts.peerTimeoutMs ?? 10_000;
  const queries = new ReplyWaiters<QueryOutcome>();
  const peerReplies = new ReplyWaiters<PeerCommandReply>();
  const subscriptions: Subscription[] = [
    await bus.on('query.answered', (reply) => queries.settle(reply.requestId, reply.outcome)),
    await bus.on('peer.answered', (reply) => peerReplies.settle(reply.requestId, reply)),
  ];

  const askPeers = async (command: PeerCommand) => {
    const reply = await peerReplies.ask(
      (requestId) => bus.publish('peer.requested', { requestId, command }),
      peerTimeoutMs,
    );
    if (!reply) {
      throw new PeerControlError('unavailable', `the gRPC gateway did not answer within ${peerTimeoutMs} ms`);
    }
    if (!reply.ok) throw new PeerControlError(reply.code, reply.message);
    return reply;
  };

  return {
    querier: {
      async query(icodeId, fn, args) {
        const outcome = await queries.ask(
          (requestId) => bus.publish('query.requested', { requestId, icodeId, function: fn, args }),
          queryTimeoutMs,
        );
        return (
          outcome ?? {
            status: 'error',
            error: { code: 'unavailable', message: `the IVM did not answer within ${queryTimeoutMs} ms` },
            gasUsed: 0,
          }
        );
      },
    },
    peers: {
      async connect(type, address) {
        const reply = await askPeers({ type, address });
        return reply.ok && reply.peerId !== undefined ? { peerId: reply.peerId } : {};
      },
      async disconnect(peerId) {
        await askPeers({ type: 'disconnect', peerId });
      },
    },
    async close() {
      queries.cancelAll();
      peerReplies.cancelAll();
      await Promise.all(subscriptions.map((s) => s.unsubscribe()));
    },
  };
}
