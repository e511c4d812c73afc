import type { Router } from '@koa/router';
import { badField, notFound } from '../api-error.ts';
import { argsOf, type Fields, objectOf, requiredString } from '../fields.ts';
import { readJsonBody } from '../request-body.ts';
import type { RouteDeps } from '../route-deps.ts';
import { admissionError, type TxCall } from '../tx-submitter.ts';

const CALL_FIELDS = ['icodeId', 'function', 'args'] as const;
const NAME_LENGTH = 256;

/** {icodeId, function, args} → an invoke call; `path` names the object in errors. */
export function invokeCall(value: unknown, path: string): TxCall {
  const fields: Fields = objectOf(value, CALL_FIELDS, path);
  return {
    kind: 'invoke',
    icodeId: requiredString(fields, 'icodeId', path, NAME_LENGTH),
    function: requiredString(fields, 'function', path, NAME_LENGTH),
    args: argsOf(fields, 'args', path),
  };
}

export function transactionRoutes(router: Router, deps: RouteDeps): void {
  const { readModel, submitter, limits } = deps;

  router.post('/transactions', async (ctx) => {
    const call = invokeCall(await readJsonBody(ctx, limits.txBodyBytes), 'body');
    const tx = submitter.sign(call);
    const [admission] = await submitter.submit([tx]);
    if (admission?.status === 'rejected') throw admissionError(admission);
    ctx.status = 202;
    ctx.body = { id: tx.id };
  });

  // An addition to SPEC §6 for load generators: many invoke calls in one request. Every call is
  // checked before any is signed, so a bad one refuses the whole batch; the pool's verdicts are per tx.
  router.post('/transactions/batch', async (ctx) => {
    const body = objectOf(await readJsonBody(ctx, limits.batchBodyBytes), ['txs']);
    const list = body.txs;
    if (!Array.isArray(list)) throw badField('txs', 'expected an array of {icodeId, function, args}');
    if (list.length === 0) throw badField('txs', 'must hold at least one call');
    if (list.length > limits.batchTxs)
      throw badField('txs', `holds ${list.length} calls, at most ${limits.batchTxs}`);
    const calls = list.map((item, i) => invokeCall(item, `txs[${i}]`));
    const txs = calls.map((call, i) => submitter.sign(call, `txs[${i}]`));
    const admissions = await submitter.submit(txs);
    const rejected = admissions.flatMap((admission, i) =>
      admission.status === 'rejected'
        ? [{ index: i, id: txs[i]!.id, code: admission.code, message: admission.message }]
        : [],
    );
    if (rejected.length === txs.length) {
      const first = admissions[0]!;
      if (first.status === 'rejected') throw admissionError(first);
    }
    ctx.status = 202;
    ctx.body =
      rejected.length === 0 ? { ids: txs.map((tx) => tx.id) } : { ids: txs.map((tx) => tx.id), rejected };
  });

  router.get('/transactions/:id', async (ctx) => {
    const id = ctx.params.id ?? '';
    const json = /^[0-9a-f]{64}$/.test(id) ? await readModel.txJson(id) : undefined;
    if (json === undefined) throw notFound(`transaction ${id}`);
    ctx.type = 'application/json';
    ctx.body = json;
  });
}
