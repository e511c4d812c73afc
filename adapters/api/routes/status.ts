import type { Router } from '@koa/router';
import type { RouteDeps } from '../route-deps.ts';

export function statusRoutes(router: Router, { readModel }: RouteDeps): void {
  router.get('/status', (ctx) => {
    ctx.body = readModel.status();
  });
}
