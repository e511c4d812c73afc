import type { NodeId, SignatureVerifier } from '../domain/identity.ts';
import type { Transaction } from '../domain/transaction.ts';
import { txSigningBytes } from '../domain/transaction.ts';
import type { PeerMessage } from './replica/messages.ts';

// Peers' messages on their way to the replica. The replica is synchronous, and a message can carry
// hundreds of txs (a proposal, forwarded txs, a batch of blocks for a syncing peer) whose Ed25519
// signatures take ~0.1 ms each to check: delivered as they arrive, one such message would hold the
// event loop for tens or hundreds of milliseconds, the leader's heartbeats would leave late, and the
// followers would start an election. So messages wait here, in arrival order, while their txs'
// signatures are checked in slices of a few milliseconds with the event loop free in between (the
// answers go into the node's CachingVerifier, where the replica finds them); then they are handed
// to the replica. A forwarded batch of many txs is handed over in parts for the same reason.
// Nothing is dropped or judged here: a bad signature is simply not cached, and the replica refuses it.

interface Check {
  signer: NodeId;
  id: string;
  signature: string;
}

interface Inbound {
  from: NodeId;
  message: PeerMessage;
  checks: Check[] | null;
  next: number;
}

/** Time one turn of the event loop may spend here before it yields. */
const SLICE_MS = 8;
/** Forwarded txs handed to the replica per call. */
const TXS_PER_DELIVERY = 100;

function txsOf(message: PeerMessage): readonly Transaction[] {
  switch (message.type) {
    case 'Txs':
      return message.txs;
    case 'Proposal':
      return message.proposal.block.txs;
    case 'Committed':
      return message.block.txs;
    case 'Blocks':
      return message.blocks.flatMap((entry) => entry.block.txs);
    default:
      return [];
  }
}

export class InboundQueue {
  private items: (Inbound | undefined)[] = [];
  private head = 0;
  private scheduled: NodeJS.Immediate | null = null;
  private stopped = false;

  constructor(
    private readonly verifier: SignatureVerifier,
    private readonly deliver: (from: NodeId, message: PeerMessage) => void,
  ) {}

  get waiting(): number {
    return this.items.length - this.head;
  }

  push(from: NodeId, message: PeerMessage): void {
    if (this.stopped) return;
    if (message.type === 'Txs' && message.txs.length > TXS_PER_DELIVERY) {
      for (let i = 0; i < message.txs.length; i += TXS_PER_DELIVERY) {
        const part: PeerMessage = { type: 'Txs', txs: message.txs.slice(i, i + TXS_PER_DELIVERY) };
        this.items.push({ from, message: part, checks: null, next: 0 });
      }
    } else {
      this.items.push({ from, message, checks: null, next: 0 });
    }
    this.schedule();
  }

  stop(): void {
    this.stopped = true;
    if (this.scheduled) clearImmediate(this.scheduled);
    this.items = [];
    this.head = 0;
  }

  private schedule(): void {
    this.scheduled ??= setImmediate(() => this.run());
  }

  private run(): void {
    this.scheduled = null;
    const deadline = performance.now() + SLICE_MS;
    while (!this.stopped && this.head < this.items.length) {
      const item = this.items[this.head]!;
      item.checks ??= txsOf(item.message).map((tx) => ({
        signer: tx.signer,
        id: tx.id,
        signature: tx.signature,
      }));
      while (item.next < item.checks.length) {
        if (performance.now() > deadline) {
          this.schedule();
          return;
        }
        const check = item.checks[item.next++]!;
        this.verifier.verify(check.signer, txSigningBytes(check.id), check.signature);
      }
      this.items[this.head++] = undefined;
      if (this.head > 1024 && this.head * 2 > this.items.length) {
        this.items = this.items.slice(this.head);
        this.head = 0;
      }
      this.deliver(item.from, item.message);
      if (performance.now() > deadline && this.head < this.items.length) {
        this.schedule();
        return;
      }
    }
  }
}
