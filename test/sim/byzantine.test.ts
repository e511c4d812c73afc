import { describe, expect, it } from 'vitest';
import { signVote, type Vote, voteSigningBytes } from '../../domain/vote.ts';
import { ByzantineAdversary, type ByzantineContext, type ByzantineRewriter } from '../../sim/byzantine.ts';
import { Random } from '../../sim/random.ts';
import type { ByzantineBehaviour } from '../../sim/scenario.ts';
import { SimKeys } from '../../sim/sim-signer.ts';
import { simNodeId } from '../../sim/simulation.ts';

// A tiny protocol for the adversary to rewrite: proposals and votes, the way a wiring would.
type Msg = { kind: 'proposal'; block: string } | { kind: 'vote'; vote: Vote } | { kind: 'status' };

const ids = [0, 1, 2, 3, 4].map(simNodeId);
const keys = new SimKeys(ids);
const self = ids[0]!;
const peers = ids.slice(1);

function context(seed = 1): ByzantineContext {
  const random = Random.fromSeed(seed);
  return {
    self,
    nodes: ids,
    signer: keys.signerFor(self),
    random,
    now: () => 0,
    randomHash: () => random.hex(64),
    inventTx: () => {
      throw new Error('not needed here');
    },
  };
}

const vote = (blockHash: string, voter = self): Vote =>
  signVote(
    { type: 'prevote', networkId: 'net', height: 1, round: 0, blockHash, voter },
    keys.signerFor(self),
  );

const rewriter: ByzantineRewriter<Msg> = {
  equivocate: (m) => (m.kind === 'proposal' ? [m, { kind: 'proposal', block: `${m.block}'` }] : null),
  doubleVote: (m, ctx) => (m.kind === 'vote' ? { kind: 'vote', vote: vote(ctx.randomHash()) } : null),
  replaceHash: (m, ctx) => (m.kind === 'vote' ? { kind: 'vote', vote: vote(ctx.randomHash()) } : null),
  forgeAs: (victim, m, ctx) => {
    if (m.kind !== 'vote') return null;
    const { signature: _, ...unsigned } = m.vote;
    return { kind: 'vote', vote: signVote({ ...unsigned, voter: victim }, ctx.signer) };
  },
};

const adversary = (behaviours: ByzantineBehaviour[], seed = 1) =>
  new ByzantineAdversary<Msg>(behaviours, rewriter, context(seed));

describe('Byzantine behaviours at the send boundary', () => {
  it('a silent node sends nothing at all', () => {
    const a = adversary(['silent', 'double-vote']);
    expect(a.rewrite(peers, { kind: 'proposal', block: 'B' })).toEqual([]);
    expect(a.rewrite([peers[0]!], { kind: 'vote', vote: vote('h') })).toEqual([]);
  });

  it('an equivocating leader sends one block to half the peers and another to the rest, also when it sends one by one', () => {
    const a = adversary(['equivocating-leader']);
    const proposal: Msg = { kind: 'proposal', block: 'B' };
    const broadcast = a.rewrite(peers, proposal);
    const oneByOne = peers.flatMap((p) => a.rewrite([p], proposal));
    expect(oneByOne).toEqual(broadcast);
    const blocks = new Map(broadcast.map((o) => [o.to, (o.message as { block: string }).block]));
    expect(new Set(blocks.values())).toEqual(new Set(['B', "B'"]));
    for (const peer of peers) expect(blocks.get(peer)).toBe(a.groupA.has(peer) ? 'B' : "B'");
    expect(a.groupA.size).toBe(2);
  });

  it('a message the rewriter does not handle (returns null) leaves unchanged', () => {
    const a = adversary(['equivocating-leader', 'double-vote', 'unknown-hash-vote', 'forged-vote']);
    const status: Msg = { kind: 'status' };
    expect(a.rewrite(peers, status)).toEqual(peers.map((to) => ({ to, message: status })));
    const none = new ByzantineAdversary<Msg>(['equivocating-leader'], {}, context());
    expect(none.rewrite(peers, { kind: 'proposal', block: 'B' }).map((o) => o.message)).toEqual(
      peers.map(() => ({ kind: 'proposal', block: 'B' })),
    );
  });

  it('a double voter gives each peer the vote, its twin, or both in either order — all four happen', () => {
    const a = adversary(['double-vote']);
    const mixes = new Set<string>();
    for (let i = 0; i < 40; i++) {
      const original: Msg = { kind: 'vote', vote: vote(`h${i}`) };
      const out = a.rewrite(peers, original);
      for (const peer of peers) {
        const got = out.filter((o) => o.to === peer).map((o) => (o.message === original ? 'vote' : 'twin'));
        mixes.add(got.join('+'));
      }
      const twins = new Set(out.filter((o) => o.message !== original).map((o) => o.message));
      expect(twins.size).toBeLessThanOrEqual(1);
    }
    expect(mixes).toEqual(new Set(['vote', 'twin', 'vote+twin', 'twin+vote']));
  });

  it('an unknown-hash voter votes for a hash nobody proposed, the same one for every peer', () => {
    const a = adversary(['unknown-hash-vote']);
    const out = a.rewrite(peers, { kind: 'vote', vote: vote('a'.repeat(64)) });
    const hashes = new Set(out.map((o) => (o.message as { vote: Vote }).vote.blockHash));
    expect(hashes.size).toBe(1);
    expect([...hashes][0]).toMatch(/^[0-9a-f]{64}$/);
    expect(hashes.has('a'.repeat(64))).toBe(false);
  });

  it('a forger adds a copy of each vote claiming another node, and that signature does not verify', () => {
    const a = adversary(['forged-vote']);
    const original: Msg = { kind: 'vote', vote: vote('h') };
    const out = a.rewrite(peers, original);
    expect(out).toHaveLength(2 * peers.length);
    const forged = out.filter((o) => o.message !== original).map((o) => (o.message as { vote: Vote }).vote);
    expect(new Set(forged.map((v) => v.voter)).size).toBe(1);
    const v = forged[0]!;
    expect(v.voter).not.toBe(self);
    expect(keys.verify(v.voter, voteSigningBytes(v), v.signature)).toBe(false);
    expect(keys.verify(self, voteSigningBytes(original.vote), original.vote.signature)).toBe(true);
    expect(a.rewrites['forged-vote']).toBe(peers.length);
  });

  it('the same seed gives the same adversary: groups and choices replay', () => {
    const run = (seed: number) => {
      const a = adversary(['equivocating-leader', 'double-vote'], seed);
      return [
        [...a.groupA],
        a.rewrite(peers, { kind: 'vote', vote: vote('x') }).map((o) => [o.to, JSON.stringify(o.message)]),
      ];
    };
    expect(run(5)).toEqual(run(5));
  });
});
