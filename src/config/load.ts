/**
 * Loads routes.yaml and partners/*.yaml from a config folder: parse, substitute `${ENV}`, check
 * against the schema, apply defaults, cross-check routes against partners, freeze. Every problem
 * names the file, the partner or route, and the field; all problems are reported at once.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { load as parse } from 'js-yaml';
import { callerRoleOf, isOperationId, otherRole } from '../openapi/operations';
import { dialectNamed, type DialectConfigs } from './dialects';
import { hasCredential, inboundCredentials, outboundAuth, type RawAuth, type RawInbound } from './credentials';
import { substituteEnv } from './env';
import { compileRoutes, RouteDefinition } from './routeTable';
import { checkSchema } from './schema';
import { SourcePositions } from './sourcePositions';
import { checkPlainHttp } from './loopback';
import { rateLimitOf, type RawRateLimit } from './rateLimit';
import { touchpointOf, type RawTouchpoint } from './touchpoint';
import { tlsFileProblems } from './tlsFiles';
import type { BreakerSettings, Config, HubSettings, Partner, RetrySettings, Role, RouteSettings, UpstreamTls } from './types';

export class ConfigError extends Error {
  constructor(readonly problems: readonly string[]) {
    super(`invalid configuration:\n  ${problems.join('\n  ')}`);
    this.name = 'ConfigError';
  }
}

/** AID.02 section 7.7.1: a synchronous activation code must come within 3 seconds */
const DEFAULT_TIMEOUT_MS: Readonly<Record<string, number>> = { requestActivationCode: 3000 };
const FALLBACK_TIMEOUT_MS = 10000;

/** about 40 MB of heap at the entry sizes of AID.02 traffic (npm run bench:memory; docs/operating/security.md) */
export const DEFAULT_MEMORY_STORE_MAX_ENTRIES = 100000;

export const DEFAULT_SETTINGS: HubSettings = {
  bodyLimitBytes: 64 * 1024,
  requestIdTtlSeconds: 24 * 3600,
  tokenBindingTtlSeconds: 400 * 24 * 3600,
  pendingActivationTtlSeconds: 72 * 3600,
  replayTtlSeconds: 7 * 24 * 3600,
  outboxHorizonSeconds: 24 * 3600,
  outboxRetryBaseMs: 1000,
  outboxRetryMaxMs: 5 * 60 * 1000,
  outboxClaimIdleMs: 30000,
  outboxPollMs: 250,
  memoryStoreMaxEntries: DEFAULT_MEMORY_STORE_MAX_ENTRIES,
  authFailuresPerAddressAndClient: 20,
  authFailuresPerAddress: 100,
  authFailuresPerClient: 100,
  authFailureWindowSeconds: 300,
  environment: 'production',
  journeys: true,
  journeyMaxEvents: 100,
  journeyFullIdentifiers: false,
  journeyStuckAwaitingCodeSeconds: 15 * 60,
  journeyStuckAwaitingCsimStatusSeconds: 6 * 3600,
};

const DEFAULT_BREAKER: BreakerSettings = {
  scope: 'partner',
  errorThresholdPercentage: 50,
  volumeThreshold: 5,
  windowMs: 10000,
  resetTimeoutMs: 10000,
};

const DEFAULT_RETRIES: RetrySettings = { attempts: 2, baseDelayMs: 100, maxDelayMs: 2000 };

interface RawPartner {
  id: string;
  role: Role;
  name?: string;
  touchpoint?: RawTouchpoint;
  dialect?: string;
  rateLimit?: RawRateLimit;
  inbound: RawInbound;
  upstream: {
    url: string;
    insecure?: boolean;
    auth?: RawAuth;
    tls?: { cert?: string; key?: string; ca?: string; rejectUnauthorized?: boolean };
    connections?: number;
    rateLimit?: RawRateLimit;
    breaker?: Partial<BreakerSettings>;
  };
}

type Policy = Partial<Omit<RouteSettings, 'rateLimit' | 'retries'>> & { rateLimit?: RawRateLimit; retries?: Partial<RetrySettings> };
interface RawRoutes {
  settings?: Partial<HubSettings>;
  defaults?: Policy;
  routes: (Policy & { from: string; to: string; operations?: string[] })[];
}

/** the files loadConfig reads: a change to any of them is a new configuration (contentWatch.ts) */
export function configFiles(dir: string, partnersDir = path.join(dir, 'partners')): string[] {
  let partners: string[] = [];
  try {
    partners = readdirSync(partnersDir)
      .filter((f) => /\.ya?ml$/.test(f))
      .map((f) => path.join(partnersDir, f));
  } catch {
    // no partners folder: loadConfig says so when it runs
  }
  return [path.join(dir, 'routes.yaml'), ...partners];
}

/** `dialects`: the registry's; `partnersDir`: where the partner files are when not in `dir/partners`
 * (a second ConfigMap) */
