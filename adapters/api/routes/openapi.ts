import type { Router } from '@koa/router';
import { OPENAPI_DOCUMENT } from '../openapi.ts';

export function openApiRoutes(router: Router): void {
  router.get('/openapi.json', (ctx) => {
    ctx.body = OPENAPI_DOCUMENT;
  });
}
