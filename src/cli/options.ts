/**
 * Every option of the command line, described once: each command names the ones it takes (its
 * `--help` lists those, its parser knows only those), so an option given to a command that has no
 * use for it is a usage error that lists what the command does take.
 */
import { parseArgs } from 'node:util';
import { UsageError } from '../errors/usageError';

interface OptionDoc {
  readonly type: 'string' | 'boolean';
  readonly short?: string;
  /** the value's name in the help (`--config DIR`) */
  readonly arg?: string;
  readonly help: string;
}

export const OPTIONS = {
  config: {
    type: 'string',
    arg: 'DIR',
    help: "folder with routes.yaml and partners/ (default: $AID_GATEWAY_CONFIG; start refuses to run without one, the other commands read the repository's example configuration)",
  },
  partners: {
    type: 'string',
    arg: 'DIR',
    help: "the partner files, when not in the config folder's partners/ (default: $AID_GATEWAY_PARTNERS; two ConfigMaps mount as two folders)",
  },
  listen: { type: 'string', arg: 'HOST:PORT', help: 'plain HTTP listener on a loopback address (default: 127.0.0.1:8080)' },
  'insecure-http': {
    type: 'string',
    arg: 'HOST:PORT',
    help: 'plain HTTP listener on any address; AID.02 section 6 requires two-way TLS, so this is for a TLS terminator in front of the hub (warned)',
  },
  'no-http': { type: 'boolean', help: 'no plain HTTP listener (TLS only)' },
  'tls-listen': { type: 'string', arg: 'HOST:PORT', help: 'TLS listener that requests and verifies partner client certificates' },
  'tls-cert': { type: 'string', arg: 'FILE', help: "the hub's server certificate (PEM)" },
  'tls-key': { type: 'string', arg: 'FILE', help: 'its private key (PEM)' },
  'tls-client-ca': {
    type: 'string',
    arg: 'FILE',
    help: 'the CA(s) that issued partner client certificates (PEM); with --trusted-proxies also what a forwarded certificate must be issued by',
  },
  'trusted-proxies': {
    type: 'string',
    arg: 'ADDRESS[/BITS],...',
    help: "load balancers that terminate the partners' TLS: from these addresses the client certificate they forward (Envoy x-forwarded-client-cert, nginx ssl-client-cert) and x-forwarded-for are believed; from any other address those headers are removed (default: $AID_GATEWAY_TRUSTED_PROXIES; --tls-client-ca's: $AID_GATEWAY_TLS_CLIENT_CA)",
  },
  'no-config-watch': {
    type: 'boolean',
    help: "reload only on SIGHUP (by default the hub also reloads when the config folder's files or the TLS files change, as a Kubernetes ConfigMap or Secret does)",
  },
  'admin-listen': {
    type: 'string',
    arg: 'HOST:PORT',
    help: "the admin listener: /metrics, /healthz, /readyz, /admin/partners (default: 127.0.0.1:9464; 'off' for none)",
  },
  'admin-user': {
    type: 'string',
    arg: 'NAME',
    help: 'require basic auth on /metrics and /admin/* with this user (default: $AID_GATEWAY_ADMIN_USER) and the password in $AID_GATEWAY_ADMIN_PASSWORD (clear or sha256:<hex>)',
  },
  workers: {
    type: 'string',
    arg: 'N',
    help: 'N hub processes sharing the ports (default: the number of cores with Redis, 1 without; more than 1 needs Redis); the primary serves the one admin listener: metrics and health of all workers',
  },
  'worker-heap-mb': {
    type: 'string',
    arg: 'N',
    help: 'V8 old space of each worker (default: 192); for a single process use NODE_OPTIONS=--max-old-space-size=N',
  },
  'max-connections': { type: 'string', arg: 'N', help: 'connections each partner listener holds open at once (default: 8192); per worker' },
  'max-connections-per-address': { type: 'string', arg: 'N', help: 'of those, from one source address (default: 256)' },
  'redis-url': {
    type: 'string',
    arg: 'URL',
    help: 'Redis for shared state, redis:// or rediss:// (default: $REDIS_URL or the file $REDIS_URL_FILE; without any Redis, in-memory state)',
  },
  'redis-cluster': {
    type: 'string',
    arg: 'URL,URL...',
    help: "a Redis Cluster instead: some of its nodes (default: $REDIS_CLUSTER); the hub's keys share one hash tag, {PREFIX}",
  },
  'redis-sentinel': {
    type: 'string',
    arg: 'HOST:PORT,HOST:PORT...',
    help: 'a Sentinel group instead, with --redis-sentinel-master NAME (default: $REDIS_SENTINEL_MASTER): the hub follows the master through failovers',
  },
  'redis-sentinel-master': { type: 'string', arg: 'NAME', help: "the Sentinel group's master name" },
  'redis-user': { type: 'string', arg: 'NAME', help: 'the ACL user (default: $REDIS_USER); its password in $REDIS_PASSWORD or the file $REDIS_PASSWORD_FILE' },
  'redis-tls': { type: 'boolean', help: 'TLS to every Redis node (implied by rediss:// URLs)' },
  'redis-ca': { type: 'string', arg: 'FILE', help: "the CA of the Redis servers' certificates (PEM)" },
  'redis-cert': { type: 'string', arg: 'FILE', help: 'a client certificate for Redis, with --redis-key FILE (PEM)' },
  'redis-key': { type: 'string', arg: 'FILE', help: "the client certificate's key (PEM)" },
  'redis-wait-replicas': {
    type: 'string',
    arg: 'N',
    help: 'a write the hub tells a partner about returns once N replicas have it (Redis WAIT; default: 0): with Sentinel or Cluster, 1 keeps a failover from losing an accepted request',
  },
  'redis-prefix': { type: 'string', arg: 'TEXT', help: 'prefix of every Redis key (default: aidgw:)' },
  all: { type: 'boolean', help: 'every dead letter' },
  'hub-url': { type: 'string', arg: 'URL', help: 'the hub the simulated partners call' },
  bind: { type: 'string', arg: 'HOST', help: "listen on HOST instead of each upstream URL's host" },
  'otlp-endpoint': {
    type: 'string',
    arg: 'URL',
    help: 'export OpenTelemetry traces over OTLP/HTTP to the collector at URL (its /v1/traces; default: $OTEL_EXPORTER_OTLP_TRACES_ENDPOINT, else $OTEL_EXPORTER_OTLP_ENDPOINT; none: no traces); sampling by $OTEL_TRACES_SAMPLER and $OTEL_TRACES_SAMPLER_ARG, the name by $OTEL_SERVICE_NAME',
  },
  'log-level': { type: 'string', arg: 'LEVEL', help: 'trace, debug, info, warn, error, fatal, silent (default: $LOG_LEVEL or info)' },
  help: { type: 'boolean', short: 'h', help: 'this text' },
} as const satisfies Record<string, OptionDoc>;

