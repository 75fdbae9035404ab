/**
 * What an inbound route (a partner system's callback or webhook, the touchpoints) may use of the
 * hub: its request, and a few services the edge builds for it. A route never reaches the
 * pipeline's internals, so the pipeline can change without its dialects, as a Kong plugin reaches
 * Kong only through its PDK.
 */
import type { IncomingMessage } from 'node:http';
import type { Config, CredentialsRequired, InboundCredentials, Partner } from '../config/types';
import type { HubError } from '../errors/catalogue';
import type { Logger } from '../log';
import type { AUTH_FAILURE_REASONS, Metrics } from '../metrics/metrics';

/** what a route reads and writes of its request; Koa's context has it, and the pipeline's
 * (pipeline/types.ts HubContext) extends it. The setters keep Koa's rules: a body sets the status
 * to 200 unless one was set. */
export interface InboundContext {
  readonly state: InboundState;
  readonly req: IncomingMessage;
  readonly method: string;
  readonly path: string;
  readonly querystring: string;
  status: number;
  body: unknown;
  /** a request header, '' when absent */
  get(field: string): string;
  set(field: string, value: string): void;
  set(fields: Readonly<Record<string, string>>): void;
  remove(field: string): void;
}

export interface InboundState {
  /** the request's logger: every line carries its ids */
  readonly log: Logger;
  /** the route's own path parameters (the partner a webhook is for), decoded */
  readonly params: Readonly<Record<string, string>>;
  /** the partner the route authenticated: the access line and the metrics name it */
  caller?: Partner;
}

/** the request's services, built at the edge for each request of an inbound route */
export interface InboundServices {
  /** the config in service for this request */
  readonly config: Config;
  readonly metrics: Metrics;
  /** the partner `client-id` names, once its credential is checked (AID.02 section 6); a refusal is
   * thrown, counted and throttled */
  authenticateClient(clientErrorStatus: number): Promise<Partner>;
  /** undefined when the request carries `inbound`'s credentials, else why not */
  checkCredentials(inbound: InboundCredentials, required?: CredentialsRequired): Refusal | undefined;
  /** throws 429 while the caller's address (for `clientId`, where given) is blocked for failed logins */
  refuseIfThrottled(clientId?: string): void;
  /** counts, logs and throttles a refused credential: the error to throw (401, or 429 past the limit) */
  refused(refusal: Refusal, clientId?: string): Promise<HubError>;
  /** the JSON body within the hub's limits: 60 when empty (and `required`), 91 when not JSON */
  readJson(clientErrorStatus: number, required?: boolean): Promise<{ raw: Buffer; body: unknown }>;
  /** the body's bytes within the hub's size limit */
  readRaw(): Promise<Buffer>;
}

type AuthFailureReason = Exclude<(typeof AUTH_FAILURE_REASONS)[number], 'throttled'>;

export interface Refusal {
  readonly reason: AuthFailureReason;
  /** for the log only: what the partner's operators need to mend it */
  readonly detail?: string;
}

export function refuse(reason: AuthFailureReason, detail?: string): Refusal {
  return { reason, detail };
}

/**
 * An HTTP path the dialect serves for its partners' systems (a callback, a webhook), ahead of the
 * AID.02 operations. The handler gets every method on the path (it answers a wrong one in its
 * protocol's terms) and the request's services.
 */
export interface InboundRoute {
  readonly path: string;
  /** the name the access log line and the metrics carry instead of an operation */
  readonly name: string;
  handle(ctx: InboundContext, services: InboundServices): Promise<void>;
}
