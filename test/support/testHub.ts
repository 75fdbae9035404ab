/**
 * Starts the real hub for a test: config written from a template into a temporary folder, real
 * Redis (or the memory store where a test says so), log lines captured, and a client that speaks
 * AID.02 as a given partner.
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { dump as stringify } from 'js-yaml';
import { fetch as undiciFetch } from 'undici';
import type { AdminAuth } from '../../src/admin/adminApp';
import { Hub, type HubOptions, type TlsListen } from '../../src/server/hub';
import { createLogger } from '../../src/log';
import { createMetrics, type Metrics } from '../../src/metrics/metrics';
import { FakePartner } from './fakePartner';
import { paths, sendMspTokenBody } from './messages';
import { deleteKeys, REDIS_URL, uniquePrefix } from './redis';

export interface PartnerSpec {
  readonly id: string;
  readonly role: 'msp' | 'cmp';
  readonly apiKey?: string;
  readonly basic?: { readonly username: string; readonly password: string };
  readonly certificates?: readonly Record<string, unknown>[];
  readonly upstreamUrl: string;
  /** extra keys merged into the partner file */
  readonly extra?: Record<string, unknown>;
}

export interface TestHubOptions {
  readonly partners: readonly PartnerSpec[];
  readonly routes?: Record<string, unknown>;
  readonly store?: 'redis' | 'memory';
  /** share state with another test hub */
  readonly redisKeyPrefix?: string;
  /** a Redis of the test's own instead of the shared one */
  readonly redisUrl?: string;
  /** a Sentinel group or Cluster of the test's own */
  readonly redis?: HubOptions['redis'];
  readonly tls?: TlsListen;
  readonly httpListener?: boolean;
  readonly env?: NodeJS.ProcessEnv;
  readonly adminAuth?: AdminAuth;
  /** more files for the config folder (TLS material named in partner files) */
  readonly files?: Readonly<Record<string, string>>;
  readonly switchedOff?: HubOptions['switchedOff'];
  readonly connectionLimits?: HubOptions['connectionLimits'];
  /** load balancers in front (forwardedClient.ts), the partners' CA, watching the files */
  readonly trustedProxies?: HubOptions['trustedProxies'];
  readonly clientCa?: HubOptions['clientCa'];
  readonly watchFiles?: HubOptions['watchFiles'];
  /** export OpenTelemetry traces */
  readonly tracing?: HubOptions['tracing'];
  /** the store as the hub sees it (faultyStore.ts) */
  readonly wrapStore?: HubOptions['wrapStore'];
}

export interface CallOptions {
  readonly as: string;
  readonly to?: string;
  readonly method: string;
  readonly path: string;
  readonly body?: unknown;
  /** sent as is instead of JSON of `body` */
  readonly raw?: string | Uint8Array;
  readonly headers?: Record<string, string>;
  /** headers to leave out of the standard set */
  readonly omit?: readonly string[];
  readonly url?: string;
  /** the HTTP client to send with (one bound to another loopback address, say) */
  readonly dispatcher?: unknown;
}

export interface Answer {
  readonly status: number;
  readonly headers: Headers;
  readonly text: string;
  // the parsed JSON answer; tests read its fields directly
  readonly body: any;
  /** what the test hub's call sent (TestHub.call only) */
  readonly sent?: { readonly headers: Readonly<Record<string, string>>; readonly body?: string | Uint8Array };
}

export const ALL_ROUTES = { routes: [{ from: '*', to: '*' }] };

export class TestHub {
  private constructor(
    readonly hub: Hub,
    readonly dir: string,
    readonly metrics: Metrics,
    private readonly specs: readonly PartnerSpec[],
    private readonly redisPrefix: string | undefined,
    private readonly ownsPrefix: boolean,
    readonly logs: string[],
  ) {}