export type OptionName = keyof typeof OPTIONS;

/** the options' values as a command reads them: a string, or true for a flag */
export type Values = { readonly [K in OptionName]?: (typeof OPTIONS)[K]['type'] extends 'boolean' ? boolean : string };

/** options several commands take together */
export const REDIS_OPTIONS = [
  'redis-url',
  'redis-cluster',
  'redis-sentinel',
  'redis-sentinel-master',
  'redis-user',
  'redis-tls',
  'redis-ca',
  'redis-cert',
  'redis-key',
  'redis-wait-replicas',
  'redis-prefix',
] as const satisfies readonly OptionName[];
export const CONFIG_OPTIONS = ['config', 'partners'] as const satisfies readonly OptionName[];
export const ADMIN_OPTIONS = ['admin-listen', 'admin-user'] as const satisfies readonly OptionName[];

/** the command's own options from `argv`; anything else is a usage error naming what it takes */
export function parseOptions(argv: readonly string[], names: readonly OptionName[], command: string): { values: Values; positionals: string[] } {
  const taken = [...names, 'help' as const];
  const options = Object.fromEntries(
    taken.map((name) => {
      const doc: OptionDoc = OPTIONS[name];
      return [name, doc.short === undefined ? { type: doc.type } : { type: doc.type, short: doc.short }];
    }),
  );
  try {
    const { values, positionals } = parseArgs({ args: [...argv], options, allowPositionals: true, strict: true });
    return { values, positionals };
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? '';
    if (!code.startsWith('ERR_PARSE_ARGS')) throw err;
    const unknown = /'(-[^']*)'/.exec((err as Error).message)?.[1];
    const what =
      code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION' && unknown !== undefined ? `${command} has no option ${unknown}` : `${command}: ${(err as Error).message}`;
    throw new UsageError(`${what}; it takes ${taken.map((n) => `--${n}`).join(', ')} (aid-gateway help ${command})`);
  }
}

/** the help's lines for these options, wrapped at 100 columns */
export function optionLines(names: readonly OptionName[]): string {
  return [...names, 'help' as const]
    .map((name) => {
      const doc: OptionDoc = OPTIONS[name];
      const flag = `${doc.short ? `-${doc.short}, ` : ''}--${name}${doc.arg ? ` ${doc.arg}` : ''}`;
      const text = wrap(doc.help, 100 - 24);
      return flag.length <= 20
        ? `  ${flag.padEnd(22)}${text.join(`\n${' '.repeat(24)}`)}`
        : `  ${flag}\n${text.map((l) => `${' '.repeat(24)}${l}`).join('\n')}`;
    })
    .join('\n');
}

/** words into lines of at most `width` characters (a longer word alone on its line) */
export function wrap(text: string, width: number): string[] {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(' ')) {
    if (line !== '' && line.length + 1 + word.length > width) {
      lines.push(line);
      line = word;
    } else line = line === '' ? word : `${line} ${word}`;
  }
  return [...lines, line];
}
