import type { PeerMessage } from '../actors/replica/messages.ts';
import { buildBlock } from '../domain/block.ts';
import { signVote } from '../domain/vote.ts';
import { electionVoteSigningBytes } from '../machines/election-messages.ts';
import { proposalSigningBytes } from '../machines/pbft-messages.ts';
import type { ByzantineContext, ByzantineRewriter } from './byzantine.ts';

// What a Byzantine node does to the real protocol's messages (the framework decides when and to
// whom, sim/byzantine.ts). Every rewritten message is signed with the Byzantine node's own key, so it
// is exactly what a faulty validator can send: only the forgeries, signed with the wrong key, fail.
//
//   equivocating-leader  a proposal → the block, and a twin block at the same height whose last tx
//                        is swapped for one the node invents (both validly signed)
//   double-vote          a PBFT vote → a vote in the same round for the twin block when this node
//                        equivocated (the strongest attack: it backs both halves), else for nil /
//                        a random hash; an election vote → the opposite answer (a refusal becomes a
//                        grant: two candidates hold its vote in one term)
//   unknown-hash-vote    a PBFT vote → the same vote for a hash no honest node has seen
//   forged-vote          a PBFT or election vote → a copy claiming another validator as the voter

/** Per Byzantine node (per run): each block it equivocated on, and its twin, both ways. */
const twins = new WeakMap<ByzantineContext, Map<string, string>>();

function twinsOf(ctx: ByzantineContext): Map<string, string> {
  let map = twins.get(ctx);
  if (map === undefined) {
    map = new Map();
    twins.set(ctx, map);
  }
  return map;
}

export const itchainRewriter: ByzantineRewriter<PeerMessage> = {
  equivocate(message, ctx) {
    if (message.type !== 'Proposal') return null;
    const { signature: _, ...proposal } = message.proposal;
    const block = proposal.block;
    const txs = [...block.txs.slice(0, -1), ctx.inventTx()];
    const twin = buildBlock({
      height: block.height,
      prevSeal: block.prevSeal,
      stateRoot: block.stateRoot,
      timestamp: block.timestamp,
      creator: block.creator,
      txs,
    });
    const unsigned = { ...proposal, block: twin };
    const signed = { ...unsigned, signature: ctx.signer.sign(proposalSigningBytes(unsigned)) };
    const map = twinsOf(ctx);
    map.set(block.seal, twin.seal);
    map.set(twin.seal, block.seal);
    return [message, { type: 'Proposal', proposal: signed, justification: message.justification }];
  },

  doubleVote(message, ctx) {
    if (message.type === 'Vote') {
      const { signature: _, ...vote } = message.vote;
      const hash = vote.blockHash;
      const other =
        (hash === null ? undefined : twinsOf(ctx).get(hash)) ?? (hash === null ? ctx.randomHash() : null);
      return { type: 'Vote', vote: signVote({ ...vote, blockHash: other }, ctx.signer) };
    }
    if (message.type === 'ElectionVote') {
      const { signature: _, ...vote } = message.vote;
      const flipped = { ...vote, granted: !vote.granted };
      return {
        type: 'ElectionVote',
        vote: { ...flipped, signature: ctx.signer.sign(electionVoteSigningBytes(flipped)) },
      };
    }
    return null;
  },

  replaceHash(message, ctx) {
    if (message.type !== 'Vote') return null;
    const { signature: _, ...vote } = message.vote;
    return { type: 'Vote', vote: signVote({ ...vote, blockHash: ctx.randomHash() }, ctx.signer) };
  },

  forgeAs(victim, message, ctx) {
    if (message.type === 'Vote') {
      const { signature: _, ...vote } = message.vote;
      return { type: 'Vote', vote: signVote({ ...vote, voter: victim }, ctx.signer) };
    }
    if (message.type === 'ElectionVote') {
      const { signature: _, ...vote } = message.vote;
      const forged = { ...vote, voter: victim };
      return {
        type: 'ElectionVote',
        vote: { ...forged, signature: ctx.signer.sign(electionVoteSigningBytes(forged)) },
      };
    }
    return null;
  },
};
