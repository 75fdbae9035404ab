/**
 * The seam between the hub and a partner's own system. A dialect is a module (DialectModule)
 * registered in `index.ts`: it owns its partner-file settings (schema and typed settings), builds
 * one DialectInstance per partner at config load, and that instance turns an AID.02 operation into
 * its partner's calls and back. It may serve inbound HTTP routes (callbacks, webhooks) and state
 * policies the core applies. The core names no dialect: it reads the registry.
 */
import type { DialectConfig } from '../config/dialects';
import type { HubSettings, Partner, UpstreamConfig } from '../config/types';
import type { ErrorKind } from '../errors/catalogue';
import type { Logger } from '../log';
import type { Metrics } from '../metrics/metrics';
import type { CallOperation } from '../openapi/operations';
import type { InboundRoute } from './inbound';
import type { OutboxQueue } from '../state/outbox';
import type { RecordStore } from '../state/records';
import type { Upstream, UpstreamResponse } from '../upstream/upstream';
import type { JourneySteps } from '../journeys/recorder';

export interface DialectCall {
  readonly operation: CallOperation;
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
   * while the instance's config is in service, on every hub instance, so a routine's unit of work
   * must be claimed through the record store's locks */
  readonly routines?: readonly DialectRoutine[];
  /** releases what the instance holds, once its config is retired and its routines have stopped */
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

/** work a dialect repeats in the background (not the cluster's worker processes, nor the outbox's
 * delivery worker) */
export interface DialectRoutine {
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

/** a dialect: what the config loader reads of it (DialectConfig), and what the runtime builds */
export interface DialectModule<S = unknown, I extends DialectInstance = DialectInstance> extends DialectConfig<S> {
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
