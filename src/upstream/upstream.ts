/**
 * Outbound HTTP to one partner: a keep-alive connection pool (undici), the partner's TLS client
 * certificate and CA, the credential the partner issued to the hub, an overall deadline per call,
 * a cap on the answer's size, the partner's circuit breaker, and its outbound rate limit (a call
 * over the limit waits for its turn instead of failing). Built when config loads, closed when a
 * reload retires it.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { Pool, errors as undiciErrors } from 'undici';
import { basicAuthorization } from '../config/credentials';
import type { OutboundAuth, Partner, RateLimit, UpstreamConfig } from '../config/types';
import type { Metrics } from '../metrics/metrics';
import type { RateLimits } from '../state/rateLimits';
import type { Store } from '../state/store';
import type { Tracing } from '../tracing/tracing';
import { PartnerAnswer } from './answer';
import { UpstreamError } from '../errors/upstreamError';
import type { Breakers } from './breakers';

export interface UpstreamRequest {
  /** the AID.02 operation this call serves: the breaker's scope may be per operation */
  readonly operation: string;
  readonly method: string;
  /** path and query, as the AID.02 spec writes them; the partner's base path is put in front */
  readonly path: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly body?: Buffer;
  readonly timeoutMs: number;
  /** a limit of the partner system's own that this call takes a slot of besides the target's (a
   * platform's per-endpoint limit), shared by every hub instance under `key` */
  readonly limit?: { readonly key: string; readonly limit: RateLimit };
}

export interface UpstreamResponse {
  readonly status: number;
  readonly contentType?: string;
  readonly retryAfter?: string;
  readonly body: Buffer;
  readonly durationMs: number;
}

/** a 5xx answer: a failure for the breaker, yet the answer the caller gets */
export class PartnerServerError extends Error {
  constructor(readonly answer: UpstreamResponse) {
    super(`the partner answered ${answer.status}`);
    this.name = 'PartnerServerError';
  }
}

/** what counts against a partner's breaker: it failed to answer, or answered 5xx */
export function isPartnerFailure(err: unknown): boolean {
  return (err instanceof UpstreamError && err.failure !== 'breakerOpen' && err.failure !== 'busy') || err instanceof PartnerServerError;
}

export interface UpstreamGuards {
  readonly breakers: Breakers;
  readonly store: Store;
  readonly metrics: Metrics;
  /** the shared rate limits, counted locally while the store is unreachable */
  readonly limits: Pick<RateLimits, 'admit'>;
  /** OpenTelemetry traces, when configured: a dialect's platform calls are spans */
  readonly tracing?: Tracing;
}

const MAX_ANSWER_BYTES = 1024 * 1024;

export class Upstream {
  private readonly pool: Pool;
  private readonly basePath: string;
  private readonly authHeaders: Readonly<Record<string, string>>;

  /**
   * @param target where to call: the partner's `upstream`, or another endpoint of it (its back
   *   office's webhook)
   * @param name the breaker's and the outbound limit's name
   */
  constructor(
    readonly partner: Partner,
    private readonly guards: UpstreamGuards,
    private readonly target: UpstreamConfig = partner.upstream,
    private readonly name: string = partner.id,
  ) {
    const { url, tls, connections } = target;
    this.basePath = url.pathname.replace(/\/+$/, '');
    this.authHeaders = authHeaders(target.auth);
    this.pool = new Pool(url.origin, {
      connections,
      pipelining: 1,
      keepAliveTimeout: 30000,
      connect: tls ? { cert: tls.cert, key: tls.key, ca: tls.ca, rejectUnauthorized: tls.rejectUnauthorized } : undefined,
    });
  }

  request(req: UpstreamRequest): Promise<UpstreamResponse> {
    const { tracing } = this.guards;
    if (tracing === undefined) return this.guarded(req);
    return tracing.platformCall(this.name, this.target.url, req, () => this.guarded(req));
  }

