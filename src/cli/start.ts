/** `aid-gateway start`: serves a configuration, in one process or as --workers sharing the ports. */
import { availableParallelism } from 'node:os';
import { isIP } from 'node:net';
import { Hub, type Listen, type TlsListen } from '../server/hub';
import { DEFAULT_CONNECTION_LIMITS } from '../edge/listener';
import { isLoopbackHost } from '../config/loopback';
import type { Logger } from '../log';
import { SWITCH_OFF_ENV, switchedOff, type Switchable } from '../measurementSwitches';
import type { RedisAccess } from '../state/redis/connection';
import { isPrimary, runWorkers } from '../server/cluster';
import { commandHelp, SECRETS_NOTE, SIGNALS_NOTE, type Command } from './command';
import { adminOptions, configDirs, loggerFrom } from './commonOptions';
import { usage } from './exit';
import { parseListen } from './listenAddress';
import { ADMIN_OPTIONS, CONFIG_OPTIONS, parseOptions, REDIS_OPTIONS, type OptionName, type Values } from './options';
import { redisAccessFrom } from './redisAccess';
import { tracingSettings } from '../tracing/settings';
import { serve, stopIgnoringHangups } from './serve';
import { UsageError } from '../errors/usageError';

const OPTION_NAMES: readonly OptionName[] = [
  ...CONFIG_OPTIONS,
  'listen',
  'insecure-http',
  'no-http',
  'tls-listen',
  'tls-cert',
  'tls-key',
  'tls-client-ca',
  'trusted-proxies',
  'no-config-watch',
  ...ADMIN_OPTIONS,
  'workers',
  'worker-heap-mb',
  'max-connections',
  'max-connections-per-address',
  ...REDIS_OPTIONS,
  'otlp-endpoint',
  'log-level',
];

export const startCommand: Command = {
  name: 'start',
  summary: 'serve a configuration',
  help: commandHelp({
    usage: 'start [options]',
    description:
      'Serves the configuration of --config (routes.yaml and partners/) to the partners: on a plain HTTP\nlistener on loopback (--listen), behind a TLS terminator (--insecure-http) or with two-way TLS\n(--tls-listen), with its state in memory or in Redis.',
    options: OPTION_NAMES,
    example:
      'aid-gateway start --config /etc/aid-gateway --tls-listen 0.0.0.0:8443 --tls-cert hub.pem \\\n    --tls-key hub-key.pem --tls-client-ca partners-ca.pem --redis-url redis://redis:6379',
    notes: `${SECRETS_NOTE}\n\nMeasuring only: $AID_GATEWAY_SWITCH_OFF=requestValidation,metrics switches those features off (npm\nrun bench shows what each costs); never for a hub that serves partners.\n\n${SIGNALS_NOTE}`,
  }),
  async run(argv, env) {
    const { values } = parseOptions(argv, OPTION_NAMES, 'start');
    // the example partners' keys are published: a deployment that forgot its config must not serve them
    if ((values.config ?? env.AID_GATEWAY_CONFIG) === undefined) return usage(NO_CONFIG);
    const { configDir, partnersDir } = configDirs(values, env);
    const log = loggerFrom(values, env);
    // a flag that is wrong, a password or TLS file that cannot be read: said by main.ts in one line
    const redis = redisAccessFrom(values, env);
    const workers = values.workers === undefined ? (redis ? availableParallelism() : 1) : Number(values.workers);
    if (!Number.isInteger(workers) || workers < 1) return usage('--workers takes a whole number from 1');
    if (workers > 1 && !redis)
      return usage('--workers above 1 needs Redis (--redis-url, --redis-cluster or --redis-sentinel): workers share their state through it');
    const heapMb = Number(values['worker-heap-mb'] ?? 192);
    if (!Number.isInteger(heapMb) || heapMb < 64) return usage('--worker-heap-mb takes a whole number from 64');
    // with workers, the primary serves the one admin listener for all of them (workers.ts)
    if (workers > 1 && isPrimary()) {
      const admin = adminOptions(values, env);
      // the primary passes SIGHUP on to the workers from now on
      stopIgnoringHangups();
      return runWorkers(workers, log, heapMb, admin);
    }
    return serve(
      () => {
        const options = hubOptions(values, env, configDir, partnersDir, log, redis);
        return Hub.start(workers > 1 ? { ...options, admin: undefined, clusterWorker: true } : options);
      },
      log,
      redis,
    );
  },
};

