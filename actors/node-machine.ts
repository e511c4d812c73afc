import { assign, enqueueActions, fromPromise, setup } from 'xstate';
import { API_GATEWAY_ID, ApiGatewayComponent, type ApiParts } from './components/api-gateway.ts';
import { BLOCKCHAIN_ID, BlockchainComponent } from './components/blockchain.ts';
import {
  type Component,
  type ComponentRegistry,
  type ComponentReport,
  componentActor,
  errorText,
} from './components/component.ts';
import { CONSENSUS_ID, ConsensusComponent, TIMERS_ID } from './components/consensus.ts';
import { GRPC_GATEWAY_ID, GrpcGatewayComponent } from './components/grpc-gateway.ts';
import { IVM_ID, IvmComponent } from './components/ivm.ts';
import type { ConsensusActorsCatch } from './components/live-view-wiring.ts';
import type { CoreParts, NodeBase } from './node-parts.ts';
import { timerActor } from './timer-actor.ts';

// The node as ONE XState actor system. The root machine spawns the components as actors with system
// IDs — timers, blockchain (store + ledger + executor), ivm, consensus (the replica: TxPool and
// Consensus), grpcGateway, apiGateway — waits until each says it is ready, runs, and on `node.stop`
// (or when a component fails) stops them in an order that loses nothing:
//
//   apiGateway   no new client txs
//   consensus    no new replica steps, timers cancelled
//   blockchain   every queued write on disk; the messages waiting behind them leave
//   ivm, grpcGateway   peers told goodbye
//   then the bus and the chain store close.
//
//        ┌──────────┐ all ready ┌─────────┐ node.stop / component.failed ┌──────────┐    ┌─────────┐
//   ───▶ │ starting │ ────────▶ │ running │ ───────────────────────────▶ │ stopping │ ─▶ │ stopped │
//        └──────────┘           └─────────┘                              └──────────┘    └─────────┘
//              └───────────── component.failed ──────────────────────────────▲

export const COMPONENT_IDS = [BLOCKCHAIN_ID, IVM_ID, CONSENSUS_ID, GRPC_GATEWAY_ID, API_GATEWAY_ID] as const;
export type ComponentId = (typeof COMPONENT_IDS)[number];

const STOP_ORDER: readonly ComponentId[] = [
  API_GATEWAY_ID,
  CONSENSUS_ID,
  BLOCKCHAIN_ID,
  IVM_ID,
  GRPC_GATEWAY_ID,
];

/** What the components are built from: the core parts when this process runs the core. */
export interface NodeRuntime {
  base: NodeBase;
  core: CoreParts | null;
  consensusActors: ConsensusActorsCatch | null;
}

function core(runtime: NodeRuntime): CoreParts {
  if (runtime.core === null) throw new Error('this process does not run the core');
  return runtime.core;
}

const components = {
  [BLOCKCHAIN_ID]: componentActor<NodeRuntime>(
    BLOCKCHAIN_ID,
    (rt, links) => new BlockchainComponent(core(rt), links),
  ),
  [IVM_ID]: componentActor<NodeRuntime>(IVM_ID, (rt) => new IvmComponent(core(rt))),
  [CONSENSUS_ID]: componentActor<NodeRuntime>(
    CONSENSUS_ID,
    (rt, links) => new ConsensusComponent(core(rt), links),
  ),
  [GRPC_GATEWAY_ID]: componentActor<NodeRuntime>(
    GRPC_GATEWAY_ID,
    (rt, links) => new GrpcGatewayComponent(core(rt), links),
  ),
  [API_GATEWAY_ID]: componentActor<NodeRuntime>(API_GATEWAY_ID, (rt) => {
    const parts: ApiParts = { ...rt.base, consensusActors: rt.consensusActors ?? undefined };
    return new ApiGatewayComponent(parts);
  }),
};

export interface NodeMachineInput {
  runtime: NodeRuntime;
  /** The components this process runs, in start order. */
  components: readonly ComponentId[];
}

interface NodeMachineContext extends NodeMachineInput {
  registry: ComponentRegistry;
  ready: string[];
  /** Why the node stopped on its own (a component failed); null for a requested stop. */
  failure: string | null;
}

export type NodeMachineEvent = ComponentReport | { type: 'node.stop' };

export interface NodeExit {
  failure: string | null;
}

/** Stops the components in STOP_ORDER, then closes the bus and the store; every step is tried. */
async function shutDown(registry: ComponentRegistry, runtime: NodeRuntime): Promise<string[]> {
  const problems: string[] = [];
  const attempt = async (what: string, step: () => Promise<void>) => {
    try {
      await step();
    } catch (error) {
      problems.push(`${what}: ${errorText(error)}`);
      runtime.base.logger.warn({ step: what, err: errorText(error) }, 'a shutdown step failed');
    }
  };
  for (const id of STOP_ORDER) {
    const component: Component | undefined = registry.get(id);
    if (component) await attempt(id, () => component.stop());
  }
  await attempt('bus', () => runtime.base.bus.close());
  if (runtime.core) {
    const { store } = runtime.core;
    await attempt('store', () => store.close());
  }
  return problems;
}

export const nodeMachine = setup({
  types: {
    context: {} as NodeMachineContext,
    input: {} as NodeMachineInput,
    events: {} as NodeMachineEvent,
    output: {} as NodeExit,
  },
  actors: {
    timers: timerActor,
    ...components,
    shutDown: fromPromise<string[], { registry: ComponentRegistry; runtime: NodeRuntime }>(({ input }) =>
      shutDown(input.registry, input.runtime),
    ),
  },
  guards: {
    allReady: ({ context }) => context.components.every((id) => context.ready.includes(id)),
  },
  actions: {
    noteReady: assign({
      ready: ({ context, event }) =>
        event.type === 'component.ready' ? [...context.ready, event.component] : context.ready,
    }),
    noteFailure: assign({
      failure: ({ context, event }) =>
        context.failure ?? (event.type === 'component.failed' ? `${event.component}: ${event.error}` : null),
    }),
  },
}).createMachine({
  id: 'node',
  context: ({ input }) => ({ ...input, registry: new Map(), ready: [], failure: null }),
  entry: enqueueActions(({ context, enqueue }) => {
    const input = { parts: context.runtime, registry: context.registry };
    if (context.runtime.core !== null) {
      enqueue.spawnChild('timers', { id: TIMERS_ID, systemId: TIMERS_ID, input: { owner: CONSENSUS_ID } });
    }
    for (const id of context.components) enqueue.spawnChild(id, { id, systemId: id, input });
  }),
  initial: 'starting',
  states: {
    starting: {
      on: {
        'component.ready': { actions: 'noteReady' },
        'component.failed': { target: 'stopping', actions: 'noteFailure' },
        'node.stop': { target: 'stopping' },
      },
      always: { guard: 'allReady', target: 'running' },
    },
    running: {
      on: {
        'component.failed': { target: 'stopping', actions: 'noteFailure' },
        'node.stop': { target: 'stopping' },
      },
    },
    stopping: {
      invoke: {
        src: 'shutDown',
        input: ({ context }) => ({ registry: context.registry, runtime: context.runtime }),
        onDone: 'stopped',
        onError: 'stopped',
      },
      on: { 'component.failed': { actions: 'noteFailure' } },
    },
    stopped: { type: 'final' },
  },
  output: ({ context }) => ({ failure: context.failure }),
});
