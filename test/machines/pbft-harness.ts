// Test support for the PBFT round machine: blocks, votes and proposals, one node driven by hand with
// its effects recorded in order, and a synchronous in-process loopback network of real machines.
import { createActor, type StateValue } from 'xstate';
import { type Block, buildBlock, ZERO_SEAL } from '../../domain/block.ts';
import { type Identity, type NodeId, signBytes, signerOf } from '../../domain/identity.ts';
import { signVote, type Vote, type VoteType } from '../../domain/vote.ts';
import {
  createPbftRoundMachine,
  type PbftContext,
  type PbftEffect,
  type PbftEvent,
  type PbftRecord,
  proposalSigningBytes,
  type SignedProposal,
} from '../../machines/pbft-round.ts';

export const NETWORK = 'testnet';

/** A block for `height`; a different `tag` gives a different seal. */
export function blockAt(height: number, creator: NodeId, tag = 'a', prevSeal = ZERO_SEAL): Block {
  return buildBlock({
    height,
    prevSeal,
    stateRoot: `state-${tag}`,
    timestamp: 1_000 + height,
    creator,
    txs: [],
  });
}

/** A vote with a stand-in signature: in unit tests the host's signature check is assumed done. */
export function vote(
  voter: NodeId,
  type: VoteType,
  round: number,
  blockHash: string | null,
  height = 1,
): Vote {
  return { type, networkId: NETWORK, height, round, blockHash, voter, signature: `sig:${voter}` };
}

export function proposal(proposer: NodeId, block: Block, round = 0, validRound = -1): SignedProposal {
  return {
    kind: 'Proposal',
    networkId: NETWORK,
    height: block.height,
    round,
    block,
    validRound,
    proposer,
    signature: `sig:${proposer}`,
  };
}

export interface NodeOptions {
  self: NodeId;
  validators: readonly NodeId[];
  height?: number;
  leader?: NodeId | null;
  restored?: PbftRecord | null;
  restoredBlocks?: readonly Block[];
  maxBufferedPerSender?: number;
  /** The host's verdict on a proposed block; by default a block of the right height is valid. */
  isValidBlock?: (block: Block, height: number) => boolean;
}

export interface DrivenNode {
  send: (event: PbftEvent) => void;
  /** The effects emitted since the last take(), in order. */
  take: () => PbftEffect[];
  state: () => StateValue;
  context: () => PbftContext;
}

/** One machine; the test plays host and network. */
export function driveNode(options: NodeOptions): DrivenNode {
  const machine = createPbftRoundMachine({
    isValidBlock: options.isValidBlock ?? ((block, height) => block.height === height),
  });
  const actor = createActor(machine, {
    input: {
      self: options.self,
      networkId: NETWORK,
      validators: options.validators,
      height: options.height ?? 1,
      leader: options.leader ?? null,
      restored: options.restored ?? null,
      restoredBlocks: options.restoredBlocks,
      maxBufferedPerSender: options.maxBufferedPerSender,
    },
  });
  let effects: PbftEffect[] = [];
  actor.on('*', (effect) => effects.push(effect));
  actor.start();
  return {
    send: (event) => actor.send(event),
    take: () => {
      const taken = effects;
      effects = [];
      return taken;
    },
    state: () => actor.getSnapshot().value,
    context: () => actor.getSnapshot().context,
  };
}

/** Only the messages a node sent, in a compact form for assertions: 'prevote r0 <hash>', 'proposal r1'… */
export function sent(effects: readonly PbftEffect[]): string[] {
  const out: string[] = [];
  for (const e of effects) {
    if (e.type === 'pbft.broadcastVote')
      out.push(`${e.vote.type} r${e.vote.round} ${e.vote.blockHash ?? 'nil'}`);
    if (e.type === 'pbft.broadcastProposal')
      out.push(`proposal r${e.proposal.round} ${e.proposal.block.seal}`);
  }
  return out;
}

