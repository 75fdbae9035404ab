/** The typed, frozen shape of a loaded configuration (routes.yaml + partners/*.yaml). */
import type { AgreedRedirect } from './redirectPolicy';

import type { Role } from '../openapi/operations';

export type { Role };
export type TokenBindingPolicy = 'strict' | 'learn' | 'off';
/** Send Activation Code's correlation-id against its request's (AID.02 5.1, code 92) */
export type CorrelationPolicy = 'strict' | 'off';
export type ResponseValidationPolicy = 'off' | 'warn' | 'refuse';

export interface BasicCredential {
  readonly username: string;
  readonly passwordDigest: Buffer;
}

export interface CertificateBinding {
  /** SHA-256 fingerprint, upper-case hex with colons, as Node reports it */
  readonly fingerprint256?: string;
  /** every attribute listed must equal the certificate subject's */
  readonly subject?: Readonly<Record<string, string>>;
}

export interface InboundCredentials {
  readonly apiKeyDigests: readonly Buffer[];
  readonly basic: readonly BasicCredential[];
  readonly certificates: readonly CertificateBinding[];
}

export type OutboundAuth =
  | { readonly kind: 'none' }
  | { readonly kind: 'apiKey'; readonly apiKey: string }
  | { readonly kind: 'basic'; readonly username: string; readonly password: string }
  | { readonly kind: 'bearer'; readonly token: string };

export interface UpstreamTls {
  readonly cert?: Buffer;
  readonly key?: Buffer;
  readonly ca?: Buffer;
  readonly rejectUnauthorized: boolean;
}

/** GCRA: `requests` per `perSeconds`, with bursts of up to `burst` requests at once */
export interface RateLimit {
  readonly requests: number;
  readonly perSeconds: number;
  readonly burst: number;
}

export interface BreakerSettings {
  /** one breaker for the partner, or one per partner and operation */
  readonly scope: 'partner' | 'operation';
  readonly errorThresholdPercentage: number;
  /** calls in the window before the breaker may open at all */
  readonly volumeThreshold: number;
  readonly windowMs: number;
  /** how long an open breaker waits before letting a probe through */
  readonly resetTimeoutMs: number;
}

export interface UpstreamConfig {
  readonly url: URL;
  readonly auth: OutboundAuth;
  readonly tls?: UpstreamTls;
  readonly connections: number;
  readonly breaker: BreakerSettings;
  /** calls beyond it wait for their turn instead of failing */
  readonly rateLimit?: RateLimit;
}

/** `any`: one of the configured kinds of credential (certificate, or key / basic) is enough; `all`: each */
export type CredentialsRequired = 'any' | 'all';

export interface Partner {
  readonly id: string;
  readonly role: Role;
  readonly name: string;
  /** the name of its dialect module (dialects/index.ts) */
  readonly dialect: string;
  readonly file: string;
  readonly inbound: InboundCredentials;
  /** what this partner may send to the hub, over all its routes */
  readonly rateLimit?: RateLimit;
  readonly upstream: UpstreamConfig;
  /** its dialect's typed settings (the partner file's block named after the dialect) */
  readonly settings?: unknown;
  /** its portal and agreed redirects, for onboarding in a browser (AID.02 4.1, 4.2, 7.1, 7.2) */
  readonly touchpoint?: Touchpoint;
}

export type Environment = 'production' | 'preproduction';

export interface Touchpoint {
  readonly displayName: string;
  readonly logoUrl?: string;
  /** the portal's login URL per environment */
  readonly portal: ReadonlyMap<Environment, URL>;
  /** where the partner's touchpoint may be sent back to (touchpoints/redirectPolicy.ts) */
  readonly redirects: readonly AgreedRedirect[];
}

export interface RetrySettings {
  /** further attempts after the first; only idempotent operations are ever retried */
  readonly attempts: number;
  readonly baseDelayMs: number;
  readonly maxDelayMs: number;
}

export interface RouteSettings {
  readonly timeoutMs: number;
  readonly tokenBinding: TokenBindingPolicy;
  readonly responseValidation: ResponseValidationPolicy;
  readonly rateLimit?: RateLimit;
  readonly retries: RetrySettings;
  /** Request Activation Code: answer 201 when the MSP is slower than `timeoutMs`, deliver later */
  readonly bridge: boolean;
  /** how long a bridged request waits for the MSP before the CMP is sent an error */
  readonly bridgeTimeoutMs: number;
  /** Send CSIM Status: answer 201 once stored, deliver through the outbox */
  readonly storeAndForward: boolean;
  readonly correlation: CorrelationPolicy;
}

export interface HubSettings {
  readonly bodyLimitBytes: number;
  readonly requestIdTtlSeconds: number;
  readonly tokenBindingTtlSeconds: number;
  readonly pendingActivationTtlSeconds: number;
  readonly replayTtlSeconds: number;
  /** how long the outbox keeps trying a delivery before it goes to the dead letters */
  readonly outboxHorizonSeconds: number;
  /** backoff between attempts: base doubling per attempt up to max, with jitter */
  readonly outboxRetryBaseMs: number;
  readonly outboxRetryMaxMs: number;
  /** a delivery taken by an instance that went quiet this long is claimed by another */
  readonly outboxClaimIdleMs: number;
  readonly outboxPollMs: number;
  /** the in-memory store's cap on entries (state/memory/expiringMap.ts); Redis is bounded by its maxmemory */
  readonly memoryStoreMaxEntries: number;
  /** failed authentications in a window (loginThrottle.ts): past the first, that address's
   * requests for that client-id are 429 until it ends; past the second, that address's requests
   * (but for a client-id it has proven) are; past the third, that client-id's requests from
   * addresses that have not proven it are slowed, never refused */
  readonly authFailuresPerAddressAndClient: number;
  readonly authFailuresPerAddress: number;
  readonly authFailuresPerClient: number;
  readonly authFailureWindowSeconds: number;
  /** which of the partners' portal URLs the touchpoint redirects use */
  readonly environment: Environment;
  /** activation journeys (journeys/): recorded or not, events kept per journey, EIDs and ICCIDs
   * in full or masked, and how long a journey waits at a stage before it counts as stuck */
  readonly journeys: boolean;
  readonly journeyMaxEvents: number;
  readonly journeyFullIdentifiers: boolean;
  readonly journeyStuckAwaitingCodeSeconds: number;
  readonly journeyStuckAwaitingCsimStatusSeconds: number;
}

export interface Config {
  readonly dir: string;
  readonly partners: ReadonlyMap<string, Partner>;
  readonly routes: RouteLookup;
  readonly settings: HubSettings;
}

export interface RouteLookup {
  /** the settings of the route from `from` to `to` for `operationId`, or undefined when not allowed */
  find(from: string, to: string, operationId: string): RouteSettings | undefined;
  readonly size: number;
}
