/**
 * The HTTP edge's routes: the dialects' inbound routes (a partner system's callback or webhook,
 * every method, answered in its own protocol's terms; @koa/router, asked first) and the AID.02
 * operations of both Annex B documents, each path exactly as the spec writes it (a trailing slash
 * is another path, letters keep their case). An unknown path is 404 code 204; a known path with
 * another method 405 code 205 with `Allow`. Built for each config the hub loads, since the
 * dialects' routes come with it.
 *
 * The AID.02 paths are matched by a table made here once: a path template's literal segments and
 * `{parameters}` are all the spec uses, and a general router builds and composes a middleware
 * chain for every request it routes.
 */
import Router from '@koa/router';
import type { InboundRoute } from './dialects/dialect';
import { HubError } from './errors';
import type { ApiOperation, Apis } from './openapi/apis';
import type { OperationId } from './openapi/operations';
import type { HubContext, HubState, PipelineDeps, Stage } from './pipeline/types';

/** one AID.02 path template: its operations by method */
interface PathEntry {
  readonly pattern: RegExp;
  readonly names: readonly string[];
  readonly operations: ReadonlyMap<string, { readonly op: ApiOperation; readonly chain: Stage }>;
  /** the methods the spec documents for the path, for 405's Allow */
  readonly allow: string;
}

export function buildRouter(deps: PipelineDeps, chains: ReadonlyMap<OperationId, Stage>, inbound: readonly InboundRoute[]): Stage {
  const table = pathTable(deps.apis, chains);
  const aid02: Stage = (ctx, next) => {
    const path = ctx.path;
    for (const entry of table) {
      const match = entry.pattern.exec(path);
      if (match === null) continue;
      // HEAD is not let into a GET route: AID.02 documents GET alone
      const found = entry.operations.get(ctx.method);
      if (found === undefined) throw methodNotAllowed(entry.allow);
      const params: Record<string, string> = {};
      for (let i = 0; i < entry.names.length; i++) params[entry.names[i]] = safeDecode(match[i + 1]);
      ctx.state.operation = found.op;
      ctx.state.params = params;
      return found.chain(ctx, next);
    }
    // the path is not echoed: a mistyped path may carry an account id, which must not reach the log
    throw new HubError('unknownPath');
  };
  if (inbound.length === 0) return aid02;
  // the dialects' routes first; what none of them matches goes on to the AID.02 paths
  const dialects = inboundRoutes(inbound, deps);
  return (ctx, next) => dialects(ctx, () => aid02(ctx, next));
}

function inboundRoutes(inbound: readonly InboundRoute[], deps: PipelineDeps): Stage {
  const router = new Router<HubState>({ strict: true, sensitive: true });
  for (const route of inbound) {
    router.all(route.path, (ctx) => {
      ctx.state.inboundRoute = route.name;
      // a route's own path parameters (the partner a webhook is for), decoded by the router
      ctx.state.params = ctx.params;
      return route.handle(ctx as HubContext, deps);
    });
  }
  return router.routes() as Stage;
}

/** `/v1/users/{msp_token}` -> /^\/v1\/users\/([^/]+)$/ with the names of its parameters */
function pathTable(apis: Apis, chains: ReadonlyMap<OperationId, Stage>): PathEntry[] {
  const byTemplate = new Map<string, Map<string, { op: ApiOperation; chain: Stage }>>();
  for (const op of apis.all) {
    const methods = byTemplate.get(op.pathTemplate) ?? new Map<string, { op: ApiOperation; chain: Stage }>();
    methods.set(op.operation.method.toUpperCase(), { op, chain: chains.get(op.id) as Stage });
    byTemplate.set(op.pathTemplate, methods);
  }
  return [...byTemplate].map(([template, methods]) => {
    const names: string[] = [];
    const source = template
      .split(/(\{[^}]+\})/)
      .map((part) => {
        const param = /^\{([^}]+)\}$/.exec(part);
        if (param === null) return part.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
        names.push(param[1]);
        return '([^/]+)';
      })
      .join('');
    return { pattern: new RegExp(`^${source}$`), names, operations: methods, allow: [...methods.keys()].join(', ') };
  });
}

/** a path parameter as the partner meant it; one that is not valid percent-encoding stays as sent
 * (validation then refuses it) */
function safeDecode(text: string): string {
  if (!text.includes('%')) return text;
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

function methodNotAllowed(allow: string): HubError {
  return new HubError('methodNotAllowed', { detail: `allowed: ${allow}`, headers: { allow } });
}
