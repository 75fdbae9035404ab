/**
 * The Koa app at the HTTP edge: `context` (ids, logger, timer, the runtime in service), `respond`
 * (every error becomes the AID.02 body; access log; metrics), then the router of the runtime in
 * service (router.ts): a dialect's inbound route, or an AID.02 operation's chain (pipeline/chains.ts).
 * See the README's "A request's way through the hub".
 */
import Koa from 'koa';
import { context } from './pipeline/context';
import { respond } from './pipeline/respond';
import type { HubState, PipelineDeps } from './pipeline/types';

export function buildApp(deps: PipelineDeps): Koa<HubState> {
  const app = new Koa<HubState>();
  app.proxy = false;
  // errors are answered and logged by `respond`; Koa's own printing would duplicate them
  app.silent = true;
  app.use(context(deps));
  app.use(respond(deps));
  app.use((ctx, next) => ctx.state.runtime.router(ctx, next));
  return app;
}