const NO_CONFIG =
  'start needs a configuration: give --config DIR (or $AID_GATEWAY_CONFIG); the example partners and their published keys are served only by the quick start (aid-gateway quickstart, npm start) or by naming their folder';

function hubOptions(values: Values, env: NodeJS.ProcessEnv, configDir: string, partnersDir: string | undefined, log: Logger, redis: RedisAccess | undefined) {
  const tlsListen = values['tls-listen'];
  let tls: TlsListen | undefined;
  if (tlsListen !== undefined) {
    const cert = values['tls-cert'];
    const key = values['tls-key'];
    const clientCa = values['tls-client-ca'];
    if (!cert || !key || !clientCa) throw new UsageError('--tls-listen needs --tls-cert, --tls-key and --tls-client-ca');
    tls = { ...parseListen(tlsListen, '--tls-listen'), cert, key, clientCa };
  }
  if (values['no-http'] && !tls) throw new UsageError('--no-http needs --tls-listen');
  const proxies = values['trusted-proxies'] ?? (env.AID_GATEWAY_TRUSTED_PROXIES || undefined);
  const trustedProxies = proxies === undefined ? undefined : proxyList(proxies);
  const clientCa = values['tls-client-ca'] ?? (env.AID_GATEWAY_TLS_CLIENT_CA || undefined);
  if (clientCa !== undefined && !tls && !trustedProxies) throw new UsageError('--tls-client-ca is for --tls-listen or --trusted-proxies');
  const listen: Listen | undefined = values['no-http'] ? undefined : plainListener(values);
  if (listen && !isLoopbackHost(listen.host))
    log.warn({ listen: `${listen.host}:${listen.port}` }, 'plain HTTP listener on a non-loopback address (--insecure-http); AID.02 6 requires two-way TLS');
  return {
    configDir,
    partnersDir,
    listen,
    tls,
    admin: adminOptions(values, env),
    connectionLimits: {
      maxConnections: wholeNumber(values['max-connections'], '--max-connections', DEFAULT_CONNECTION_LIMITS.maxConnections),
      maxConnectionsPerAddress: wholeNumber(
        values['max-connections-per-address'],
        '--max-connections-per-address',
        DEFAULT_CONNECTION_LIMITS.maxConnectionsPerAddress,
      ),
    },
    trustedProxies,
    clientCa,
    watchFiles: !values['no-config-watch'],
    redis,
    redisKeyPrefix: values['redis-prefix'],
    log,
    switchedOff: measurementSwitches(env),
    tracing: tracingSettings(values['otlp-endpoint'], env),
  };
}

/** `--trusted-proxies`: addresses and CIDR ranges, each checked */
function proxyList(value: string): string[] {
  const proxies = value
    .split(',')
    .map((p) => p.trim())
    .filter((p) => p !== '');
  for (const proxy of proxies) {
    const [address, bits, extra] = proxy.split('/');
    const family = isIP(address);
    const valid = family !== 0 && extra === undefined && (bits === undefined || (/^\d{1,3}$/.test(bits) && Number(bits) <= (family === 4 ? 32 : 128)));
    if (!valid) throw new UsageError(`--trusted-proxies: ${proxy} is no address or ADDRESS/BITS range`);
  }
  if (proxies.length === 0) throw new UsageError('--trusted-proxies takes a comma-separated list of addresses');
  return proxies;
}

function wholeNumber(value: string | undefined, flag: string, fallback: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new UsageError(`${flag} takes a whole number from 1`);
  return n;
}

function measurementSwitches(env: NodeJS.ProcessEnv): ReadonlySet<Switchable> {
  try {
    return switchedOff(env[SWITCH_OFF_ENV]);
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
}

/**
 * AID.02 6: two-way TLS is the default. `--listen` serves plain HTTP on loopback only (the quick
 * start, a TLS terminator on the same machine); another address must be named with
 * `--insecure-http`, which says what it is.
 */
function plainListener(values: Values): Listen {
  const insecure = values['insecure-http'];
  if (insecure !== undefined && values.listen !== undefined) throw new UsageError('give --listen (loopback) or --insecure-http, not both');
  if (insecure !== undefined) return parseListen(insecure, '--insecure-http');
  const listen = parseListen(values.listen ?? '127.0.0.1:8080', '--listen');
  if (!isLoopbackHost(listen.host)) {
    throw new UsageError(
      `--listen ${values.listen} is not loopback: plain HTTP leaves the machine only with --insecure-http HOST:PORT (AID.02 6 requires two-way TLS; use --tls-listen)`,
    );
  }
  return listen;
}
