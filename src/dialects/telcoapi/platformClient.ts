/**
 * The client of one operator's eSIM management platform (seed "TelcoAPI", `/api/v1/esim`), called
 * through the same upstream layer as every partner (its pool, TLS, credential, deadline, breaker).
 * Each call also takes a slot of the platform's own limit for its endpoint (seed: Rate Limits),
 * shared by every hub instance. A 429 (`RATE_LIMIT_EXCEEDED`) is no failure of the platform: the
 * call waits the Retry-After the platform gave and tries again while the caller's time allows, and
 * never counts against the breaker (only 5xx and no answer do). Any other answer that is not a
 * success is a PlatformError with the platform's code, and its message without anything
 * credential-like (a platform may quote the credential it refused).
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { OutboundAuth } from '../../config/types';
import type { Logger } from '../../log';
import { retryAfterSeconds, type Upstream } from '../../upstream/upstream';
import { UpstreamError } from '../../errors/upstreamError';
import { remaining } from '../../hostedMsp/operations';
import { PlatformError } from './errorMapping';
import type { TelcoapiMetrics } from './metrics';
import type { LimitedEndpoint, TelcoapiSettings } from './settings';

export const PLATFORM_PATH = '/api/v1/esim';

export const PLATFORM_FUNCTIONS = [
  'getDevice',
  'registerDevice',
  'checkCompatibility',
  'deviceProfiles',
  'createProfile',
  'getProfile',
  'generateActivationCode',
  'deleteProfile',
  'disableProfile',
] as const;
export type PlatformFunction = (typeof PLATFORM_FUNCTIONS)[number];

const LIMIT_OF: Partial<Record<PlatformFunction, LimitedEndpoint>> = {
  registerDevice: 'deviceRegistration',
  createProfile: 'profileCreation',
  generateActivationCode: 'activationCodeGeneration',
};

/** 429s waited out within one call before its caller is told to come back later */
const MAX_RATE_LIMITED_TRIES = 3;
/** a wait that would leave less than this of the caller's time is not waited */
const MARGIN_MS = 250;

export interface PlatformRequest {
  readonly method: 'GET' | 'POST' | 'DELETE';
  /** below /api/v1/esim */
  readonly path: string;
  readonly body?: unknown;
  /** statuses the caller expects and handles (a device not registered yet, a profile gone): logged at debug */
  readonly expected?: readonly number[];
}

export interface PlatformAnswer {
  readonly status: number;
  /** the answer when it is a JSON object, else empty */
  readonly json: Record<string, unknown>;
  /** the answer as parsed (an array, say); undefined without JSON */
  readonly value: unknown;
}

export class PlatformClient {
  /** what the hub was configured with that a platform's words must never carry into a log */
  private readonly secrets: readonly string[];

  constructor(
    private readonly upstream: Upstream,
    private readonly settings: TelcoapiSettings,
    private readonly metrics: TelcoapiMetrics,
  ) {
    this.secrets = [
      ...credentialsOf(upstream.partner.upstream.auth),
      ...(settings.webhook ? credentialsOf(settings.webhook.auth) : []),
      ...settings.webhookSecrets,
    ];
  }

  /** the platform's own words, fit for a log: nothing credential-like, no ICCID or EID */
  wordsFit(text: string): string {
    return withoutIdentifiers(withoutCredentials(text, this.secrets));
  }

  private get msp(): string {
    return this.upstream.partner.id;
  }

