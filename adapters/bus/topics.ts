import type { Block } from '../../domain/block.ts';
import type { CommitCertificate } from '../../domain/commit-certificate.ts';
import type { NodeId } from '../../domain/identity.ts';
import type { Transaction } from '../../domain/transaction.ts';

// The bus topics (SPEC §6, the original's names) and what each one carries.
//
// On the wire (AMQP) the topic is the routing key and the body is the UTF-8 JSON of the payload
// (JSON.stringify, content type application/json). Payloads are plain JSON values: a Block travels
// as the Block object itself (header fields, seal, txs), a Transaction as itself. Nothing on the bus
// is hashed or signed as sent: seals and signatures are computed over the canonical encoding of the
// values (domain/canonical.ts), so a JSON round trip leaves them valid. Payloads are not validated by
// the bus: a component validates what it receives as it would a peer's message.
//
// Shapes marked "provisional" are not settled by a domain type yet; their owners may change them.

export interface PeerAddress {
  peerId: NodeId;
  /** host:port of the peer's gRPC gateway. */
  address: string;
}

export interface BusTopics {
  /** TxPool (the leader's batcher) → Blockchain: cut a block from these txs, in this order. */
  'block.propose': { txs: Transaction[] };
  /** Blockchain → Consensus: run a PBFT round on this proposed block. */
  'block.consent': { block: Block };
  /** Consensus → Blockchain: 2f+1 PreCommits agreed on this block; validate and store it. */
  'block.confirm': { block: Block; certificate: CommitCertificate };
  /**
   * Blockchain → everyone (IVM, TxPool, API read model): the block is stored. certificate is null only
   * for the genesis block, which is stored without consensus.
   */
  'block.committed': { block: Block; certificate: CommitCertificate | null };
  /** gRPC gateway → everyone: a peer stream is up (provisional). */
  'connection.created': PeerAddress & { outbound: boolean };
  /** gRPC gateway → everyone: a peer stream is gone (provisional). */
  'connection.closed': { peerId: NodeId; reason: string };
  /** gRPC gateway → Blockchain, Consensus: join finished; these are the peers we know (provisional). */
  'network.joined': { peers: PeerAddress[] };
  /** Consensus (election) → everyone: this node now follows (or is) this leader. */
  'leader.updated': { leader: NodeId; term: number };
  /** Consensus (election) → everyone: the leader is gone; an election runs. */
  'leader.deleted': { leader: NodeId; term: number };
  /** IVM → everyone: an iCode was installed by a committed deploy tx (provisional). */
  'icode.created': { id: string; gitUrl: string; commit: string; txId: string; height: number };
  /** IVM → everyone: an iCode was removed by a committed undeploy tx (provisional). */
  'icode.deleted': { id: string; txId: string; height: number };
  /** API gateway → TxPool: a client submitted this tx; the accepting node has signed it. */
  'tx.submitted': { tx: Transaction };
}

export type Topic = keyof BusTopics;

/** A message as a handler receives it: a union discriminated by topic. */
export type BusMessage<T extends Topic = Topic> = T extends Topic
  ? { readonly topic: T; readonly payload: BusTopics[T] }
  : never;

/**
 * The topics an AMQP-style pattern matches, as far as the type system can tell (our topics are all two
 * words): `block.*` → the block topics, `*.deleted` → leader.deleted | icode.deleted, `#` → all.
 * Anything it cannot read (say `#.committed`) widens to every topic, which is safe for a handler.
 */
export type TopicsMatching<P extends string> = P extends Topic
  ? P
  : P extends '#' | '*.*' | '#.#'
    ? Topic
    : P extends `${infer Head}.*` | `${infer Head}.#`
      ? Head extends `${string}${'*' | '#'}${string}`
        ? Topic
        : Extract<Topic, `${Head}.${string}`>
      : P extends `*.${infer Tail}`
        ? Tail extends `${string}${'*' | '#'}${string}`
          ? Topic
          : Extract<Topic, `${string}.${Tail}`>
        : Topic;

/** Who publishes and who listens, one line each; also the list of known topics at run time. */
export const TOPICS: Readonly<Record<Topic, string>> = {
  'block.propose': 'TxPool → Blockchain: txs for the next block',
  'block.consent': 'Blockchain → Consensus: a proposed block to agree on',
  'block.confirm': 'Consensus → Blockchain: an agreed block with its commit certificate',
  'block.committed': 'Blockchain → all: a stored block with its commit certificate',
  'connection.created': 'gRPC gateway → all: a peer connected',
  'connection.closed': 'gRPC gateway → all: a peer disconnected',
  'network.joined': 'gRPC gateway → all: the join finished',
  'leader.updated': 'Consensus → all: the current leader and term',
  'leader.deleted': 'Consensus → all: the leader is gone',
  'icode.created': 'IVM → all: an iCode was deployed',
  'icode.deleted': 'IVM → all: an iCode was undeployed',
  'tx.submitted': 'API gateway → TxPool: a signed client tx',
};

export const TOPIC_NAMES = Object.keys(TOPICS) as Topic[];