export function loadConfig(dir: string, dialects: DialectConfigs, env: NodeJS.ProcessEnv = process.env, partnersDir = path.join(dir, 'partners')): Config {
  const problems: string[] = [];
  const sources = new Map<string, string>();
  const { partners, declared } = loadPartners(dir, partnersDir, dialects, env, problems, sources);
  const routesFile = path.join(dir, 'routes.yaml');
  const raw = readYaml<RawRoutes>(routesFile, 'routes', dialects, env, problems, sources);
  // the routes are checked even when a partner file has problems: every problem is told at once
  if (raw === undefined) throw new ConfigError(located(problems, sources));

  const defaults = raw.defaults ?? {};
  const definitions: RouteDefinition[] = raw.routes.map((route, i) => {
    const where = `routes.yaml: routes[${i}]`;
    checkRouteEnds(route, partners, declared, where, problems);
    return {
      from: route.from,
      to: route.to,
      operations: route.operations,
      where,
      settings: (op: string): RouteSettings => ({
        timeoutMs: route.timeoutMs ?? defaults.timeoutMs ?? DEFAULT_TIMEOUT_MS[op] ?? FALLBACK_TIMEOUT_MS,
        tokenBinding: route.tokenBinding ?? defaults.tokenBinding ?? 'learn',
        responseValidation: route.responseValidation ?? defaults.responseValidation ?? 'warn',
        rateLimit: rateLimitOf(route.rateLimit ?? defaults.rateLimit),
        retries: Object.freeze({ ...DEFAULT_RETRIES, ...defaults.retries, ...route.retries }),
        bridge: route.bridge ?? defaults.bridge ?? true,
        bridgeTimeoutMs: route.bridgeTimeoutMs ?? defaults.bridgeTimeoutMs ?? 60000,
        storeAndForward: route.storeAndForward ?? defaults.storeAndForward ?? false,
        correlation: route.correlation ?? defaults.correlation ?? 'off',
      }),
    };
  });
  const routes = compileRoutes(definitions, problems);
  if (problems.length > 0) throw new ConfigError(located(problems, sources));
  return Object.freeze({
    dir,
    partners,
    routes,
    settings: Object.freeze({ ...DEFAULT_SETTINGS, ...raw.settings }),
  });
}

/**
 * Each problem with the line and column of the field it names, where the file and field are known:
 * `partners/x.yaml:4:12 (partner mspX): inbound.apiKey: unknown key`.
 */
function located(problems: readonly string[], sources: ReadonlyMap<string, string>): string[] {
  const positions = new Map<string, SourcePositions>();
  return problems.map((problem) => {
    const match = /^(\S+?)( \(partner [^)]*\))?: ([^:\s]+): /.exec(problem);
    const text = match ? sources.get(match[1]) : undefined;
    if (!match || text === undefined) return problem;
    let source = positions.get(match[1]);
    if (!source) positions.set(match[1], (source = new SourcePositions(text)));
    const at = source.of(match[3]);
    return at === undefined ? problem : `${match[1]}:${at}${problem.slice(match[1].length)}`;
  });
}

/** `dir`: the config folder, that relative file names in partner files start from; `declared`: the
 * ids every partner file gives, those with problems too, which routes may name */
function loadPartners(
  dir: string,
  partnersDir: string,
  dialects: DialectConfigs,
  env: NodeJS.ProcessEnv,
  problems: string[],
  sources: Map<string, string>,
): { partners: Map<string, Partner>; declared: Set<string> } {
  const partners = new Map<string, Partner>();
  const declared = new Set<string>();
  let files: string[];
  try {
    files = readdirSync(partnersDir)
      .filter((f) => /\.ya?ml$/.test(f))
      .sort();
  } catch (err) {
    problems.push(`${partnersDir}: cannot read the partners folder (${(err as Error).message})`);
    return { partners, declared };
  }
  for (const file of files) {
    const where = `partners/${file}`;
    const raw = readYaml<RawPartner>(path.join(partnersDir, file), 'partner', dialects, env, problems, sources, where, declared);
    if (raw === undefined) continue;
    const existing = partners.get(raw.id);
    if (existing) {
      problems.push(`${where}: id ${raw.id} is already used by ${existing.file}`);
      continue;
    }
    const partner = buildPartner(raw, dir, where, dialects, problems);
    if (partner) partners.set(partner.id, partner);
  }
  return { partners, declared };
}

function readYaml<T>(
  file: string,
  kind: 'partner' | 'routes',
  dialects: DialectConfigs,
  env: NodeJS.ProcessEnv,
  problems: string[],
  sources: Map<string, string>,
  where = path.basename(file),
  declared?: Set<string>,
): T | undefined {
  let parsed: unknown;
  try {
    const text = readFileSync(file, 'utf8');
    sources.set(where, text);
    parsed = parse(text);
  } catch (err) {
    problems.push(`${where}: ${(err as Error).message.split('\n')[0]}`);
    return undefined;
  }
  const envProblems: string[] = [];
  const data = substituteEnv(parsed, env, envProblems);
  // an unset variable leaves an empty string, which the schema would report a second time
  const all = envProblems.length > 0 ? envProblems : checkSchema(kind, data, dialects);
  const id = kind === 'partner' && data && typeof data === 'object' ? (data as { id?: unknown }).id : undefined;
  const label = typeof id === 'string' ? `${where} (partner ${id})` : where;
  if (typeof id === 'string') declared?.add(id);
  problems.push(...all.map((p) => `${label}: ${p}`));
  return all.length === 0 ? (data as T) : undefined;
}

