/**
 * The typed state a request carries through its operation's chain, and the shape of a step. Each stage
 * fills in what it learns; later stages read it through `need`, which fails loudly if the pipeline
 * was assembled in the wrong order.
 */
import type { ServerResponse } from 'node:http';
import { contentType as withCharset } from 'mime-types';
import type { Config, Partner, RouteSettings } from '../config/types';
import { isSuccess, type DialectAnswer, type DialectInstance } from '../dialects/dialect';
import type { InboundContext } from '../dialects/inbound';
import type { AccessLog, Logger } from '../log';
import type { Metrics } from '../metrics/metrics';
import type { ApiOperation, Apis } from '../openapi/apis';
import type { PendingActivations } from '../activation/pendingActivations';
import type { JourneyRecorder } from '../journeys/recorder';
import type { LoginThrottle } from './loginThrottle';
import type { PendingActivation } from '../state/ledger';
import type { RateLimits } from '../state/rateLimits';
import type { Checked } from '../state/requestChecks';
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
  operation?: ApiOperation;
  /** the path parameters matched (decoded), then, from canonicalIds on, canonical and with the
   * operation's documented query parameters */
  params: Readonly<Record<string, string>>;
  /** the path and query the partner receives, built from `params` (canonicalIds) */
  forwardPath?: string;
  caller?: Partner;
  target?: Partner;
  route?: RouteSettings;
  rawBody?: Buffer;
  body?: unknown;
  answer?: DialectAnswer;
  /** the answer's JSON as validateResponse read it (where its status documents a body) */
  answerJson?: unknown;
  /** what the state said before the partner was called (stateChecks) */
  checked?: Checked & { readonly fingerprint: string; readonly activation?: PendingActivation };
  /** Request Activation Code: its request, once its call has taken up the claim */
  pending?: PendingActivation;
  /** set when the answer is a stored one, replayed to a retry */
  replayed?: boolean;
  /** the hub answered 201 itself: the MSP was slower than the budget (bridge) */
  bridged?: boolean;
  /** the hub answered 201 itself: the request waits in the outbox (store and forward) */
  stored?: boolean;
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

export function need<T>(value: T | undefined, what: string): T {
  if (value === undefined) throw new Error(`pipeline: ${what} is not known at this stage`);
  return value;
}

/** a single header value, or undefined when absent or repeated */
export function header(ctx: HubContext, name: string): string | undefined {
  const value = ctx.req.headers[name];
  return typeof value === 'string' ? value : undefined;
}

/** true when the partner answered 2xx */
export function succeeded(ctx: HubContext): boolean {
  return ctx.state.answer !== undefined && isSuccess(ctx.state.answer.status);
}

/** a partner's body, as it came; an empty one stays empty (Koa would turn a null body into 204,
 * and an unset one into the status text) */
export function setBody(ctx: HubContext, body: Buffer, contentType: string | undefined): void {
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
