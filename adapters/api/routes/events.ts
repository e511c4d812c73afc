import type { Router } from '@koa/router';
import { badField } from '../api-error.ts';
import type { RouteDeps } from '../route-deps.ts';

export function eventRoutes(router: Router, { events }: RouteDeps): void {
  // GET /events[?kinds=block,leader,tx]: server-sent events until the client goes away.
  router.get('/events', (ctx) => {
    const raw = ctx.query.kinds;
    let kinds = new Set(['block', 'leader', 'tx']);
    if (raw !== undefined) {
      const names = typeof raw === 'string' ? raw.split(',').filter((name) => name !== '') : [];
      if (names.length === 0 || names.some((name) => !events.kinds.includes(name))) {
        throw badField('kinds', `expected a comma-separated list of ${events.kinds.join(', ')}`);
      }
      kinds = new Set(names);
    }
    events.open(ctx, kinds);
  });
}