  /** the platform's answer to `fn`; PlatformError for an error answer, UpstreamError without one */
  async call(fn: PlatformFunction, req: PlatformRequest, deadline: number, log: Logger): Promise<PlatformAnswer> {
    const labels = { msp: this.msp, function: fn };
    const endpoint = LIMIT_OF[fn];
    for (let tries = 1; ; tries++) {
      let answer;
      try {
        answer = await this.upstream.request({
          operation: `telcoapi.${fn}`,
          method: req.method,
          path: `${PLATFORM_PATH}${req.path}`,
          headers: { accept: 'application/json', ...(req.body === undefined ? {} : { 'content-type': 'application/json' }) },
          body: req.body === undefined ? undefined : Buffer.from(JSON.stringify(req.body)),
          timeoutMs: remaining(deadline, `the platform's ${fn}`),
          limit: endpoint && { key: endpoint, limit: this.settings.rateLimits[endpoint] },
        });
      } catch (err) {
        if (err instanceof UpstreamError) this.metrics.calls.inc({ ...labels, outcome: err.failure });
        throw err;
      }
      this.metrics.duration.observe(labels, answer.durationMs / 1000);
      const value = parseJson(answer.body);
      const json = isObject(value) ? value : undefined;
      if (answer.status >= 200 && answer.status < 300) {
        this.metrics.calls.inc({ ...labels, outcome: 'ok' });
        return { status: answer.status, json: json ?? {}, value };
      }
      const error = platformErrorOf(answer.status, json, answer.retryAfter, this.secrets);
      this.metrics.calls.inc({ ...labels, outcome: error.code });
      if (answer.status === 429) {
        const waitMs = (error.retryAfterSeconds ?? 1) * 1000;
        if (tries < MAX_RATE_LIMITED_TRIES && Date.now() + waitMs < deadline - MARGIN_MS) {
          log.info({ function: fn, waitMs }, "the platform's rate limit: waiting as its Retry-After says");
          await sleep(waitMs);
          continue;
        }
      }
      // the platform's own words may name a profile or a device: long digit runs are left out
      const refusal = { function: fn, httpStatus: answer.status, code: error.code, message: withoutIdentifiers(error.message) };
      if (req.expected?.includes(answer.status)) log.debug(refusal, 'the platform answered as the hub may expect');
      else log.warn(refusal, 'the platform refused');
      throw error;
    }
  }
}

function parseJson(body: Buffer): unknown {
  if (body.length === 0) return undefined;
  try {
    return JSON.parse(body.toString('utf8'));
  } catch {
    return undefined;
  }
}

export function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** seed: `{error, message, details?, timestamp}`; an answer without one is named by its status */
function platformErrorOf(status: number, json: Record<string, unknown> | undefined, retryAfter: string | undefined, secrets: readonly string[]): PlatformError {
  const code = typeof json?.error === 'string' && /^[A-Z_]{1,64}$/.test(json.error) ? json.error : `HTTP_${status}`;
  // cut after the credentials are out: a cut through one would leave its start
  const message = typeof json?.message === 'string' ? withoutCredentials(json.message, secrets).slice(0, 200) : '';
  const details = isObject(json?.details) ? json.details : undefined;
  const field = typeof details?.field === 'string' ? details.field.slice(0, 64) : undefined;
  return new PlatformError(status, code, message, retryAfterSeconds(retryAfter), field);
}

function credentialsOf(auth: OutboundAuth): string[] {
  if (auth.kind === 'bearer') return [auth.token];
  if (auth.kind === 'apiKey') return [auth.apiKey];
  if (auth.kind === 'basic') return [auth.password, Buffer.from(`${auth.username}:${auth.password}`).toString('base64')];
  return [];
}

/** a credential's name, then `:` or `=` and its value */
const NAMED_CREDENTIAL = /\b((?:api[-_ ]?)?(?:key|token|secret|password|passwd|credential|authorization)s?)(["']?\s*[:=]\s*["']?)[^\s"',;]+/gi;
/** an HTTP authorization scheme and a credential after it (8 characters at least: "a bearer token" is prose) */
const SCHEME_CREDENTIAL = /\b(Bearer|Basic|Digest|ApiKey)\s+[^\s"',;]{8,}/gi;
/** a run of token characters long enough to be a key, with letters and digits both (a JWT, a hex or base64 secret) */
const TOKEN_LIKE = /[A-Za-z0-9+/=._~-]{24,}/g;

/**
 * A platform's words without anything credential-like: the hub's configured credentials and
 * webhook secrets wherever they appear, what follows an authorization scheme or a credential's
 * name, and long runs of token characters mixing letters and digits.
 */
export function withoutCredentials(text: string, secrets: readonly string[]): string {
  let cleaned = text;
  for (const secret of secrets) if (secret.length >= 4) cleaned = cleaned.split(secret).join('[secret]');
  return cleaned
    .replace(SCHEME_CREDENTIAL, '$1 [secret]')
    .replace(NAMED_CREDENTIAL, '$1$2[secret]')
    .replace(TOKEN_LIKE, (run) => (/[A-Za-z]/.test(run) && /[0-9]/.test(run) ? '[secret]' : run));
}

/** ICCIDs (19-20 digits) and EIDs (32) never go into a log */
export function withoutIdentifiers(text: string): string {
  return text.replace(/[0-9]{15,}[fF]?/g, '[number]');
}
