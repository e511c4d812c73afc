// A scripted run for the live view's tests: n nodes, each running the four real protocol machines
// (election, pbft-round, batching, sync) as XState actors, with a host played by this script. Every
// message and every host answer goes through one FIFO queue that the test drains one delivery at a
// time, so it can look at the page between any two steps. Timers never fire on their own: the
// script fires the timeouts it wants (SYNC's status timeout, one node's election timeout, the batch
// timer when the leader is asked for a block).
import { createActor } from 'xstate';
import { type ConsensusSource, consensusSourceOf } from '../../adapters/live-view/consensus-source.ts';
import { type Block, buildBlock, ZERO_SEAL } from '../../domain/block.ts';
import { identityFromSeed, type NodeId, type Signer, signerOf } from '../../domain/identity.ts';
import { signTransaction, type Transaction } from '../../domain/transaction.ts';
import { signVote } from '../../domain/vote.ts';
import { batchingMachine } from '../../machines/batching.ts';
import { electionMachine } from '../../machines/election.ts';
import { createPbftRoundMachine } from '../../machines/pbft-round.ts';
import { syncMachine } from '../../machines/sync.ts';

export const NETWORK_ID = 'live-view-test';

function createActors(self: NodeId, validators: readonly NodeId[]) {
  return {
    election: createActor(electionMachine, {
      input: { self, validators, networkId: NETWORK_ID, committedHeight: 0 },
    }),
    pbft: createActor(createPbftRoundMachine({ isValidBlock: (block, height) => block.height === height }), {
      input: { self, networkId: NETWORK_ID, validators, height: 1 },
    }),
    batching: createActor(batchingMachine, {
      input: { self, maxBatchTxs: 100, batchIntervalMs: 50, maxPoolTxs: 1_000 },
    }),
    sync: createActor(syncMachine, { input: { height: 0 } }),
  };
}

export type NodeActors = ReturnType<typeof createActors>;

/** What the stand-in API of a node needs to answer /status, /blocks and /events. */
export interface ScriptedNode {
  readonly nodeId: NodeId;
  readonly actors: NodeActors;
  readonly consensus: ConsensusSource;
  /** The committed chain, genesis first. */
  readonly chain: Block[];
  /** Listeners of committed blocks and leader changes (the stand-in /events subscribes). */
  readonly onBlock: Set<(block: Block) => void>;
  readonly onLeader: Set<(leader: { leader: NodeId; term: number }) => void>;
}

export class ScriptedNetwork {
  readonly nodes: ScriptedNode[] = [];
  private readonly queue: (() => void)[] = [];
  private readonly signers = new Map<NodeId, Signer>();
  private readonly clock = { now: 0 };
  private txCount = 0;

  constructor(size: number) {
    const identities = Array.from({ length: size }, (_, i) =>
      identityFromSeed(new Uint8Array(32).fill(i + 1)),
    );
    const validators = identities.map((identity) => identity.nodeId);
    const genesis = buildBlock({
      height: 0,
      prevSeal: ZERO_SEAL,
      stateRoot: 'genesis',
      timestamp: 1_700_000_000_000,
      creator: validators[0]!,
      txs: [],
    });
    for (const identity of identities) {
      this.signers.set(identity.nodeId, signerOf(identity));
      const actors = createActors(identity.nodeId, validators);
      const node: ScriptedNode = {
        nodeId: identity.nodeId,
        actors,
        consensus: consensusSourceOf(identity.nodeId, actors),
        chain: [genesis],
        onBlock: new Set(),
        onLeader: new Set(),
      };
      this.wire(node);
      this.nodes.push(node);
    }
    for (const node of this.nodes) {
      for (const actor of Object.values(node.actors)) actor.start();
    }
  }

  /** Delivers the next queued message or host answer; false when nothing is in flight. */
  step(): boolean {
    const next = this.queue.shift();
    if (next === undefined) return false;
    this.clock.now += 5;
    next();
    return true;
  }

  get inFlight(): number {
    return this.queue.length;
  }

  /** Every node starts syncing, hears from no peer that is ahead, and finds itself caught up. */
  startSync(): void {
    for (const node of this.nodes) {
      this.later(() => node.actors.sync.send({ type: 'SYNC_START', now: this.clock.now }));
      this.later(() => node.actors.sync.send({ type: 'STATUS_TIMEOUT', now: this.clock.now }));
    }
  }

  /** The election timer of `node` runs out: it stands as a candidate. */
  electionTimeout(node: ScriptedNode): void {
    this.later(() => node.actors.election.send({ type: 'ELECTION_TIMEOUT' }));
  }

