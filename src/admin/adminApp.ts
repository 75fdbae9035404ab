/**
 * The admin listener, on its own port, never the partners': /metrics for Prometheus, /healthz
 * (alive), /readyz (config loaded, Redis reachable when configured, not stopping), and
 * /admin/partners, the operations view of every partner. /metrics and /admin/* may require basic
 * auth; the health endpoints never do, so an orchestrator can always probe them.
 */
import Router from '@koa/router';
import Koa from 'koa';
import { matchesAny, parseBasicAuthorization } from '../config/credentials';
import type { Config } from '../config/types';
import { catalogue, type ErrorKind } from '../errors/catalogue';
import type { JourneySources } from '../journeys/journeys';
import { mountJourneyRoutes } from './journeyRoutes';
import type { Metrics } from '../metrics/metrics';
import type { Store } from '../state/store';
import type { BreakerView } from '../upstream/breakers';

export interface AdminSources {
  readonly metrics: Metrics;
  readonly store: Store;
  config(): Config;
  draining(): boolean;
  breakers(partner: string): BreakerView[];
}

export interface AdminAuth {
  readonly username: string;
  readonly passwordDigest: Buffer;
}

const READY_TIMEOUT_MS = 1000;

export interface Readiness {
  readonly ready: boolean;
  readonly checks: Readonly<Record<string, unknown>>;
}

/** what the admin listener shows: one hub's own, or every worker's (workers.ts) */
export interface AdminViews {
  metrics(): Promise<{ readonly contentType: string; readonly text: string }>;
  /** /healthz: the processes that serve are there */
  alive(): { readonly alive: boolean; readonly detail?: string };
  readiness(): Promise<Readiness>;
  partners(): Promise<{ readonly partners: readonly PartnerView[] }>;
  /** users' activation journeys, where this process can read them (not the primary of --workers) */
  readonly journeys?: JourneySources;
}

export function buildAdminApp(views: AdminViews, auth?: AdminAuth): Koa {
  const app = new Koa();
  app.silent = true;
  const router = new Router({ strict: true });
  // the health endpoints never ask for credentials: an orchestrator can always probe them
  router.get('/healthz', (ctx) => {
    const { alive, detail } = views.alive();
    ctx.status = alive ? 200 : 503;
    ctx.body = { status: alive ? 'alive' : 'not alive', ...(detail ? { detail } : {}) };
  });
  router.get('/readyz', async (ctx) => {
    const readiness = await views.readiness();
    ctx.status = readiness.ready ? 200 : 503;
    ctx.body = readiness;
  });
  const guarded = async (ctx: Koa.Context, next: Koa.Next) => {
    if (!auth || authorized(ctx.get('authorization'), auth)) {
      await next();
      return;
    }
    ctx.status = 401;
    ctx.set('www-authenticate', 'Basic realm="aid-gateway admin"');
    ctx.body = refusal('unauthenticated', 'authentication required');
  };
  router.get('/metrics', guarded, async (ctx) => {
    const { contentType, text } = await views.metrics();
    ctx.type = contentType;
    ctx.body = text;
  });
  router.get('/admin/partners', guarded, async (ctx) => void (ctx.body = await views.partners()));
  if (views.journeys) mountJourneyRoutes(router, guarded, views.journeys, refusal);
  // what the router answered without a body says so in the AID.02 error body, as the partner
  // listeners do; so does a view that failed (500 code 90) or a request Koa refused (400 code 91)
  app.use(async (ctx, next) => {
    try {
      await next();
    } catch (err) {
      const status = (err as { status?: unknown }).status;
      const clientError = typeof status === 'number' && status >= 400 && status < 500;
      ctx.status = clientError ? status : 500;
      ctx.body = clientError ? refusal('invalidSyntax', catalogue.invalidSyntax.message) : refusal('internal', 'the view could not be read');
      return;
    }
    if (ctx.body !== undefined && ctx.body !== '') return;
    if (ctx.status === 404) {
      // set again: Koa would take a body on an unset status for a 200
      ctx.status = 404;
      ctx.body = refusal('unknownPath', 'not found');
    } else if (ctx.status === 405) ctx.body = refusal('methodNotAllowed', `method not allowed; allowed: ${String(ctx.response.get('allow'))}`);
  });
  app.use(router.routes());
  app.use(router.allowedMethods());
  return app;
}

/** one hub process's own views */
export function localViews(sources: AdminSources, journeys?: JourneySources): AdminViews {
  return {
    journeys,
    metrics: async () => ({ contentType: sources.metrics.registry.contentType, text: await sources.metrics.registry.metrics() }),
    alive: () => ({ alive: true }),
    readiness: () => readiness(sources),
    partners: () => partners(sources),
  };
}

/** the AID.02 error body: the catalogue's code, the admin listener's own words */
function refusal(kind: ErrorKind, error: string): { code: string; error: string } {
  return { code: catalogue[kind].code, error };
}

function authorized(header: string, auth: AdminAuth): boolean {
  const basic = parseBasicAuthorization(header);
  return basic !== undefined && matchesAny(basic.password, [auth.passwordDigest]) && basic.username === auth.username;
}

async function readiness(sources: AdminSources): Promise<Readiness> {
  const checks: Record<string, string> = { config: `generation loaded, ${sources.config().partners.size} partners` };
  let ok = true;
  if (sources.draining()) {
    checks.draining = 'stopping';
    ok = false;
  }
  if (sources.store.kind === 'redis') {
    const reached = await Promise.race([
      sources.store.ping().then(
        () => true,
        () => false,
      ),
      new Promise<boolean>((resolve) => setTimeout(() => resolve(false), READY_TIMEOUT_MS).unref()),
    ]);
    checks.redis = reached ? 'reachable' : 'unreachable';
    ok &&= reached;
  }
  return { ready: ok, checks };
}

export interface PartnerView {
  readonly id: string;
  readonly role: string;
  readonly name: string;
  readonly dialect: string;
  readonly upstream: string;
  readonly breaker: string;
  readonly breakers: readonly (BreakerView & { readonly worker?: number })[];
  readonly recent: { readonly calls: number; readonly errorRatio: number; readonly latencyMeanMs: number };
  readonly pendingActivationRequests?: number;
}

async function partners(sources: AdminSources): Promise<{ partners: PartnerView[] }> {
  const pending = await sources.store.ledger.countPending().catch(() => undefined);
  return {
    partners: [...sources.config().partners.values()].map((p) => {
      const breakers = sources.breakers(p.id);
      const calls = breakers.reduce((n, b) => n + b.calls, 0);
      const failures = breakers.reduce((n, b) => n + b.failures, 0);
      return {
        id: p.id,
        role: p.role,
        name: p.name,
        dialect: p.dialect,
        upstream: p.upstream.url.origin,
        breaker: breakers.find((b) => b.state === 'open')?.state ?? breakers.find((b) => b.state === 'halfOpen')?.state ?? 'closed',
        breakers,
        recent: {
          calls,
          errorRatio: calls === 0 ? 0 : failures / calls,
          latencyMeanMs: calls === 0 ? 0 : breakers.reduce((n, b) => n + b.latencyMeanMs * b.calls, 0) / calls,
        },
        pendingActivationRequests: p.role === 'msp' ? (pending?.[p.id] ?? 0) : undefined,
      };
    }),
  };
}
