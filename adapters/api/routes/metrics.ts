import type { Router } from '@koa/router';
import type { RouteDeps } from '../route-deps.ts';

export function metricsRoutes(router: Router, { metrics }: RouteDeps): void {
  router.get('/metrics', (ctx) => {
    ctx.type = 'text/plain; version=0.0.4; charset=utf-8';
    ctx.body = metrics.exposition();
  });
}