function buildPartner(raw: RawPartner, dir: string, where: string, dialects: DialectConfigs, problems: string[]): Partner | undefined {
  const tls = raw.upstream.tls ? readTls(raw.upstream.tls, dir, where, problems) : undefined;
  checkPlainHttp(raw.upstream, 'upstream', where, problems);
  if (!hasCredential(raw.inbound)) {
    problems.push(`${where}: inbound: at least one of apiKeys, basic, certificates is required`);
    return undefined;
  }
  const breaker: BreakerSettings = Object.freeze({ ...DEFAULT_BREAKER, ...raw.upstream.breaker });
  const dialect = raw.dialect ?? 'aid02';
  const before = problems.length;
  const settings = dialectSettings(raw, dialects, dialect, { where, dir, breaker }, problems);
  const touchpoint = touchpointOf(raw.touchpoint, where, problems);
  if (problems.length > before) return undefined;
  return Object.freeze({
    id: raw.id,
    role: raw.role,
    name: raw.name ?? raw.id,
    dialect,
    touchpoint,
    file: where,
    rateLimit: rateLimitOf(raw.rateLimit),
    inbound: inboundCredentials(raw.inbound),
    upstream: Object.freeze({
      url: new URL(raw.upstream.url),
      auth: outboundAuth(raw.upstream.auth),
      tls,
      connections: raw.upstream.connections ?? 32,
      breaker,
      rateLimit: rateLimitOf(raw.upstream.rateLimit),
    }),
    settings,
  });
}

/**
 * The dialect's typed settings from its block of the partner file (`<dialect name>:`, checked by
 * the schema against the dialect's own): the dialect must serve the partner's role, its block
 * belongs to it alone, and the dialect builds what it needs from it.
 */
function dialectSettings(
  raw: RawPartner,
  dialects: DialectConfigs,
  name: string,
  context: { where: string; dir: string; breaker: BreakerSettings },
  problems: string[],
): unknown {
  const module = dialectNamed(dialects, name);
  const { where } = context;
  if (!module.roles.includes(raw.role)) problems.push(`${where}: dialect ${name} is for ${module.roles.map((r) => `${r.toUpperCase()}s`).join(' and ')}`);
  const blocks = raw as unknown as Record<string, unknown>;
  for (const other of dialectBlocks(blocks, dialects)) {
    if (other !== name) problems.push(`${where}: ${other}: only allowed with dialect ${other}`);
  }
  if (!module.settings) return undefined;
  if (blocks[name] === undefined) {
    problems.push(`${where}: ${name}: required with dialect ${name}`);
    return undefined;
  }
  return module.settings(blocks[name], context, problems);
}

/** the dialect settings blocks present in a partner file */
function dialectBlocks(raw: Record<string, unknown>, dialects: DialectConfigs): string[] {
  return Object.keys(raw).filter((key) => raw[key] !== undefined && dialects.some((d) => d.name === key));
}

function readTls(tls: NonNullable<RawPartner['upstream']['tls']>, dir: string, where: string, problems: string[]): UpstreamTls {
  const read = (field: 'cert' | 'key' | 'ca'): { file: string; pem: Buffer } | undefined => {
    const file = tls[field];
    if (file === undefined) return undefined;
    try {
      return { file, pem: readFileSync(path.resolve(dir, file)) };
    } catch (err) {
      problems.push(`${where}: upstream.tls.${field}: cannot read ${file} (${(err as Error).message})`);
      return undefined;
    }
  };
  const files = { cert: read('cert'), key: read('key'), ca: read('ca') };
  problems.push(...tlsFileProblems(files, where));
  return { cert: files.cert?.pem, key: files.key?.pem, ca: files.ca?.pem, rejectUnauthorized: tls.rejectUnauthorized ?? true };
}

/** `declared`: the ids of every partner file; one whose file has problems (already told) is named, not unknown */
function checkRouteEnds(
  route: RawRoutes['routes'][number],
  partners: ReadonlyMap<string, Partner>,
  declared: ReadonlySet<string>,
  where: string,
  problems: string[],
): void {
  const from = route.from === '*' ? undefined : partners.get(route.from);
  const to = route.to === '*' ? undefined : partners.get(route.to);
  if (route.from !== '*' && !from && !declared.has(route.from)) problems.push(`${where}.from: no partner has the id ${route.from}`);
  if (route.to !== '*' && !to && !declared.has(route.to)) problems.push(`${where}.to: no partner has the id ${route.to}`);
  if (from && to && from.role === to.role) {
    problems.push(`${where}: ${route.from} and ${route.to} are both ${from.role}s; a route joins an MSP and a CMP`);
  }
  const callerRole = from?.role ?? (to ? otherRole(to.role) : undefined);
  for (const op of route.operations ?? []) {
    if (callerRole && isOperationId(op) && callerRoleOf(op) !== callerRole) {
      problems.push(`${where}.operations: ${op} is called by ${callerRoleOf(op)}s, not by ${callerRole}s`);
    }
  }
}
