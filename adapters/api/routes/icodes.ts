import type { Router } from '@koa/router';
import { BUILTIN_KV_ID, type IcodeDeployment, icodeIdOf } from '../../../domain/icode.ts';
import { DEPLOY_FUNCTION, deploymentArgs, UNDEPLOY_FUNCTION } from '../../../domain/icode-deployment.ts';
import { ICODE_SOURCE_HTTP_STATUS, IcodeSourceError } from '../../../domain/icode-errors.ts';
import { ApiError, notFound } from '../api-error.ts';
import { argsOf, objectOf, optionalString, requiredString } from '../fields.ts';
import { readJsonBody } from '../request-body.ts';
import type { RouteDeps } from '../route-deps.ts';
import { admissionError, type TxCall } from '../tx-submitter.ts';
import { BUILTIN_KV, type IcodeView } from '../views.ts';

// iCodes: deploy and undeploy are txs (they replicate through consensus); the list comes from the
// read model (icode.created/deleted); a query is read-only and runs in the IVM, outside consensus.

const SMALL_BODY_BYTES = 64 * 1024;
const MAX_SSH_KEY_LENGTH = 16 * 1024;

/** Status per query error (receipt error codes); anything else is the iCode's own failure: 422. */
const QUERY_ERROR_STATUS: Readonly<Record<string, number>> = {
  'not-deployed': 404,
  'no-such-function': 404,
  unavailable: 503,
};

function snake(code: string): string {
  return code.replaceAll('-', '_');
}

export function icodeRoutes(router: Router, deps: RouteDeps): void {
  const { readModel, submitter, limits } = deps;

  const known = async (id: string): Promise<IcodeView | undefined> =>
    id === BUILTIN_KV_ID ? BUILTIN_KV : readModel.icode(id);

  const submitCall = async (call: TxCall): Promise<string> => {
    const tx = submitter.sign(call);
    const [admission] = await submitter.submit([tx]);
    if (admission?.status === 'rejected') throw admissionError(admission);
    return tx.id;
  };

  router.post('/icodes', async (ctx) => {
    const fields = objectOf(await readJsonBody(ctx, SMALL_BODY_BYTES), ['gitUrl', 'sshKey']);
    const gitUrl = requiredString(fields, 'gitUrl', 'body', 1024);
    const sshKey = optionalString(fields, 'sshKey', 'body', MAX_SSH_KEY_LENGTH);
    if (!deps.deployer) throw new ApiError(501, 'not_implemented', 'this API process cannot deploy iCodes');
    let deployment: IcodeDeployment;
    try {
      deployment = await deps.deployer.deploy(gitUrl, sshKey);
    } catch (error) {
      if (error instanceof IcodeSourceError) {
        throw new ApiError(ICODE_SOURCE_HTTP_STATUS[error.code], snake(error.code), error.message);
      }
      throw error;
    }
    const id = icodeIdOf(deployment.gitUrl, deployment.commit);
    if (await readModel.icode(id)) {
      throw new ApiError(
        409,
        'already_deployed',
        `iCode ${id} (this commit of ${deployment.gitUrl}) is deployed`,
      );
    }
    const args = deploymentArgs(deployment);
    const txId = await submitCall({ kind: 'deploy', icodeId: id, function: DEPLOY_FUNCTION, args });
    ctx.status = 202;
    ctx.body = { id, txId };
  });

  router.get('/icodes', async (ctx) => {
    ctx.body = [BUILTIN_KV, ...(await readModel.icodes())];
  });

  router.get('/icodes/:id', async (ctx) => {
    const icode = await known(ctx.params.id ?? '');
    if (!icode) throw notFound(`iCode ${ctx.params.id}`);
    ctx.body = icode;
  });

  router.delete('/icodes/:id', async (ctx) => {
    const id = ctx.params.id ?? '';
    if (id === BUILTIN_KV_ID)
      throw new ApiError(400, 'builtin', 'the built-in kv iCode cannot be undeployed');
    if (!(await readModel.icode(id))) throw notFound(`iCode ${id}`);
    const txId = await submitCall({ kind: 'undeploy', icodeId: id, function: UNDEPLOY_FUNCTION, args: [] });
    ctx.status = 202;
    ctx.body = { id, txId };
  });

  router.post('/icodes/:id/query', async (ctx) => {
    const id = ctx.params.id ?? '';
    const fields = objectOf(await readJsonBody(ctx, limits.txBodyBytes), ['function', 'args']);
    const fn = requiredString(fields, 'function', 'body', 256);
    const args = argsOf(fields, 'args', 'body');
    if (!(await known(id))) throw notFound(`iCode ${id}`);
    const outcome = await deps.querier.query(id, fn, args);
    if (outcome.status === 'error') {
      const code = outcome.error?.code ?? 'icode-error';
      throw new ApiError(
        QUERY_ERROR_STATUS[code] ?? 422,
        snake(code),
        outcome.error?.message ?? 'the query failed',
      );
    }
    ctx.body = { result: outcome.result ?? null };
  });
}
