/** The typed, frozen shape of a loaded configuration (routes.yaml + partners/*.yaml). */

export type Role = 'msp' | 'cmp';
export type Dialect = 'aid02';
export type TokenBindingPolicy = 'strict' | 'learn' | 'off';
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
  | { readonly kind: 'basic'; readonly username: string; readonly password: string };

export interface UpstreamTls {
  readonly cert?: Buffer;
  readonly key?: Buffer;
  readonly ca?: Buffer;
  readonly rejectUnauthorized: boolean;
}

export interface UpstreamConfig {
  readonly url: URL;
  readonly auth: OutboundAuth;
  readonly tls?: UpstreamTls;
  readonly connections: number;
}

export interface Partner {
  readonly id: string;
  readonly role: Role;
  readonly name: string;
  readonly dialect: Dialect;
  readonly file: string;
  readonly inbound: InboundCredentials;
  readonly upstream: UpstreamConfig;
}

export interface RouteSettings {
  readonly timeoutMs: number;
  readonly tokenBinding: TokenBindingPolicy;
  readonly responseValidation: ResponseValidationPolicy;
}

export interface HubSettings {
  readonly bodyLimitBytes: number;
  readonly requestIdTtlSeconds: number;
  readonly tokenBindingTtlSeconds: number;
  readonly pendingActivationTtlSeconds: number;
  readonly replayTtlSeconds: number;
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