  /** the call within its outbound limit and breaker */
  private async guarded(req: UpstreamRequest): Promise<UpstreamResponse> {
    const limited = this.target.rateLimit !== undefined || req.limit !== undefined;
    const waitedMs = limited ? await this.waitForTurn(req) : 0;
    const breaker = this.guards.breakers.for(this.name, req.operation, this.target.breaker);
    try {
      return await breaker.fire(() => this.send(waitedMs === 0 ? req : { ...req, timeoutMs: req.timeoutMs - waitedMs }));
    } catch (err) {
      if (err instanceof PartnerServerError) return err.answer;
      throw err;
    }
  }

  /** the outbound rate limit (asked only where one is set): waits for the next free slot, for at
   * most half the call's time */
  private async waitForTurn(req: UpstreamRequest): Promise<number> {
    const limit = this.target.rateLimit;
    const checks = [
      ...(limit ? [{ key: `out:${this.name}`, limit }] : []),
      ...(req.limit ? [{ key: `out:${this.name}:${req.limit.key}`, limit: req.limit.limit }] : []),
    ];
    const maxWaitMs = Math.floor(req.timeoutMs / 2);
    const slot = await this.guards.limits.admit(checks, maxWaitMs);
    if (!slot.allowed) {
      throw new UpstreamError('busy', `its rate limit leaves no slot within ${maxWaitMs} ms`, { retryAfterMs: slot.waitMs });
    }
    this.guards.metrics.outboundDelay.observe({ target: this.name }, slot.waitMs / 1000);
    if (slot.waitMs > 0) await sleep(slot.waitMs);
    return slot.waitMs;
  }

  /** one call under one deadline, read by a handler of undici's dispatcher (answer.ts) */
  private send(req: UpstreamRequest): Promise<UpstreamResponse> {
    return new Promise((resolve, reject) => {
      const answer = new PartnerAnswer(req.timeoutMs, MAX_ANSWER_BYTES, (err, response) => {
        if (response === undefined) reject(classify(err));
        else if (response.status >= 500) reject(new PartnerServerError(response));
        else resolve(response);
      });
      this.pool.dispatch({ method: req.method, path: this.basePath + req.path || '/', headers: this.withAuth(req.headers), body: req.body }, answer);
    });
  }

  /** the call's headers with the credential the partner issued to the hub */
  private withAuth(headers: Readonly<Record<string, string>>): Record<string, string> {
    const all: Record<string, string> = {};
    for (const name in headers) all[name] = headers[name];
    for (const name in this.authHeaders) all[name] = this.authHeaders[name];
    return all;
  }

  /** resolves when the calls in flight have finished */
  async close(): Promise<void> {
    await this.pool.close();
  }
}

function authHeaders(auth: OutboundAuth): Record<string, string> {
  switch (auth.kind) {
    case 'apiKey':
      return { 'api-key': auth.apiKey };
    case 'basic':
      return { authorization: basicAuthorization(auth.username, auth.password) };
    case 'bearer':
      return { authorization: `Bearer ${auth.token}` };
    case 'none':
      return {};
  }
}

/** the seconds a (sane) Retry-After asks to wait: its number, or the time until its date */
export function retryAfterSeconds(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  if (/^[0-9]+$/.test(value)) return Number(value);
  const at = Date.parse(value);
  return Number.isNaN(at) ? undefined : Math.max(0, Math.ceil((at - Date.now()) / 1000));
}

const TLS_CODES = /^(ERR_TLS_|ERR_SSL_|CERT_|UNABLE_TO_|DEPTH_ZERO|SELF_SIGNED|HOSTNAME_MISMATCH)/;

function classify(err: unknown): UpstreamError {
  if (err instanceof UpstreamError) return err;
  if (err instanceof undiciErrors.HeadersTimeoutError || err instanceof undiciErrors.BodyTimeoutError) {
    return new UpstreamError('timeout', 'no answer in time', { cause: err });
  }
  if (err instanceof undiciErrors.ConnectTimeoutError) {
    return new UpstreamError('network', 'connection timed out', { cause: err });
  }
  // the message reaches the caller's answer: the library's code and text stay in the cause, for the log
  const code = (err as { code?: string }).code ?? '';
  if (code === 'ECONNREFUSED') return new UpstreamError('refused', 'connection refused', { cause: err });
  if (TLS_CODES.test(code)) return new UpstreamError('tls', 'TLS handshake failed', { cause: err });
  return new UpstreamError('network', 'network error', { cause: err });
}