  /** A client submits `count` txs to `node` (its API accepted and signed them). */
  submitTxs(node: ScriptedNode, count: number): void {
    const signer = this.signers.get(node.nodeId)!;
    for (let i = 0; i < count; i++) {
      const tx: Transaction = signTransaction(
        {
          kind: 'invoke',
          icodeId: 'kv',
          function: 'put',
          args: [`key${this.txCount}`, `value${this.txCount}`],
          timestamp: 1_700_000_000_000 + this.txCount,
          signer: node.nodeId,
          nonce: String(this.txCount++),
        },
        signer,
      );
      this.later(() => node.actors.batching.send({ type: 'TX_SUBMITTED', tx, verdict: { ok: true } }));
    }
  }

  private later(delivery: () => void): void {
    this.queue.push(delivery);
  }

  private everyone(deliver: (node: ScriptedNode) => void): void {
    for (const node of this.nodes) this.later(() => deliver(node));
  }

  private byId(nodeId: NodeId): ScriptedNode {
    const node = this.nodes.find((n) => n.nodeId === nodeId);
    if (node === undefined) throw new Error(`no node ${nodeId}`);
    return node;
  }

  /** The host: what each machine's effects do in this script. */
  private wire(node: ScriptedNode): void {
    const { election, pbft, batching, sync } = node.actors;
    const signer = (): Signer => this.signers.get(node.nodeId)!;

    election.on('*', (effect) => {
      switch (effect.type) {
        case 'election.broadcast': {
          const message = effect.message;
          if (message.kind === 'RequestVote')
            this.everyone((n) => n.actors.election.send({ type: 'REQUEST_VOTE', message }));
          else this.everyone((n) => n.actors.election.send({ type: 'UPDATE_LEADER', message }));
          break;
        }
        case 'election.send': {
          const message = { ...effect.message, signature: `stand-in:${effect.message.voter}` };
          const to = this.byId(effect.to);
          this.later(() => to.actors.election.send({ type: 'VOTE', message }));
          break;
        }
        case 'leader.updated': {
          const { leader, term } = effect;
          this.later(() => pbft.send({ type: 'LEADER_CHANGED', leader, term }));
          this.later(() => batching.send({ type: 'LEADER_CHANGED', leader, term }));
          for (const listener of node.onLeader) listener({ leader, term });
          break;
        }
      }
    });

    batching.on('*', (effect) => {
      switch (effect.type) {
        case 'work.pending':
          this.later(() => pbft.send({ type: 'TXS_WAITING' }));
          break;
        case 'batch.ready': {
          const tip = node.chain[node.chain.length - 1]!;
          const block = buildBlock({
            height: tip.height + 1,
            prevSeal: tip.seal,
            stateRoot: `state-${tip.height + 1}`,
            timestamp: 1_700_000_000_000 + (tip.height + 1) * 1_000,
            creator: node.nodeId,
            txs: effect.txs,
          });
          this.later(() => pbft.send({ type: 'BLOCK_READY', block }));
          break;
        }
      }
    });

    pbft.on('*', (effect) => {
      switch (effect.type) {
        case 'pbft.broadcastVote': {
          const vote = signVote(effect.vote, signer());
          this.everyone((n) => n.actors.pbft.send({ type: 'VOTE', vote }));
          break;
        }
        case 'pbft.broadcastProposal': {
          const proposal = { ...effect.proposal, signature: `stand-in:${node.nodeId}` };
          this.everyone((n) => n.actors.pbft.send({ type: 'PROPOSAL', proposal }));
          break;
        }
        case 'pbft.requestBlock':
          // The batcher cuts a block now rather than when its timer would have run out.
          this.later(() => batching.send({ type: 'BATCH_TIMEOUT' }));
          break;
        case 'pbft.commit': {
          const block = effect.block;
          if (block === null) throw new Error('the script delivers every proposal: a commit has its block');
          this.later(() => {
            node.chain.push(block);
            for (const listener of node.onBlock) listener(block);
            const txIds = block.txs.map((tx) => tx.id);
            batching.send({ type: 'BLOCK_COMMITTED', height: block.height, txIds });
            election.send({ type: 'BLOCK_COMMITTED', height: block.height });
            sync.send({ type: 'BLOCK_COMMITTED', height: block.height, now: this.clock.now });
          });
          this.later(() => pbft.send({ type: 'START_HEIGHT', height: block.height + 1 }));
          break;
        }
      }
    });
  }
}
