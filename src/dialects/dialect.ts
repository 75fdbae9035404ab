/**
 * The seam between the hub and a partner's own system. A dialect is a module (DialectModule)
 * registered in `index.ts`: it owns its partner-file settings (schema and typed settings), builds
 * one DialectInstance per partner at config load, and that instance turns an AID.02 operation into
 * its partner's calls and back. It may serve inbound HTTP routes (callbacks, webhooks) and state
 * policies the core applies. The core names no dialect: it reads the registry.
 */
import type { BreakerSettings, HubSettings, Partner, Role, UpstreamConfig } from '../config/types';
import type { ErrorKind } from '../errors';
import type { Logger } from '../log';
import type { Metrics } from '../metrics/metrics';
import type { OperationId } from '../openapi/operations';
import type { HubContext, PipelineDeps } from '../pipeline/types';
import type { OutboxQueue } from '../state/outbox';
import type { RecordStore } from '../state/records';
import type { Upstream, UpstreamResponse } from '../upstream/upstream';
import type { JourneySteps } from '../journeys/recorder';

/** an AID.02 operation, an event the hub owes a partner's own back office (a dialect's webhook),
 * or work a dialect scheduled for itself through the outbox (`dialectTask`: durable, taken over by
 * another hub instance when one dies, run again after the Retry-After its answer gives, dead-lettered
 * when it answers a refusal) */
export type DialectOperation = OperationId | 'dialectEvent' | 'dialectTask';

export interface DialectCall {
  readonly operation: DialectOperation;
  /** the calling partner's id (the hub's own for a dialect event) */
  readonly caller: string;
  /** the partner this call goes to */
  readonly target: string;
  readonly method: string;
  /** the AID.02 path and query, built from `params` */
  readonly path: string;
  /** the path and query parameters the pipeline matched, decoded and canonical: a dialect reads
   * these and never splits the path again */
  readonly params: Readonly<Record<string, string>>;
  /** the AID.02 headers to pass on (ids, content type, trace context); never the caller's credential */
  readonly headers: Readonly<Record<string, string>>;
  /** the body's bytes, as the partner receives them */
  readonly body?: Buffer;
  /** the same body as the pipeline parsed (and validated) it; undefined without one */
  readonly json?: unknown;
  /** how long the call may take, from now */
  readonly timeoutMs: number;
}

export type DialectAnswer = UpstreamResponse;

/** what a dialect built for one partner does */
export interface DialectInstance {
  call(call: DialectCall): Promise<DialectAnswer>;
  /** e.g. `tokens: 'strict'` where the hub itself issues the partner's msp_tokens */
  readonly policy?: DialectPolicy;
  /** its background work (following a partner system's transactions, say): the core runs each
   * while the instance's config is in service, on every hub instance, so a worker's unit of work
   * must be claimed through the record store's locks */
  readonly workers?: readonly DialectWorker[];
  /** releases what the instance holds, once its config is retired and its workers have stopped */
  close?(): Promise<void>;
  /** what the hub does for the partner when it is the caller: a CMP whose own system is not AID.02
   * asks through the hub, and the hub acts on what was asked and answered (the vehicle's download) */
  readonly caller?: CallerWork;
}

/** run on Request Activation Code when the partner asks (not on a replayed answer); a failure fails
 * the request, so the caller tries again */
export interface CallerWork {
  /** before the call goes to the target */
  requested?(call: DialectCall): Promise<void>;
  /** after a 2xx answer passed the checks, before the caller sees it */
  answered?(call: DialectCall, answer: DialectAnswer): Promise<void>;
}

export interface DialectWorker {
  /** for the log line of a failed run */
  readonly name: string;
  /** the pause between the end of one run and the start of the next */
  readonly everyMs: number;
  run(): Promise<void>;
}

export interface DialectPolicy {
  /** `strict`: the hub issues the partner's msp_tokens itself, so it knows every one */
  readonly tokens?: 'strict';
  /** how the caller is answered when the partner's system cannot be reached (refused, TLS,
   * network): the hub's `upstreamUnreachable` (502) unless the dialect names another kind */
  readonly unreachable?: ErrorKind;
}

/** what the core hands a dialect instance: nothing it must build itself */
export interface DialectServices {
  /** the partner's `upstream`: pool, TLS, deadline, breaker, outbound limit */
  readonly upstream: Upstream;
  /** another endpoint of the partner, with the same guards (a back office's webhook) */
  upstreamFor(target: UpstreamConfig, name: string): Upstream;
  /** the partner's own namespace of records and locks */
  readonly records: RecordStore;
  readonly outbox: OutboxQueue;
  readonly metrics: Metrics;
  readonly log: Logger;
  readonly settings: HubSettings;
  /** the steps of users' activation journeys the dialect takes (journeys/recorder.ts) */
  readonly journey?: JourneySteps;
}

/** where the settings of a partner file come from, for problems that name file and field */
export interface SettingsContext {
  /** the partner file as problems name it */
  readonly where: string;
  /** the config folder, for files the settings name */
  readonly dir: string;
  readonly breaker: BreakerSettings;
}

/**
 * An HTTP path the dialect serves for its partners' systems (a callback, a webhook), ahead of the
 * AID.02 operations. The handler gets every method on the path (it answers a wrong one in its
 * protocol's terms) and the pipeline's services (authentication helpers, metrics, throttling).
 */
export interface InboundRoute {
  readonly path: string;
  /** the name the access log line and the metrics carry instead of an operation */
  readonly name: string;
  handle(ctx: HubContext, deps: PipelineDeps): Promise<void>;
}

export interface DialectModule<S = unknown, I extends DialectInstance = DialectInstance> {
  /** the value of `dialect:` in a partner file, and the key of its settings there */
  readonly name: string;
  readonly roles: readonly Role[];
  /** the partner's upstream is its own AID.02 API (section 6's rules for that API apply to it);
   * absent: the upstream is the dialect's own platform */
  readonly upstreamIsAid02?: true;
  /** the JSON Schema of the partner file's `<name>:` block; absent: the dialect takes none */
  readonly settingsSchema?: Readonly<Record<string, unknown>>;
  /** the typed settings from the block the schema accepted; problems are pushed, named by field */
  settings?(raw: unknown, context: SettingsContext, problems: string[]): S | undefined;
  /** the partner's outbound endpoints besides `upstream`, for the checks of AID.02 section 6 */
  endpoints?(settings: S): readonly { readonly name: string; readonly url: URL }[];
  /** at config load, never per request */
  build(partner: Partner, settings: S, services: DialectServices): I;
  /** the routes it serves for all its partners of one config */
  routes?(instances: readonly I[]): readonly InboundRoute[];
  /** the quick start: plays the partner's own system on loopback at its upstream URL */
  simulate?(partner: Partner, settings: S, options: SimulateOptions): Promise<{ readonly url: string; close(): Promise<void> }>;
}

export interface SimulateOptions {
  readonly host: string;
  readonly port: number;
  /** where the simulated system calls the hub back, and the credential it presents */
  readonly hubUrl: string;
  readonly callbackHeaders: Readonly<Record<string, string>>;
}

/** a partner's answer that means it took the message */
export function isSuccess(status: number): boolean {
  return status >= 200 && status < 300;
}
