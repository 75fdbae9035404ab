/**
 * The HTTP edge's routes, with @koa/router: the dialects' inbound routes (a partner system's
 * callback or webhook, every method, answered in its own protocol's terms) and the AID.02
 * operations of both Annex B documents, each path exactly as the spec writes it (a trailing slash
 * is another path, letters keep their case). An unknown path is 404 code 204; a known path with
 * another method 405 code 205 with `Allow`, from the router's allowedMethods. Built for each config
 * the hub loads, since the dialects' routes come with it.
 */
import Router from '@koa/router';
import compose from 'koa-compose';
import type { InboundRoute } from './dialects/dialect';
import { HubError } from './errors';
import type { Apis } from './openapi/apis';
import type { OperationId } from './openapi/operations';
import type { HubContext, HubState, PipelineDeps, Stage } from './pipeline/types';

export function buildRouter(deps: PipelineDeps, chains: ReadonlyMap<OperationId, Stage>, inbound: readonly InboundRoute[]): Stage {
  const router = new Router<HubState>({ strict: true, sensitive: true });
  for (const route of inbound) {
    router.all(route.path, (ctx) => {
      ctx.state.inboundRoute = route.name;
      // a route's own path parameters (the partner a webhook is for), decoded by the router
      ctx.state.params = ctx.params;
      return route.handle(ctx as HubContext, deps);
    });
  }
  const allow = allowedPerPath(deps.apis);
  for (const op of deps.apis.all) {
    const method = op.operation.method.toUpperCase();
    const chain = chains.get(op.id) as Stage;
    const allowed = allow.get(op.pathTemplate) as string;
    router.register(routerPath(op.pathTemplate), [method], (ctx, next) => {
      // the router lets HEAD into a GET route: AID.02 documents GET alone
      if (ctx.method !== method) throw methodNotAllowed(allowed);
      return chain(ctx as HubContext, next);
    });
  }
  return compose<HubContext>([refusals, router.routes() as Stage, router.allowedMethods() as Stage]);
}

/** what the router left unanswered becomes the AID.02 body */
const refusals: Stage = async (ctx, next) => {
  await next();
  if ((ctx as { _matchedRoute?: unknown })._matchedRoute !== undefined) return;
  // the path is not echoed: a mistyped path may carry an account id, which must not reach the log
  const allow = String(ctx.response.get('allow') ?? '');
  if (allow === '') throw new HubError('unknownPath');
  throw methodNotAllowed(allow.split(', ').filter((m) => m !== 'HEAD').join(', '));
};

function methodNotAllowed(allow: string): HubError {
  return new HubError('methodNotAllowed', { detail: `allowed: ${allow}`, headers: { allow } });
}

/** `/v1/users/{msp_token}` -> `/v1/users/:msp_token` */
function routerPath(template: string): string {
  return template.replace(/\{([^}]+)\}/g, ':$1');
}

function allowedPerPath(apis: Apis): Map<string, string> {
  const methods = new Map<string, string[]>();
  for (const op of apis.all) methods.set(op.pathTemplate, [...(methods.get(op.pathTemplate) ?? []), op.operation.method.toUpperCase()]);
  return new Map([...methods].map(([path, list]) => [path, list.join(', ')]));
}
