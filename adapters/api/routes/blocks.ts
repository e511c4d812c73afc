import type { Router } from '@koa/router';
import { badField, notFound } from '../api-error.ts';
import type { RouteDeps } from '../route-deps.ts';

// Blocks as the chain stores them (the Block object exactly), from the read model.

export const DEFAULT_BLOCK_PAGE = 20;
export const MAX_BLOCK_PAGE = 1000;

const HEIGHT = /^\d{1,16}$/;
const SEAL = /^[0-9a-f]{64}$/;

function integerParam(value: string | string[] | undefined, name: string, min: number): number | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || !HEIGHT.test(value) || Number(value) < min) {
    throw badField(name, `expected an integer ≥ ${min}, got ${JSON.stringify(value)}`);
  }
  return Number(value);
}

export function blockRoutes(router: Router, { readModel }: RouteDeps): void {
  // GET /blocks?from=&limit=: `limit` blocks (default 20, at most 1000) in height order from `from`,
  // or the newest `limit` blocks when `from` is left out.
  router.get('/blocks', async (ctx) => {
    const limit = Math.min(integerParam(ctx.query.limit, 'limit', 1) ?? DEFAULT_BLOCK_PAGE, MAX_BLOCK_PAGE);
    const from = integerParam(ctx.query.from, 'from', 0) ?? Math.max(0, readModel.lastHeight - limit + 1);
    const blocks = await readModel.blocksJson(from, limit);
    ctx.type = 'application/json';
    ctx.body = `[${blocks.join(',')}]`;
  });

  router.get('/blocks/latest', async (ctx) => {
    const json = readModel.lastHeight < 0 ? undefined : await readModel.blockJson(readModel.lastHeight);
    if (json === undefined) throw notFound('no block yet: the latest block');
    ctx.type = 'application/json';
    ctx.body = json;
  });

  router.get('/blocks/:heightOrSeal', async (ctx) => {
    const key = ctx.params.heightOrSeal ?? '';
    let height: number | undefined;
    if (HEIGHT.test(key)) height = Number(key);
    else if (SEAL.test(key)) height = await readModel.heightOfSeal(key);
    else throw badField('heightOrSeal', 'expected a block height or a 64-character hex seal');
    const json = height === undefined ? undefined : await readModel.blockJson(height);
    if (json === undefined) throw notFound(`block ${key}`);
    ctx.type = 'application/json';
    ctx.body = json;
  });
}
