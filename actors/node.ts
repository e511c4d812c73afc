import type { InspectionEvent, Observer } from 'xstate';
import { createActor, toPromise, waitFor } from 'xstate';
import { createLogger, type LogFormat, type Logger } from '../adapters/log/logger.ts';
import { API_GATEWAY_ID } from './components/api-gateway.ts';
import { ConsensusActorsCatch } from './components/live-view-wiring.ts';
import { nodeConfig, openBase, openCore } from './node-boot.ts';
import {
  COMPONENT_IDS,
  type ComponentId,
  type NodeExit,
  type NodeRuntime,
  nodeMachine,
} from './node-machine.ts';
import type { CoreParts, NodeRole } from './node-parts.ts';
import type { ReplicaInspection } from './replica/replica.ts';

// `itchain start`: one node (or, with --only, the core or the API gateway alone) from its home.
// Opens what the components share (node-boot.ts), then runs the root machine (node-machine.ts) and
// resolves once every component is ready; a failure on the way is one sentence, and whatever was
// opened is closed again.

export interface StartNodeOptions {
  home: string;
  role?: NodeRole;
  env?: NodeJS.ProcessEnv;
  /** Default: pino at the config's log.level, pretty on a terminal. */
  logger?: Logger;
  logFormat?: LogFormat;
  /** Receives every inspection event of the actor system and of the replica's machines (--inspect). */
  inspect?: Observer<InspectionEvent>;
}

export interface RunningNode {
  readonly nodeId: string;
  readonly role: NodeRole;
  readonly logger: Logger;
  /** Asks the node to stop cleanly; resolves when it has. */
  stop(): Promise<NodeExit>;
  /** Resolves when the node has stopped, on request or because a component failed. */
  readonly exited: Promise<NodeExit>;
}

function componentsOf(role: NodeRole): ComponentId[] {
  if (role === 'api') return [API_GATEWAY_ID];
  if (role === 'core') return COMPONENT_IDS.filter((id) => id !== API_GATEWAY_ID);
  return [...COMPONENT_IDS];
}

function replicaInspection(inspect: Observer<InspectionEvent> | undefined): ReplicaInspection | undefined {
  if (!inspect) return undefined;
  const next = (event: InspectionEvent) => inspect.next?.(event);
  return { election: next, pbft: next, batching: next, sync: next };
}

export async function startNode(options: StartNodeOptions): Promise<RunningNode> {
  const role = options.role ?? 'full';
  const config = nodeConfig(options.home, options.env);
  const logger = options.logger ?? createLogger({ level: config.log.level, format: options.logFormat });
  if (role === 'api' && config.bus.url === 'memory') {
    throw new Error('--only api needs bus.url set to an amqp:// URL (the core runs in another process)');
  }
  if (role === 'core' && config.bus.url === 'memory') {
    logger.warn({}, '--only core on the memory bus: no API gateway can reach this node');
  }
  const base = await openBase(config, role, logger);
  const consensusActors = role === 'api' ? null : new ConsensusActorsCatch();
  let fail: (error: Error) => void = () => {};
  let core: CoreParts | null = null;
  if (role !== 'api') {
    try {
      core = await openCore(base, {
        onFatal: (error) => fail(error),
        inspect: consensusActors?.hooks(replicaInspection(options.inspect)) ?? {},
      });
    } catch (error) {
      await base.bus.close();
      throw error;
    }
  }
  const runtime: NodeRuntime = { base, core, consensusActors };
  const actor = createActor(nodeMachine, {
    input: { runtime, components: componentsOf(role) },
    inspect: options.inspect,
  });
  fail = (error) => {
    logger.fatal({ err: error.message }, 'a write to the chain store failed; stopping');
    actor.send({ type: 'component.failed', component: 'blockchain', error: error.message });
  };
  const exited = toPromise(actor);
  actor.start();
  const started = await waitFor(actor, (s) => s.matches('running') || s.status === 'done', {
    timeout: Number.POSITIVE_INFINITY,
  });
  if (started.status === 'done') {
    const exit = await exited;
    throw new Error(exit.failure ?? 'the node stopped while starting');
  }
  logger.info({ nodeId: base.nodeId, role, network: base.networkId }, 'node started');
  return {
    nodeId: base.nodeId,
    role,
    logger,
    stop: () => {
      actor.send({ type: 'node.stop' });
      return exited;
    },
    exited,
  };
}