  static async start(options: TestHubOptions): Promise<TestHub> {
    const dir = mkdtempSync(path.join(tmpdir(), 'aidgw-test-'));
    writeConfig(dir, options.partners, unthrottled(options.routes ?? ALL_ROUTES));
    for (const [name, content] of Object.entries(options.files ?? {})) writeFileSync(path.join(dir, name), content);
    const logs: string[] = [];
    const log = createLogger({ level: 'debug', destination: { write: (line: string) => void logs.push(line) } });
    const metrics = createMetrics(undefined, { processMetrics: true });
    const useRedis = (options.store ?? 'redis') === 'redis';
    const prefix = useRedis ? (options.redisKeyPrefix ?? uniquePrefix()) : undefined;
    const hub = await Hub.start({
      configDir: dir,
      listen: options.httpListener === false ? undefined : { host: '127.0.0.1', port: 0 },
      tls: options.tls,
      redis: useRedis ? options.redis : undefined,
      redisUrl: useRedis && !options.redis ? (options.redisUrl ?? REDIS_URL) : undefined,
      redisKeyPrefix: prefix,
      log,
      metrics,
      env: options.env ?? {},
      admin: { listen: { host: '127.0.0.1', port: 0 }, auth: options.adminAuth },
      switchedOff: options.switchedOff,
      connectionLimits: options.connectionLimits,
      trustedProxies: options.trustedProxies,
      clientCa: options.clientCa,
      watchFiles: options.watchFiles,
      tracing: options.tracing,
      wrapStore: options.wrapStore,
    });
    // keys are cleaned up on the shared Redis only; a test's own Redis goes away with it
    const ownsPrefix = options.redisKeyPrefix === undefined && options.redisUrl === undefined && options.redis === undefined;
    return new TestHub(hub, dir, metrics, options.partners, prefix, ownsPrefix, logs);
  }

  get url(): string {
    return this.hub.url;
  }

  get keyPrefix(): string | undefined {
    return this.redisPrefix;
  }

  /** rewrites the config folder (for reload tests) */
  writeConfig(partners: readonly PartnerSpec[], routes: Record<string, unknown>): void {
    rmSync(path.join(this.dir, 'partners'), { recursive: true, force: true });
    writeConfig(this.dir, partners, unthrottled(routes));
  }

  /**
   * An AID.02 call as partner `as` to partner `to`. What it sends besides the test's own headers:
   * the partner's credential, unless the test names one itself (`api-key` or
   * `authorization`: then only that is sent); client-id and target-id; fresh CMP-request-id and
   * correlation-id; the JSON content type with a body. The test's headers replace these by name,
   * whatever their case, and `omit` leaves any out. `answer.sent` is exactly what went out.
   */
  async call(options: CallOptions): Promise<Answer> {
    const own = lowerCased(options.headers ?? {});
    const spec = this.specs.find((p) => p.id === options.as);
    const namesCredential = 'api-key' in own || 'authorization' in own;
    const headers: Record<string, string> = {
      ...(namesCredential ? {} : credentialOf(spec)),
      'client-id': options.as,
      ...(options.to ? { 'target-id': options.to } : {}),
      'cmp-request-id': randomUUID(),
      'correlation-id': randomUUID(),
      ...(options.body !== undefined || options.raw !== undefined ? { 'content-type': 'application/json' } : {}),
      ...own,
    };
    for (const name of options.omit ?? []) delete headers[name.toLowerCase()];
    const body = options.raw ?? (options.body === undefined ? undefined : JSON.stringify(options.body));
    const answer = await request(`${options.url ?? this.url}${options.path}`, {
      method: options.method,
      headers,
      body,
      ...(options.dispatcher ? { dispatcher: options.dispatcher } : {}),
    } as RequestInit);
    return { ...answer, sent: { headers, body } };
  }

  /** parsed log lines */
  logLines(): Record<string, unknown>[] {
    return this.logs.map((l) => JSON.parse(l) as Record<string, unknown>);
  }

  /** the sum of a metric's series matching `labels`; histogram parts by their names (`_count`, `_sum`) */
  async metric(name: string, labels: Record<string, string> = {}): Promise<number> {
    const family = (await this.metrics.registry.getMetricsAsJSON()).find((m) => m.name === name || name.startsWith(`${m.name}_`));
    const values = (family?.values ?? []) as { labels: Record<string, string | number>; value: number; metricName?: string }[];
    return values
      .filter((v) => (v.metricName ?? family?.name) === name)
      .filter((v) => Object.entries(labels).every(([k, want]) => String(v.labels[k]) === want))
      .reduce((sum, v) => sum + v.value, 0);
  }

  async close(): Promise<void> {
    await this.hub.close();
    if (this.redisPrefix && this.ownsPrefix) await deleteKeys(this.redisPrefix);
    rmSync(this.dir, { recursive: true, force: true });
  }
}

