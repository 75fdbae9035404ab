/**
 * Inbound rate limits (GCRA, see state/gcra.ts): the calling partner's own limit over all its
 * routes, then the route's limit on the caller's requests to this target. Counted in the shared
 * store, so every hub instance sees the same budget; while the store is unreachable each instance
 * counts locally: a Redis outage never turns into errors. Over the limit: 429 with Retry-After.
 */
import type { RateLimit } from '../config/types';
import { HubError } from '../errors';
import { LocalGcra } from '../state/gcra';
import { need, type HubContext, type PipelineDeps, type Stage } from './types';

export function rateLimit(deps: PipelineDeps): Stage {
  const local = new LocalGcra();
  const admit = async (ctx: HubContext, name: 'partner' | 'route', key: string, limit: RateLimit): Promise<void> => {
    const result = await deps.store.rateLimit(key, limit, 0).catch(() => {
      deps.metrics.rateLimitFallbacks.inc();
      return local.take(key, limit, 0);
    });
    if (result.allowed) return;
    deps.metrics.rateLimited.inc({ client: need(ctx.state.caller, 'caller').id, limit: name });
    const seconds = Math.max(1, Math.ceil(result.waitMs / 1000));
    throw new HubError('rateLimited', { detail: `the ${name} limit allows ${limit.requests} per ${limit.perSeconds} s`, headers: { 'retry-after': String(seconds) } });
  };
  return async (ctx, next) => {
    const caller = need(ctx.state.caller, 'caller');
    const target = need(ctx.state.target, 'target');
    const route = need(ctx.state.route, 'route');
    if (caller.rateLimit) await admit(ctx, 'partner', `in:${caller.id}`, caller.rateLimit);
    if (route.rateLimit) await admit(ctx, 'route', `route:${caller.id}>${target.id}`, route.rateLimit);
    await next();
  };
}