export interface LoopbackNode {
  identity: Identity;
  actor: ReturnType<typeof createActor<ReturnType<typeof createPbftRoundMachine>>>;
  effects: PbftEffect[];
  commits: Extract<PbftEffect, { type: 'pbft.commit' }>[];
}

/**
 * N real machines on a synchronous network: every broadcast is signed with the sender's key, queued
 * for every live node (the sender included) and delivered in FIFO order by run(). The host part is the
 * minimum: answer requestBlock with a block, answer commit with START_HEIGHT for the next height.
 */
export class LoopbackNetwork {
  readonly nodes: LoopbackNode[] = [];
  private readonly queue: (() => void)[] = [];
  private readonly down = new Set<NodeId>();
  private readonly silent = new Set<NodeId>();
  private timers: (() => void)[] = [];

  /**
   * downNodes are never started; silentNodes run but nothing they send arrives (a silent leader).
   */
  constructor(
    identities: readonly Identity[],
    options: { leader?: NodeId; downNodes?: readonly NodeId[]; silentNodes?: readonly NodeId[] } = {},
  ) {
    const validators = identities.map((i) => i.nodeId);
    for (const id of options.downNodes ?? []) this.down.add(id);
    for (const id of options.silentNodes ?? []) this.silent.add(id);
    for (const identity of identities) {
      if (this.down.has(identity.nodeId)) continue;
      const actor = createActor(createPbftRoundMachine({ isValidBlock: (b, h) => b.height === h }), {
        input: {
          self: identity.nodeId,
          networkId: NETWORK,
          validators,
          height: 1,
          leader: options.leader ?? null,
        },
      });
      const node: LoopbackNode = { identity, actor, effects: [], commits: [] };
      const signer = signerOf(identity);
      const silent = this.silent.has(identity.nodeId);
      actor.on('*', (effect) => {
        node.effects.push(effect);
        switch (effect.type) {
          case 'pbft.broadcastVote': {
            const signed = signVote(effect.vote, signer);
            if (!silent) this.broadcast({ type: 'VOTE', vote: signed });
            break;
          }
          case 'pbft.broadcastProposal': {
            const signature = signBytes(identity, proposalSigningBytes(effect.proposal));
            if (!silent) this.broadcast({ type: 'PROPOSAL', proposal: { ...effect.proposal, signature } });
            break;
          }
          case 'timer.arm': {
            const { height, round } = effect;
            const type =
              effect.timer === 'propose'
                ? 'PROPOSE_TIMEOUT'
                : effect.timer === 'prevote'
                  ? 'PREVOTE_TIMEOUT'
                  : 'PRECOMMIT_TIMEOUT';
            this.timers.push(() => actor.send({ type, height, round }));
            break;
          }
          case 'pbft.requestBlock': {
            const block = blockAt(effect.height, identity.nodeId, `${effect.height}-${effect.round}`);
            this.queue.push(() => actor.send({ type: 'BLOCK_READY', block }));
            break;
          }
          case 'pbft.commit':
            node.commits.push(effect);
            this.queue.push(() => actor.send({ type: 'START_HEIGHT', height: effect.height + 1 }));
            break;
        }
      });
      this.nodes.push(node);
    }
    for (const node of this.nodes) node.actor.start();
  }

  broadcast(event: PbftEvent): void {
    for (const node of this.nodes) this.queue.push(() => node.actor.send(event));
  }

  /** Sends an event to every live node (through the queue). */
  tell(event: PbftEvent): void {
    this.broadcast(event);
  }

  /** Every timer armed so far runs out now (stale ones are ignored by the machines). */
  fireTimers(): void {
    const due = this.timers;
    this.timers = [];
    this.queue.push(...due);
  }

  /** Delivers until nothing is left in flight; returns the number of deliveries. */
  run(limit = 100_000): number {
    let steps = 0;
    while (this.queue.length > 0) {
      if (++steps > limit) throw new Error('the loopback network did not quiesce');
      this.queue.shift()!();
    }
    return steps;
  }
}
