/**
 * The dialects' own paths (a partner system's callback or webhook), ahead of the AID.02
 * operations: the runtime in service says which paths its dialects serve, and the route answers
 * in its own protocol's terms.
 */
import type { PipelineDeps, Stage } from './types';

export function inboundRoutes(deps: PipelineDeps): Stage {
  return async (ctx, next) => {
    const route = ctx.state.runtime.inboundRoutes.get(ctx.path);
    if (!route) {
      await next();
      return;
    }
    ctx.state.inboundRoute = route.name;
    await route.handle(ctx, deps);
  };
}
