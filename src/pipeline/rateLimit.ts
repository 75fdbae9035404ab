/**
 * Inbound rate limits (GCRA, see state/gcra.ts): the calling partner's own limit over all its
 * routes and the route's limit on the caller's requests to this target, checked together: a
 * request either counts against both or, refused by one, against neither. Counted in the shared
 * store, so every hub instance sees the same budget; while the store is unreachable each instance
 * counts locally: a Redis outage never turns into errors. Over the limit: 429 with Retry-After.
 */
import { HubError } from '../errors';
import type { LimitCheck } from '../state/gcra';
import { need, type PipelineDeps, type Stage } from './types';

export function rateLimit(deps: PipelineDeps): Stage {
  return async (ctx, next) => {
    const caller = need(ctx.state.caller, 'caller');
    const target = need(ctx.state.target, 'target');
    const route = need(ctx.state.route, 'route');
    const limits: { name: 'partner' | 'route'; check: LimitCheck }[] = [];
    if (caller.rateLimit) limits.push({ name: 'partner', check: { key: `in:${caller.id}`, limit: caller.rateLimit } });
    if (route.rateLimit) limits.push({ name: 'route', check: { key: `route:${caller.id}>${target.id}`, limit: route.rateLimit } });
    if (limits.length > 0) {
      // both limits in one store round trip
      const checks = limits.map((l) => l.check);
      const result = await deps.limits.admit(checks);
      if (!result.allowed) {
        const { name, check } = limits[result.refusedBy];
        deps.metrics.rateLimited.inc({ client: caller.id, limit: name });
        const seconds = Math.max(1, Math.ceil(result.waitMs / 1000));
        throw new HubError('rateLimited', { detail: `the ${name} limit allows ${check.limit.requests} per ${check.limit.perSeconds} s`, headers: { 'retry-after': String(seconds) } });
      }
    }
    await next();
  };
}
