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
 * chain for every request it routes. The edge (edge.ts) asks the same table first and serves an
 * operation without Koa; Koa's router here sees the rest. So that the order cannot matter, no
 * dialect's route may be an AID.02 path: the runtime refuses to build otherwise.
 */
import Router from '@koa/router';
import type { InboundRoute } from '../dialects/inbound';
import { inboundServices } from './inboundServices';
import { HubError } from '../errors/catalogue';
import type { ApiOperation, Apis } from '../openapi/apis';
import type { OperationId } from '../openapi/operations';
import type { HubState, Operation, PipelineDeps, Stage } from '../pipeline/types';

/** an operation and its handler (pipeline/operations.ts) */
interface Served {
  readonly op: ApiOperation;
  readonly handle: Operation;
}

/** one AID.02 path template: its operations by method */
interface PathEntry {
  readonly pattern: RegExp;
  readonly names: readonly string[];
  readonly operations: ReadonlyMap<string, Served>;
  /** the methods the spec documents for the path, for 405's Allow */
  readonly allow: string;
}

/** the AID.02 paths, matched by a table made once at start */
export class OperationPaths {
  private readonly table: readonly PathEntry[];

  constructor(apis: Apis, handlers: ReadonlyMap<OperationId, Operation>) {
    this.table = pathTable(apis, handlers);
  }

  /** what serves an AID.02 path with the request's method, undefined where the path is none of
   * them or the method is not documented for it (those are `stage`'s to answer) */
  served(path: string, method: string): Operation | undefined {
    const matched = this.find(path);
    const found = matched?.entry.operations.get(method);
    return matched === undefined || found === undefined ? undefined : operationOf(found, matched.entry, matched.match);
  }

  /** every request Koa routes here: an AID.02 operation, 405 or 404 */
  readonly stage: Stage = (ctx) => {
    const matched = this.find(ctx.path);
    // the path is not echoed: a mistyped path may carry an account id, which must not reach the log
    if (matched === undefined) throw new HubError('unknownPath');
    // HEAD is not let into a GET route: AID.02 documents GET alone
    const found = matched.entry.operations.get(ctx.method);
    if (found === undefined) throw methodNotAllowed(matched.entry.allow);
    return operationOf(found, matched.entry, matched.match)(ctx);
  };

  private find(path: string): { entry: PathEntry; match: RegExpExecArray } | undefined {
    for (const entry of this.table) {
      const match = entry.pattern.exec(path);
      if (match !== null) return { entry, match };
    }
    return undefined;
  }

  /** true where a path of one of the dialects' routes would be taken for an AID.02 path */
  overlaps(routePath: string): boolean {
    const sample = routePath.replace(/:[A-Za-z0-9_]+/g, 'x');
    return this.table.some((entry) => entry.pattern.test(sample));
  }
}

function operationOf(found: Served, entry: PathEntry, match: RegExpExecArray): Operation {
  return (ctx) => {
    const params: Record<string, string> = {};
    for (let i = 0; i < entry.names.length; i++) params[entry.names[i]] = safeDecode(match[i + 1]);
    ctx.state.operation = found.op;
    ctx.state.params = params;
    return found.handle(ctx);
  };
}

export function buildRouter(deps: PipelineDeps, paths: OperationPaths, inbound: readonly InboundRoute[]): Stage {
  if (inbound.length === 0) return paths.stage;
  // the edge (edge.ts) serves AID.02 paths before Koa sees them: no dialect's route may be one
  const taken = inbound.find((route) => paths.overlaps(route.path));
  if (taken) throw new Error(`the inbound route ${taken.name} (${taken.path}) is an AID.02 path`);
  // the dialects' routes first; what none of them matches goes on to the AID.02 paths
  const dialects = inboundRoutes(inbound, deps);
  return (ctx, next) => dialects(ctx, () => paths.stage(ctx, next));
}

function inboundRoutes(inbound: readonly InboundRoute[], deps: PipelineDeps): Stage {
  const router = new Router<HubState>({ strict: true, sensitive: true });
  for (const route of inbound) {
    router.all(route.path, (ctx) => {
      ctx.state.inboundRoute = route.name;
      // a route's own path parameters (the partner a webhook is for), decoded by the router
      ctx.state.params = ctx.params;
      return route.handle(ctx, inboundServices(ctx, deps));
    });
  }
  return router.routes() as Stage;
}

/** `/v1/users/{msp_token}` -> /^\/v1\/users\/([^/]+)$/ with the names of its parameters */
function pathTable(apis: Apis, handlers: ReadonlyMap<OperationId, Operation>): PathEntry[] {
  const byTemplate = new Map<string, Map<string, Served>>();
  for (const op of apis.all) {
    const methods = byTemplate.get(op.pathTemplate) ?? new Map<string, Served>();
    const handle = handlers.get(op.id);
    if (handle === undefined) throw new Error(`no handler for ${op.id}`);
    methods.set(op.operation.method.toUpperCase(), { op, handle });
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
