/**
 * The Koa app behind the edge (edge.ts), for every request the edge does not serve itself:
 * `context` (ids, logger, timer, the runtime in service), `respond` (every error becomes the AID.02
 * body; access log; metrics), then the router of the runtime in service (router.ts): a dialect's
 * inbound route, 404 or 405, or an AID.02 operation whose request target is not a plain path.
 * See docs/architecture.md, "What the hub does with a request".
 */
import Koa from 'koa';
import { context } from '../pipeline/context';
import { respond } from '../pipeline/respond';
import type { HubState, PipelineDeps } from '../pipeline/types';

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
