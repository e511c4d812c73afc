import type { Router } from '@koa/router';
import { parseDialAddress } from '../../grpc/dial-address.ts';
import { ApiError, badField } from '../api-error.ts';
import type { PeerFailureCode } from '../api-topics.ts';
import { objectOf, oneOf, requiredString } from '../fields.ts';
import { PeerControlError } from '../ports.ts';
import { readJsonBody } from '../request-body.ts';
import type { RouteDeps } from '../route-deps.ts';

// Peers: the list is the read model's (connection.* events); dial, join and disconnect go to the
// gRPC gateway through PeerControl.

const PEER_FAILURE_STATUS: Readonly<Record<PeerFailureCode, number>> = {
  bad_address: 400,
  not_found: 404,
  unreachable: 502,
  refused: 502,
  unavailable: 503,
};

async function control<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    if (error instanceof PeerControlError) {
      throw new ApiError(PEER_FAILURE_STATUS[error.code], error.code, error.message);
    }
    throw error;
  }
}

export function peerRoutes(router: Router, { readModel, peers }: RouteDeps): void {
  router.get('/peers', (ctx) => {
    ctx.body = readModel.peers();
  });

  router.post('/peers', async (ctx) => {
    const fields = objectOf(await readJsonBody(ctx, 4096), ['type', 'address']);
    const type = oneOf(fields, 'type', 'body', ['dial', 'join'] as const);
    const address = requiredString(fields, 'address', 'body', 300);
    if (!parseDialAddress(address)) throw badField('address', 'expected host:port or nodeId@host:port');
    const { peerId } = await control(() => peers.connect(type, address));
    ctx.status = 202;
    ctx.body = peerId === undefined ? { type, address } : { type, address, peerId };
  });

  router.delete('/peers/:id', async (ctx) => {
    const id = ctx.params.id ?? '';
    if (!/^[0-9a-f]{40}$/.test(id)) throw badField('id', 'expected a node ID (40 lower-case hex characters)');
    await control(() => peers.disconnect(id));
    ctx.body = { id };
  });
}
