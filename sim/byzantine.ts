import type { NodeId, Signer } from '../domain/identity.ts';
import type { Transaction } from '../domain/transaction.ts';
import type { Random } from './random.ts';
import type { ByzantineBehaviour } from './scenario.ts';

// Byzantine nodes run the honest replica; what makes them Byzantine happens at the boundary, to the
// messages they send. The framework owns the *when* and *to whom* (which half of the peers gets
// which block, who receives both votes, who is impersonated); the wiring owns the *what*: the
// protocol-specific rewriting of one message, supplied as the callbacks of a ByzantineRewriter.
// A behaviour whose callback is missing, or returns null for a message (not a proposal, not a
// vote), leaves that message as it is.

/** What a rewriter may use: the Byzantine node's own key (never another's), its random stream. */
export interface ByzantineContext {
  readonly self: NodeId;
  /** All nodes of the network, the Byzantine one included. */
  readonly nodes: readonly NodeId[];
  /** Signs as `self`. A vote forged under another ID and signed with this must fail verification. */
  readonly signer: Signer;
  readonly random: Random;
  now(): number;
  /** A fresh 64-hex hash no honest node has seen. */
  randomHash(): string;
  /** A new, validly signed tx accepted by `self`: a Byzantine node may invent client txs. */
  inventTx(): Transaction;
}

export interface ByzantineRewriter<M> {
  /** equivocating-leader: two conflicting proposals for the same slot, or null if not a proposal. */
  equivocate?(message: M, ctx: ByzantineContext): readonly [M, M] | null;
  /** double-vote: a second vote for the same height and round, for something else; null if not a vote. */
  doubleVote?(message: M, ctx: ByzantineContext): M | null;
  /** unknown-hash-vote: the vote with its block hash replaced by `ctx.randomHash()`; null if not a vote. */
  replaceHash?(message: M, ctx: ByzantineContext): M | null;
  /** forged-vote: the vote claiming `victim` as its signer (signed by `ctx.signer`); null if not a vote. */
  forgeAs?(victim: NodeId, message: M, ctx: ByzantineContext): M | null;
}

export interface Outgoing<M> {
  readonly to: NodeId;
  readonly message: M;
}

/** One behaviour: turns the copies about to leave into the copies that do leave. */
type Stage<M> = (out: Outgoing<M>[]) => Outgoing<M>[];

/**
 * Applies a Byzantine node's behaviours to everything it sends. Each rewrite is computed once per
 * message object and reused for every recipient, so a broadcast sent as n-1 `send`s still splits
 * into exactly two blocks, not n-1 different ones.
 */
export class ByzantineAdversary<M extends object> {
  readonly behaviours: ReadonlySet<ByzantineBehaviour>;
  private readonly stages: Stage<M>[] = [];
  /** Peers that see the first of two equivocating messages; the others see the second. */
  readonly groupA: ReadonlySet<NodeId>;
  /** How many messages each behaviour rewrote (for the run summary and the tests). */
  readonly rewrites: Record<ByzantineBehaviour, number> = {
    'equivocating-leader': 0,
    'double-vote': 0,
    'unknown-hash-vote': 0,
    'forged-vote': 0,
    silent: 0,
  };

  constructor(
    behaviours: readonly ByzantineBehaviour[],
    private readonly rewriter: ByzantineRewriter<M>,
    private readonly ctx: ByzantineContext,
  ) {
    this.behaviours = new Set(behaviours);
    const peers = ctx.random.shuffle(ctx.nodes.filter((n) => n !== ctx.self));
    this.groupA = new Set(peers.slice(0, Math.ceil(peers.length / 2)));
    // Order matters: a hash is replaced before the block is split, the split is signed twice, and
    // a forgery is added last so it copies what really left.
    if (this.behaviours.has('unknown-hash-vote')) this.stages.push(this.replaceHashStage());
    if (this.behaviours.has('equivocating-leader')) this.stages.push(this.equivocateStage());
    if (this.behaviours.has('double-vote')) this.stages.push(this.doubleVoteStage());
    if (this.behaviours.has('forged-vote')) this.stages.push(this.forgeStage());
  }

  /** The copies that actually leave when the replica sends `message` to `recipients`. */
  rewrite(recipients: readonly NodeId[], message: M): Outgoing<M>[] {
    if (this.behaviours.has('silent')) {
      this.rewrites.silent += recipients.length;
      return [];
    }
    let out: Outgoing<M>[] = recipients.map((to) => ({ to, message }));
    for (const stage of this.stages) out = stage(out);
    return out;
  }

  /** A per-message cache of one callback's answer (null included). */
  private memo<R>(compute: (message: M) => R | null): (message: M) => R | null {
    const cache = new WeakMap<M, R | null>();
    return (message) => {
      if (cache.has(message)) return cache.get(message)!;
      const result = compute(message);
      cache.set(message, result);
      return result;
    };
  }

  private replaceHashStage(): Stage<M> {
    const replace = this.rewriter.replaceHash;
    const replaced = this.memo((m) => (replace ? replace(m, this.ctx) : null));
    return (out) =>
      out.map((o) => {
        const r = replaced(o.message);
        if (r === null) return o;
        this.rewrites['unknown-hash-vote'] += 1;
        return { to: o.to, message: r };
      });
  }

  private equivocateStage(): Stage<M> {
    const equivocate = this.rewriter.equivocate;
    const pair = this.memo((m) => (equivocate ? equivocate(m, this.ctx) : null));
    return (out) =>
      out.map((o) => {
        const p = pair(o.message);
        if (p === null) return o;
        this.rewrites['equivocating-leader'] += 1;
        return { to: o.to, message: this.groupA.has(o.to) ? p[0] : p[1] };
      });
  }

  /** Each recipient gets the vote, its twin, or both in either order: every mix a quorum can see. */
  private doubleVoteStage(): Stage<M> {
    const double = this.rewriter.doubleVote;
    const twin = this.memo((m) => (double ? double(m, this.ctx) : null));
    return (out) =>
      out.flatMap((o) => {
        const t = twin(o.message);
        if (t === null) return [o];
        this.rewrites['double-vote'] += 1;
        const twinCopy = { to: o.to, message: t };
        switch (this.ctx.random.int(0, 3)) {
          case 0:
            return [o];
          case 1:
            return [twinCopy];
          case 2:
            return [o, twinCopy];
          default:
            return [twinCopy, o];
        }
      });
  }

  /** Alongside each vote, a copy claiming another node (one victim per message) as its signer. */
  private forgeStage(): Stage<M> {
    const forgeAs = this.rewriter.forgeAs;
    const others = this.ctx.nodes.filter((n) => n !== this.ctx.self);
    const forged = this.memo((m) => {
      if (!forgeAs || others.length === 0) return null;
      return forgeAs(this.ctx.random.pick(others), m, this.ctx);
    });
    return (out) =>
      out.flatMap((o) => {
        const f = forged(o.message);
        if (f === null) return [o];
        this.rewrites['forged-vote'] += 1;
        return [o, { to: o.to, message: f }];
      });
  }
}
