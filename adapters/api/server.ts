import { createHash, timingSafeEqual } from 'node:crypto';
import { Router } from '@koa/router';
import Koa, { type Context, type Next } from 'koa';
import { ApiError } from './api-error.ts';
import type { RouteDeps } from './route-deps.ts';
import { blockRoutes } from './routes/blocks.ts';
import { eventRoutes } from './routes/events.ts';
import { icodeRoutes } from './routes/icodes.ts';
import { metricsRoutes } from './routes/metrics.ts';
import { openApiRoutes } from './routes/openapi.ts';
import { peerRoutes } from './routes/peers.ts';
import { statusRoutes } from './routes/status.ts';
import { transactionRoutes } from './routes/transactions.ts';

// The Koa app of SPEC §6: one routes/ file per resource, and around them the rules every route keeps:
// errors are {"error":{"code","message"}} with a 4xx/5xx; unknown routes are a JSON 404; with
// api.token set a mutating call needs `Authorization: Bearer <token>`. Reads answer any origin (the
// live view page reads every node's API from one node's page); a mutating call from a browser page of
// another origin is refused, so a web page cannot submit txs through a local node (CSRF), token or not.

const MUTATING = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);
/** POST, but read-only: an iCode query changes nothing, so it needs no token. */
const READ_ONLY_POST = /^\/icodes\/[^/]+\/query\/?$/;

export interface ApiApp {
  app: Koa;
  router: Router;
}

export function createApiApp(
  deps: RouteDeps,
  token: string | null,
  extraRouters: readonly Router[] = [],
): ApiApp {
  const app = new Koa();
  app.silent = true;
  const router = new Router();
  statusRoutes(router, deps);
  blockRoutes(router, deps);
  transactionRoutes(router, deps);
  icodeRoutes(router, deps);
  peerRoutes(router, deps);
  metricsRoutes(router, deps);
  eventRoutes(router, deps);
  openApiRoutes(router);

  app.use(errorShape(deps));
  app.use(originRule);
  if (token !== null) app.use(bearerToken(token));
  app.use(router.routes());
  for (const extra of extraRouters) app.use(extra.routes());
  app.use(router.allowedMethods());
  return { app, router };
}

function errorShape(deps: RouteDeps) {
  return async (ctx: Context, next: Next): Promise<void> => {
    try {
      await next();
      if (ctx.body === undefined || ctx.body === null) {
        if (ctx.status === 405) {
          throw new ApiError(405, 'method_not_allowed', `${ctx.method} is not allowed on ${ctx.path}`);
        }
        if (ctx.status === 404) throw new ApiError(404, 'not_found', `no route ${ctx.method} ${ctx.path}`);
      }
    } catch (error) {
      const apiError = asApiError(error);
      if (apiError.status >= 500 && !(error instanceof ApiError)) {
        deps.logger.error({ err: String(error), method: ctx.method, path: ctx.path }, 'API request failed');
      }
      ctx.status = apiError.status;
      ctx.body = apiError.body;
    }
  };
}

function asApiError(error: unknown): ApiError {
  if (error instanceof ApiError) return error;
  // Koa and the router throw http-errors (e.g. a malformed %-escape in a path): keep their 4xx.
  const status =
    typeof error === 'object' && error !== null && 'status' in error ? Number(error.status) : 500;
  if (status >= 400 && status < 500) {
    const message = error instanceof Error ? error.message : 'bad request';
    return new ApiError(status, 'bad_request', message);
  }
  return new ApiError(500, 'internal', 'the API failed to answer; the node log has the details');
}

async function originRule(ctx: Context, next: Next): Promise<void> {
  if (ctx.method === 'GET' || ctx.method === 'HEAD') {
    ctx.set('Access-Control-Allow-Origin', '*');
  } else if (MUTATING.has(ctx.method)) {
    const origin = ctx.get('origin');
    // Browsers send Origin on every cross-origin POST/DELETE; command-line clients send none.
    if (origin !== '' && origin !== `${ctx.protocol}://${ctx.host}`) {
      throw new ApiError(403, 'forbidden_origin', `${ctx.method} from a page of ${origin} is not allowed`);
    }
  }
  await next();
}

function bearerToken(token: string) {
  const expected = digest(token);
  return async (ctx: Context, next: Next): Promise<void> => {
    if (MUTATING.has(ctx.method) && !READ_ONLY_POST.test(ctx.path)) {
      const header = ctx.get('authorization');
      const given = /^Bearer\s+(.+)$/i.exec(header)?.[1]?.trim();
      // Compare digests in constant time, so the response time tells nothing about the token.
      if (given === undefined || !timingSafeEqual(digest(given), expected)) {
        ctx.set('WWW-Authenticate', 'Bearer');
        throw new ApiError(
          401,
          'unauthorized',
          given === undefined
            ? 'this call needs Authorization: Bearer <api.token>'
            : 'the bearer token is wrong',
        );
      }
    }
    await next();
  };
}

function digest(text: string): Buffer {
  return createHash('sha256').update(text).digest();
}