export async function request(url: string, init: RequestInit): Promise<Answer> {
  // a dispatcher of the undici package needs the fetch of the same package
  const res = await ('dispatcher' in init ? undiciFetch(url, init as Parameters<typeof undiciFetch>[1]) : fetch(url, init));
  const text = await res.text();
  let body: unknown = text;
  try {
    body = text === '' ? undefined : JSON.parse(text);
  } catch {
    body = text;
  }
  return { status: res.status, headers: res.headers, text, body };
}

/** the credential a test partner presents: its API key, else its basic credential */
function credentialOf(spec: PartnerSpec | undefined): Record<string, string> {
  if (spec?.apiKey) return { 'api-key': spec.apiKey };
  if (spec?.basic) return { authorization: basicHeader(spec.basic.username, spec.basic.password) };
  return {};
}

function lowerCased(headers: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(headers).map(([name, value]) => [name.toLowerCase(), value]));
}

export function basicHeader(username: string, password: string): string {
  return `Basic ${Buffer.from(`${username}:${password}`).toString('base64')}`;
}

/** every test sends refused credentials from 127.0.0.1: the login throttle is out of the way
 * unless a test sets its own limits (loginThrottle.test.ts) */
const UNTHROTTLED = { authFailuresPerAddressAndClient: 1000000, authFailuresPerAddress: 1000000, authFailuresPerClient: 1000000 };

function unthrottled(routes: Record<string, unknown>): Record<string, unknown> {
  return { ...routes, settings: { ...UNTHROTTLED, ...(routes.settings as Record<string, unknown> | undefined) } };
}

export function writeConfig(dir: string, partners: readonly PartnerSpec[], routes: Record<string, unknown>): void {
  mkdirSync(path.join(dir, 'partners'), { recursive: true });
  writeFileSync(path.join(dir, 'routes.yaml'), stringify(routes));
  for (const p of partners) {
    const inbound: Record<string, unknown> = {};
    if (p.apiKey) inbound.apiKeys = [p.apiKey];
    if (p.basic) inbound.basic = [p.basic];
    if (p.certificates) inbound.certificates = p.certificates;
    const file = {
      id: p.id,
      role: p.role,
      name: `${p.id} (test)`,
      inbound,
      upstream: { url: p.upstreamUrl, auth: { apiKey: `hub-key-at-${p.id}` } },
      ...p.extra,
    };
    writeFileSync(path.join(dir, 'partners', `${p.id}.yaml`), stringify(file));
  }
}

/**
 * The standard test world: two MSPs and two CMPs, each a real HTTP server on 127.0.0.1, and a hub
 * with every route open (`tokenBinding: learn`) unless the test passes routes.
 */
export interface World {
  readonly hub: TestHub;
  readonly partners: Readonly<Record<'mspA' | 'mspB' | 'cmpA' | 'cmpB', FakePartner>>;
  /** `msp` issues a token to `cmp` through the hub (Send MSP Token, 201); the token */
  onboard(msp: string, cmp: string, token?: string): Promise<string>;
  close(): Promise<void>;
}

export async function startWorld(options: Partial<TestHubOptions> = {}): Promise<World> {
  const [mspA, mspB, cmpA, cmpB] = await Promise.all([FakePartner.start(), FakePartner.start(), FakePartner.start(), FakePartner.start()]);
  const specs: PartnerSpec[] = [
    { id: 'mspA', role: 'msp', apiKey: 'key-mspA', upstreamUrl: mspA.url },
    { id: 'mspB', role: 'msp', basic: { username: 'mspB', password: 'pw-mspB' }, upstreamUrl: mspB.url },
    { id: 'cmpA', role: 'cmp', apiKey: 'key-cmpA', upstreamUrl: cmpA.url },
    { id: 'cmpB', role: 'cmp', apiKey: 'key-cmpB', upstreamUrl: cmpB.url },
  ];
  const hub = await TestHub.start({ partners: specs, ...options });
  return {
    hub,
    partners: { mspA, mspB, cmpA, cmpB },
    onboard: async (msp, cmp, token = randomUUID()) => {
      const answer = await hub.call({ as: msp, to: cmp, method: 'POST', path: paths.sendMspToken(), body: sendMspTokenBody(token) });
      if (answer.status !== 201) throw new Error(`Send MSP Token answered ${answer.status}`);
      return token;
    },
    close: async () => {
      await hub.close();
      await Promise.all([mspA, mspB, cmpA, cmpB].map((p) => p.close()));
    },
  };
}
