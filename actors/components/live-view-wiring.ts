import { readdir, readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { ActorRefLike, InspectionEvent } from 'xstate';
import {
  type ConsensusActors,
  type ConsensusSource,
  consensusSourceOf,
} from '../../adapters/live-view/consensus-source.ts';
import type { NetworkNode } from '../../adapters/live-view/live-view-routes.ts';
import { peerNodeIdFromCertificate } from '../../adapters/pki/peer-certificate.ts';
import { CA_DIRECTORY, CA_FILES, HOME_FILES } from '../../config/home-layout.ts';
import { loadConfig } from '../../config/load-config.ts';
import type { NodeId } from '../../domain/identity.ts';
import type { ReplicaInspection } from '../replica/replica.ts';

// What the live view (adapters/live-view, GET / on the API port) needs from the node: the replica's
// four machine actors, caught from their inspection streams (the replica keeps them private), and
// the network's nodes with their API URLs, read from the testnet directory this node's home sits in
// (`itchain testnet` / `itchain up` layout: D/node0 … D/nodeN-1); elsewhere the page shows this node.

type MachineKey = keyof ConsensusActors;

/** One machine as the live view observes it: its actor, and listeners called after each of its steps. */
interface Observed {
  actor: ActorRefLike | null;
  readonly listeners: Set<(snapshot: never) => void>;
}

export class ConsensusActorsCatch {
  private readonly machines = new Map<MachineKey, Observed>(
    (['election', 'pbft', 'batching', 'sync'] as const).map((key) => [
      key,
      { actor: null, listeners: new Set() },
    ]),
  );

  /** Inspection hooks that remember each machine's root actor and tell listeners of its steps. */
  hooks(next?: ReplicaInspection): ReplicaInspection {
    const hook = (key: MachineKey) => (event: InspectionEvent) => {
      const observed = this.machines.get(key);
      if (observed !== undefined && event.actorRef.sessionId === event.rootId) {
        observed.actor ??= event.actorRef;
        if (event.type === '@xstate.snapshot') {
          for (const listener of observed.listeners) listener(event.snapshot as never);
        }
      }
      next?.[key]?.(event);
    };
    return { election: hook('election'), pbft: hook('pbft'), batching: hook('batching'), sync: hook('sync') };
  }

  /** The live view's source; asks for the actors only when a snapshot is wanted. */
  source(nodeId: NodeId): ConsensusSource {
    const observed = (key: MachineKey): Observed => {
      const found = this.machines.get(key);
      if (found === undefined) throw new Error(`unknown machine ${key}`);
      return found;
    };
    const lazy = (key: MachineKey) => ({
      getSnapshot: () => {
        const actor = observed(key).actor;
        if (actor === null) throw new Error(`the ${key} machine has not started`);
        return actor.getSnapshot();
      },
      subscribe: (listener: (snapshot: never) => void) => {
        const { listeners } = observed(key);
        listeners.add(listener);
        return { unsubscribe: () => listeners.delete(listener) };
      },
    });
    return consensusSourceOf(nodeId, {
      election: lazy('election'),
      pbft: lazy('pbft'),
      batching: lazy('batching'),
      sync: lazy('sync'),
    });
  }
}

/** Every node of the testnet this home belongs to, by index; just this node outside a testnet. */
export async function testnetNodes(home: string, self: NetworkNode): Promise<NetworkNode[]> {
  const dir = dirname(home);
  try {
    const ca = await readFile(join(dir, CA_DIRECTORY, CA_FILES.certificate));
    const names = (await readdir(dir)).filter((name) => /^node\d+$/.test(name));
    names.sort((a, b) => Number(a.slice(4)) - Number(b.slice(4)));
    const nodes: NetworkNode[] = [];
    for (const name of names) {
      const nodeHome = join(dir, name);
      const config = loadConfig(join(nodeHome, HOME_FILES.config), {});
      const nodeId = peerNodeIdFromCertificate(await readFile(config.node.certFile), ca);
      nodes.push({ nodeId, apiUrl: `http://${config.api.host}:${config.api.port}` });
    }
    return nodes.some((n) => n.nodeId === self.nodeId) ? nodes : [self];
  } catch {
    return [self];
  }
}
