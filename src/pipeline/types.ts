/**
 * What every request carries (its runtime, ids, logger, and what its access line tells), the
 * context the hub's steps see of it, and what they are built from.
 */
import type { ServerResponse } from 'node:http';
import { contentType as withCharset } from 'mime-types';
import type { Config, Partner } from '../config/types';
import type { DialectAnswer, DialectInstance } from '../dialects/dialect';
import type { InboundContext } from '../dialects/inbound';
import type { AccessLog, Logger } from '../log';
import type { Metrics } from '../metrics/metrics';
import type { ApiOperation, Apis } from '../openapi/apis';
import type { PendingActivations } from '../activation/pendingActivations';
import type { JourneyRecorder } from '../journeys/recorder';
import type { LoginThrottle } from './loginThrottle';
import type { RateLimits } from '../state/rateLimits';
import type { Store } from '../state/store';
import type { Tracing } from '../tracing/tracing';

/** one loaded config and what serves it (server/runtime.ts builds one per load): a request keeps
 * the one it entered to its end, so a reload never changes a request halfway */
export interface Runtime {
  readonly generation: number;
  readonly config: Config;
  dialectFor(partner: Partner): DialectInstance;
  /** the HTTP edge of this config: its dialects' inbound routes and the AID.02 operations */
  readonly router: Stage;
  /** marks a request as using this runtime; call the returned function when it is done */
  enter(): () => void;
  /** closes the upstream pools once every request that entered has left */
  retire(): Promise<void>;
}

export interface RequestIds {
  readonly requestId?: string;
  readonly correlationId?: string;
  readonly clientId?: string;
  readonly targetId?: string;
  /** W3C trace context: the trace this request belongs to; with tracing, the request's span too */
  readonly trace: { readonly traceId: string; readonly flags: string; readonly spanId?: string };
}

export interface HubState {
  runtime: Runtime;
  /** the request's logger: every line carries `logBindings` */
  log: Logger;
  logBindings: Readonly<Record<string, string | number | undefined>>;
  startedAt: number;
  ids: RequestIds;
  /** the path parameters as the router matched them (decoded) */
  params: Readonly<Record<string, string>>;
  /** what the access line, the metrics and the span tell of the request, each set once it is known
   * (a request refused early has no caller); the steps themselves hand each other typed values
   * (request.ts), never these */
  operation?: ApiOperation;
  caller?: Partner;
  target?: Partner;
  answer?: DialectAnswer;
  /** the hub answered itself: a stored answer replayed to a retry, 201 for a bridged request (the
   * MSP slower than the budget), 201 for a delivery stored and forwarded */
  answeredBy?: 'replayed' | 'bridged' | 'stored';
  /** a dialect's inbound route served this request (no AID.02 operation): its name */
  inboundRoute?: string;
}

/**
 * What the hub's steps use of a request's context. Koa's context has it (a dialect's inbound
 * route); an AID.02 operation gets the edge's own, smaller one (edgeContext.ts). The setters keep
 * Koa's rules: a body sets the status to 200 unless one was set, a Buffer or an object its
 * Content-Type when none is.
 */
export interface HubContext extends InboundContext {
  state: HubState;
  readonly res: ServerResponse;
}
export type Next = () => Promise<void>;
export type Stage = (ctx: HubContext, next: Next) => Promise<void>;
/** an AID.02 operation from its authentication to its answer (operations.ts) */
export type Operation = (ctx: HubContext) => Promise<void>;

export interface PipelineDeps {
  readonly apis: Apis;
  readonly store: Store;
  readonly metrics: Metrics;
  readonly log: Logger;
  /** the access line of every request (log.ts) */
  readonly accessLog: AccessLog;
  /** the runtime in service now */
  readonly runtime: () => Runtime;
  /** work that outlives its request (a bridged outcome); the hub waits for it when it stops */
  readonly track: (work: Promise<unknown>) => void;
  /** true once the hub is stopping: answers then close their connection */
  readonly draining: () => boolean;
  readonly loginThrottle: LoginThrottle;
  /** the store's rate limits, counted locally while it is unreachable */
  readonly limits: Pick<RateLimits, 'admit'>;
  readonly activations: PendingActivations;
  /** OpenTelemetry traces, when configured */
  readonly tracing?: Tracing;
  /** each user's activation journey (journeys/) */
  readonly journeys: JourneyRecorder;
}

/** a single header value, or undefined when absent or repeated */
export function header(ctx: HubContext, name: string): string | undefined {
  const value = ctx.req.headers[name];
  return typeof value === 'string' ? value : undefined;
}

/** a partner's body, as it came; an empty one stays empty (Koa would turn a null body into 204,
 * and an unset one into the status text); without a content type it is JSON (a kept answer) */
export function setBody(ctx: HubContext, body: Buffer, contentType?: string): void {
  if (body.length === 0) {
    ctx.body = body;
    ctx.remove('content-type');
    return;
  }
  const sent = typeSent(contentType ?? 'application/json');
  // the type first: the body's setter then leaves it be instead of typing the body as binary
  if (sent !== false) ctx.set('content-type', sent);
  ctx.body = body;
  // a type the MIME database does not know leaves none
  if (sent === false) ctx.remove('content-type');
}

/** the Content-Type sent for a type a partner gave (a charset added where the MIME database has
 * one, as Koa's `type` does), worked out once per spelling */
function typeSent(given: string): string | false {
  const known = typesSent.get(given);
  if (known !== undefined) return known;
  const sent = withCharset(given);
  if (typesSent.size < TYPES_REMEMBERED) typesSent.set(given, sent);
  return sent;
}

const typesSent = new Map<string, string | false>();
const TYPES_REMEMBERED = 64;
