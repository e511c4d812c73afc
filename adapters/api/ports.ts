import type { Canonical } from '../../domain/canonical.ts';
import type { IcodeDeployment } from '../../domain/icode.ts';
import type { NodeId } from '../../domain/identity.ts';
import type { PeerFailureCode, QueryOutcome } from './api-topics.ts';

// What the API gateway needs from the rest of the node besides the bus, injected by whoever starts it.
// Each has a bus-backed default (bus-ports.ts) except the deployer, which runs where the API runs.

/**
 * Prepares a deploy: clones the repository (simple-git), checks out HEAD and bundles the source.
 * Resolves with the deployment a `deploy` tx carries; the iCode ID is icodeIdOf(gitUrl, commit).
 * Fails with an IcodeSourceError (domain/icode-errors.ts), which the API answers with its 4xx.
 */
export interface IcodeDeployer {
  deploy(gitUrl: string, sshKey?: string): Promise<IcodeDeployment>;
}

/** Runs a read-only iCode function against committed state (the IVM). */
export interface IcodeQuerier {
  query(icodeId: string, fn: string, args: Canonical[]): Promise<QueryOutcome>;
}

/** Connection management of the gRPC gateway. */
export interface PeerControl {
  /** dial only connects; join connects, learns the peers, syncs and asks for admission. */
  connect(type: 'dial' | 'join', address: string): Promise<{ peerId?: NodeId }>;
  disconnect(peerId: NodeId): Promise<void>;
}

/** A peer command failed for a reason the client should hear (bad address, unknown peer...). */
export class PeerControlError extends Error {
  constructor(
    readonly code: PeerFailureCode,
    message: string,
  ) {
    super(message);
    this.name = 'PeerControlError';
  }
}
