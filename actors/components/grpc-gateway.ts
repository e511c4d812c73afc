import type {
  GatewayTopic,
  GatewayTopics,
  PeerCommand,
  PeerCommandReply,
  PeerFailureCode,
} from '../../adapters/api/api-topics.ts';
import type { Subscription } from '../../adapters/bus/event-bus.ts';
import { type DialFailureReason, PeerDialError } from '../../adapters/grpc/peer-admission.ts';
import type { PeerInfo } from '../../adapters/grpc/peer-network.ts';
import type { JoinedVia } from '../membership-admission.ts';
import type { CoreParts } from '../node-parts.ts';
import { decodePeerMessage } from '../peer-message-codec.ts';
import type { PeerMessage } from '../replica/messages.ts';
import { type ActorLinks, type Component, errorText } from './component.ts';
import { CONSENSUS_ID, type ConsensusEvent } from './consensus.ts';

// The gRPC gateway component: the peer transport (adapters/grpc, mTLS with the genesis CA pinned)
// on the node's side. A peer's message is decoded strictly (peer-message-codec.ts) and becomes a
// `peer.message` event for the consensus actor; connections become connection.created / .closed on
// the bus; peer.requested (API: dial, join, disconnect) is answered with peer.answered; a finished
// join becomes network.joined (with the peer it went through, for the admission that follows); the
// peer list is the gateway's part of status.reported. Refused peers are logged by the gateway with the reason.

export const GRPC_GATEWAY_ID = 'grpcGateway';

const FAILURE_CODES: Partial<Record<DialFailureReason, PeerFailureCode>> = {
  'bad-address': 'bad_address',
  unreachable: 'unreachable',
  'handshake-timeout': 'unreachable',
  stopped: 'unavailable',
};

function peerView(peer: PeerInfo) {
  return { peerId: peer.nodeId, address: peer.address, outbound: peer.direction === 'outbound' };
}

export class GrpcGatewayComponent implements Component {
  private readonly subscriptions: Subscription[] = [];
  private readonly unsubscribes: (() => void)[] = [];
  private readonly log;
  private refusedMessages = 0;

  constructor(
    private readonly parts: CoreParts,
    private readonly links: ActorLinks,
  ) {
    this.log = parts.logger.child({ component: 'grpc' });
  }

  async start(): Promise<void> {
    const { gateway, topics, config } = this.parts;
    this.unsubscribes.push(
      gateway.onMessage((from, type, payload) => {
        try {
          const message = decodePeerMessage(payload.json());
          if (message.type !== type) throw new Error(`a ${message.type} sent as ${type}`);
          this.links.sendTo(CONSENSUS_ID, { type: 'peer.message', from, message } satisfies ConsensusEvent);
        } catch (error) {
          // Logged for the first few, then counted: a broken peer must not flood the log.
          if (++this.refusedMessages <= 20) {
            this.log.warn(
              { peer: from, type, reason: errorText(error) },
              'refused a malformed message from a peer',
            );
          }
        }
      }),
      gateway.on('connection.created', (peer) => {
        this.publish('connection.created', peerView(peer));
        // Ask a new peer for its height: a node that (re)joins learns it is behind and syncs, and the
        // peer sends it the blocks it commits meanwhile (replica: StatusRequest → Status → sync).
        const ask: PeerMessage = { type: 'StatusRequest', height: this.parts.ledger.height() };
        gateway.send(peer.nodeId, ask.type, ask);
      }),
      gateway.on('connection.closed', (closed) => {
        this.publish('connection.closed', { peerId: closed.nodeId, reason: closed.reason });
      }),
      // The consensus component syncs and then asks `via` to admit this node (membership-admission.ts).
      gateway.on('network.joined', (joined) => {
        const via: JoinedVia = {
          peerId: joined.via.nodeId,
          address: joined.via.address,
          height: joined.via.height,
        };
        const payload = { peers: joined.peers.map((p) => ({ peerId: p.nodeId, address: p.address })), via };
        this.publish('network.joined', payload);
      }),
    );
    this.subscriptions.push(
      await topics.on('peer.requested', ({ requestId, command }) => this.onCommand(requestId, command)),
      await topics.on('status.requested', ({ requestId }) => {
        this.publish('status.reported', { requestId, peers: gateway.peers().map(peerView) });
      }),
    );
    const listening = await gateway.start({ host: config.grpc.host, port: config.grpc.port });
    this.log.info(
      { listen: `${listening.host}:${listening.port}`, bootstrapPeers: config.grpc.bootstrapPeers.length },
      'gRPC gateway listening',
    );
  }

  async stop(): Promise<void> {
    for (const unsubscribe of this.unsubscribes.splice(0)) unsubscribe();
    await Promise.all(this.subscriptions.splice(0).map((s) => s.unsubscribe()));
    await this.parts.gateway.stop();
  }

  private async onCommand(requestId: string, command: PeerCommand): Promise<void> {
    const { gateway } = this.parts;
    let reply: PeerCommandReply;
    try {
      switch (command.type) {
        case 'dial': {
          const peer = await gateway.dial(command.address);
          reply = { requestId, ok: true, peerId: peer.nodeId };
          break;
        }
        case 'join': {
          const joined = await gateway.join(command.address);
          reply = { requestId, ok: true, peerId: joined.via.nodeId };
          break;
        }
        case 'disconnect':
          reply = gateway.disconnect(command.peerId)
            ? { requestId, ok: true, peerId: command.peerId }
            : { requestId, ok: false, code: 'not_found', message: `not connected to ${command.peerId}` };
          break;
      }
    } catch (error) {
      const code: PeerFailureCode =
        error instanceof PeerDialError ? (FAILURE_CODES[error.reason] ?? 'refused') : 'unavailable';
      reply = { requestId, ok: false, code, message: errorText(error) };
    }
    this.publish('peer.answered', reply);
  }

  private publish<T extends GatewayTopic>(topic: T, payload: GatewayTopics[T]): void {
    this.parts.topics.publish(topic, payload).catch((error: unknown) => {
      this.log.warn({ topic, err: errorText(error) }, 'bus publish failed');
    });
  }
}
