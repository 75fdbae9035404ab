#!/usr/bin/env node
/**
 * The command line: the quick start (no command), `start`, `check-config`, `--help`.
 */
import { parseArgs } from 'node:util';
import { ConfigError, loadConfig } from './config/load';
import { configuredDigest } from './config/credentials';
import { Hub, type HubOptions, type Listen, type TlsListen } from './hub';
import { createSecureContext } from 'node:tls';
import { startupFailure } from './startupFailure';
import { PROJECT_ROOT, VERSION } from './version';
import { DEFAULT_CONNECTION_LIMITS } from './listener';
import { isLoopbackHost } from './config/loopback';
import { configWarnings } from './config/warnings';
import { createLogger, type Logger } from './log';
import { startQuickStart } from './quickstart/quickstart';
import { RedisStore } from './state/redis/store';
import { conflicts, importBindings, parseBindings } from './bindingsImport';
import { readFileSync } from 'node:fs';
import { isPrimary, runWorkers } from './workers';
import { SWITCH_OFF_ENV, switchedOff, type Switchable } from './measurementSwitches';
import { availableParallelism } from 'node:os';
import { isIP } from 'node:net';
import { UsageError } from './cli/usageError';
import { parseListen } from './cli/listenAddress';
import { redisAccessFrom } from './cli/redisAccess';
import { envSecret, SecretFileError } from './config/envSecret';
import { describeTarget, type RedisAccess } from './state/redis/connection';
import { inspectCommand, nothingListed } from './cli/inspect';
import { simulateCommand } from './cli/simulate';
import { CONFORMANCE_HELP, conformanceCommand } from './cli/conformance';

const HELP = `Usage: aid-gateway [command] [options]

A hub for the GSMA AID.02 interface between Mobile Service Providers and Car Mobility Providers.

Commands:
  (none), quickstart
                    quick start: the hub on its embedded defaults (in-memory state, the example
                    partners of the repository) with simulated MSPs, CMPs and an SM-DP+ beside
                    it; prints a walk through AID.02 as curl commands
  start             serve a configuration
  check-config      validate a configuration (and --tls-cert, --tls-key, --tls-client-ca when given)
                    and exit (0 valid, 1 invalid)
  outbox dead       list the dead letters of the outbox (JSON, one per line); needs Redis
  outbox replay --all | outbox replay ENTRY_ID...
                    put dead letters back into the outbox for delivery; needs Redis
  simulate [PARTNER...] --hub-url URL [--bind HOST]
                    the example partners' simulators alone (all, or those named), each on its
                    upstream URL's port, calling the hub at URL (the docker-compose demo)
  conformance --role msp|cmp --url URL ...
                    check a partner's AID.02 implementation before it goes live
                    (\`aid-gateway conformance --help\`)
  inspect token MSP_TOKEN | inspect bindings | inspect pending | inspect outbox
                    read the hub's state (JSON, one per line; nothing is written): the
                    binding of one msp_token, every binding, the activation requests waiting
                    for Send Activation Code, the deliveries the outbox still owes; needs Redis
  bindings import FILE
                    token bindings of users federated before the hub, as CSV lines
                    msp,cmp,msp_token,state (active | invalidated); every line is checked
                    against --config first, one bad line and nothing is imported; needs
                    Redis

Options:
  --config DIR          folder with routes.yaml and partners/ (default: $AID_GATEWAY_CONFIG; start
                        refuses to run without one, the other commands read the repository's
                        example configuration)
  --partners DIR        the partner files, when not in the config folder's partners/ (default:
                        $AID_GATEWAY_PARTNERS; two ConfigMaps mount as two folders)
  --listen HOST:PORT    plain HTTP listener on a loopback address (default: 127.0.0.1:8080)
  --insecure-http HOST:PORT
                        plain HTTP listener on any address; AID.02 section 6 requires two-way
                        TLS, so this is for a TLS terminator in front of the hub (warned)
  --no-http             start: no plain HTTP listener (TLS only)
  --tls-listen HOST:PORT  TLS listener that requests and verifies partner client certificates
  --tls-cert FILE       the hub's server certificate (PEM)
  --tls-key FILE        its private key (PEM)
  --tls-client-ca FILE  the CA(s) that issued partner client certificates (PEM); with
                        --trusted-proxies also what a forwarded certificate must be issued by
  --trusted-proxies ADDRESS[/BITS],...
                        load balancers that terminate the partners' TLS: from these addresses the
                        client certificate they forward (Envoy x-forwarded-client-cert, nginx
                        ssl-client-cert) and x-forwarded-for are believed; from any other address
                        those headers are removed (default: $AID_GATEWAY_TRUSTED_PROXIES;
                        --tls-client-ca's: $AID_GATEWAY_TLS_CLIENT_CA)
  --no-config-watch     start: reload only on SIGHUP (by default the hub also reloads when the
                        config folder's files or the TLS files change, as a Kubernetes ConfigMap
                        or Secret does)
  --admin-listen HOST:PORT  the admin listener: /metrics, /healthz, /readyz, /admin/partners
                        (default: 127.0.0.1:9464; 'off' for none)
  --admin-user NAME     require basic auth on /metrics and /admin/* with this user (default:
                        $AID_GATEWAY_ADMIN_USER) and the password in $AID_GATEWAY_ADMIN_PASSWORD
                        (clear or sha256:<hex>)
  --workers N           start: N hub processes sharing the ports (default: the number of cores
                        with Redis, 1 without; more than 1 needs Redis); the primary serves the
                        one admin listener: metrics and health of all workers
  --worker-heap-mb N    V8 old space of each worker (default: 192); for a single process use
                        NODE_OPTIONS=--max-old-space-size=N
  --max-connections N   connections each partner listener holds open at once (default: 8192);
                        per worker
  --max-connections-per-address N
                        of those, from one source address (default: 256)
  --redis-url URL       Redis for shared state, redis:// or rediss:// (default: $REDIS_URL or the
                        file $REDIS_URL_FILE; without any Redis, in-memory state)
  --redis-cluster URL,URL...
                        a Redis Cluster instead: some of its nodes (default: $REDIS_CLUSTER); the
                        hub's keys share one hash tag, {PREFIX}
  --redis-sentinel HOST:PORT,HOST:PORT...
                        a Sentinel group instead, with --redis-sentinel-master NAME (default:
                        $REDIS_SENTINEL_MASTER): the hub follows the master through failovers
  --redis-user NAME     the ACL user (default: $REDIS_USER); its password in $REDIS_PASSWORD or the
                        file $REDIS_PASSWORD_FILE
  --redis-tls           TLS to every Redis node (implied by rediss:// URLs)
  --redis-ca FILE       the CA of the Redis servers' certificates (PEM)
  --redis-cert FILE     a client certificate for Redis, with --redis-key FILE (PEM)
  --redis-wait-replicas N
                        a write the hub tells a partner about returns once N replicas have it
                        (Redis WAIT; default: 0): with Sentinel or Cluster, 1 keeps a failover from
                        losing an accepted request
  --redis-prefix TEXT   prefix of every Redis key (default: aidgw:)
  --all                 outbox replay: every dead letter
  --hub-url URL         simulate: the hub the simulated partners call
  --bind HOST           simulate: listen on HOST instead of each upstream URL's host
  --log-level LEVEL     trace, debug, info, warn, error, fatal, silent (default: $LOG_LEVEL or info)
  --version             the hub's version and its Node.js
  -h, --help            this text

Secrets: every secret the hub reads from its environment (the admin and Redis passwords, each
\${NAME} of the configuration) may instead be in the file \$NAME_FILE names, or in the file NAME of
the folder \$AID_GATEWAY_SECRETS_DIR (a Kubernetes Secret mounted as files).

Measuring only: $AID_GATEWAY_SWITCH_OFF=requestValidation,metrics switches those features off (npm
run bench shows what each costs); never for a hub that serves partners.

Signals: SIGHUP reloads the configuration and the listener's TLS files (a bad one is refused and
the old one keeps serving; \`start\` also reloads when those files change); SIGTERM and SIGINT
stop accepting connections, let requests in flight finish, then exit.`;

const OPTIONS = {
  config: { type: 'string' },
  partners: { type: 'string' },
  listen: { type: 'string' },
  'no-http': { type: 'boolean' },
  'tls-listen': { type: 'string' },
  'tls-cert': { type: 'string' },
  'tls-key': { type: 'string' },
  'tls-client-ca': { type: 'string' },
  'trusted-proxies': { type: 'string' },
  'no-config-watch': { type: 'boolean' },
  'redis-url': { type: 'string' },
  'redis-cluster': { type: 'string' },
  'redis-sentinel': { type: 'string' },
  'redis-sentinel-master': { type: 'string' },
  'redis-user': { type: 'string' },
  'redis-tls': { type: 'boolean' },
  'redis-ca': { type: 'string' },
  'redis-cert': { type: 'string' },
  'redis-key': { type: 'string' },
  'redis-wait-replicas': { type: 'string' },
  'redis-prefix': { type: 'string' },
  'log-level': { type: 'string' },
  'admin-listen': { type: 'string' },
  'admin-user': { type: 'string' },
  workers: { type: 'string' },
  'max-connections': { type: 'string' },
  'insecure-http': { type: 'string' },
  'max-connections-per-address': { type: 'string' },
  'worker-heap-mb': { type: 'string' },
  all: { type: 'boolean' },
  'hub-url': { type: 'string' },
  bind: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
  version: { type: 'boolean' },
} as const;

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

type Values = ReturnType<typeof parseArgs<{ options: typeof OPTIONS; allowPositionals: true }>>['values'];

const SHUTDOWN_BOUND_MS = 15000;

async function main(argv: string[]): Promise<number> {
  // the conformance kit has options of its own (cli/conformance.ts)
  if (argv[0] === 'conformance') {
    return conformanceCommand(argv.slice(1), process.env).catch((err: unknown) => {
      if ((err as NodeJS.ErrnoException).code?.startsWith('ERR_PARSE_ARGS')) return usage(`${(err as Error).message}\n\n${CONFORMANCE_HELP}`);
      return commandFailed('run the conformance kit', err, undefined, CONFORMANCE_HELP);
    });
  }
  let parsed;
  try {
    parsed = parseArgs({ args: argv, options: OPTIONS, allowPositionals: true, strict: true });
  } catch (err) {
    process.stderr.write(`${(err as Error).message}\n\n${HELP}\n`);
    return 2;
  }
  const { values, positionals } = parsed;
  if (values.help) {
    process.stdout.write(`${HELP}\n`);
    return 0;
  }
  if (values.version) {
    process.stdout.write(`aid-gateway ${VERSION} (Node.js ${process.version})\n`);
    return 0;
  }
  const command = positionals[0] ?? 'quickstart';
  const namedConfig = values.config ?? process.env.AID_GATEWAY_CONFIG;
  const configDir = namedConfig ?? PROJECT_ROOT;
  const partnersDir = values.partners ?? process.env.AID_GATEWAY_PARTNERS;
  const level = values['log-level'] ?? process.env.LOG_LEVEL ?? 'info';
  if (!LOG_LEVELS.includes(level)) return usage(`${values['log-level'] === undefined ? '$LOG_LEVEL' : '--log-level'} ${JSON.stringify(level)} is no log level; one of ${LOG_LEVELS.join(', ')}`);
  const log = createLogger({ level });
  let redis: RedisAccess | undefined;
  try {
    redis = redisAccessFrom(values, process.env);
  } catch (err) {
    // a flag that is wrong, a password or TLS file that cannot be read
    return commandFailed(command, err, undefined);
  }
  const withRedis = (run: (access: RedisAccess) => Promise<number>) => {
    if (!redis) return Promise.resolve(usage(`${command} reads the hub's state in Redis: give --redis-url, --redis-cluster or --redis-sentinel (or $REDIS_URL)`));
    const described = describeTarget(redis.target);
    return run(redis).catch((err: unknown) => commandFailed(command, err, described));
  };
  switch (command) {
    case 'check-config':
      return checkConfig(configDir, partnersDir, values);
    case 'outbox':
      return withRedis((access) => outboxCommand(positionals.slice(1), values, access));
    case 'inspect':
      return withRedis((access) => inspectCommand(positionals.slice(1), access, values['redis-prefix']));
    case 'simulate':
      return simulateCommand(positionals.slice(1), configDir, partnersDir, values['hub-url'], values.bind).catch((err: unknown) =>
        err instanceof ConfigError ? failed(`${configDir}: ${err.message}`) : commandFailed(command, err, undefined),
      );
    case 'bindings':
      return withRedis((access) => bindingsCommand(positionals.slice(1), values, configDir, partnersDir, access));
    case 'start': {
      // the example partners' keys are published: a deployment that forgot its config must not serve them
      if (namedConfig === undefined) return usage(NO_CONFIG);
      const workers = values.workers === undefined ? (redis ? availableParallelism() : 1) : Number(values.workers);
      if (!Number.isInteger(workers) || workers < 1) return usage('--workers takes a whole number from 1');
      if (workers > 1 && !redis) return usage('--workers above 1 needs Redis (--redis-url, --redis-cluster or --redis-sentinel): workers share their state through it');
      const heapMb = Number(values['worker-heap-mb'] ?? 192);
      if (!Number.isInteger(heapMb) || heapMb < 64) return usage('--worker-heap-mb takes a whole number from 64');
      // with workers, the primary serves the one admin listener for all of them (workers.ts)
      if (workers > 1 && isPrimary()) {
        let admin: HubOptions['admin'];
        try {
          admin = adminOptions(values);
        } catch (err) {
          if (err instanceof UsageError) return usage(err.message);
          throw err;
        }
        return runWorkers(workers, log, heapMb, admin);
      }
      return serve(() => {
        const options = hubOptions(values, configDir, partnersDir, log, redis);
        return Hub.start(workers > 1 ? { ...options, admin: undefined, clusterWorker: true } : options);
      }, log, redis);
    }
    case 'quickstart':
      return serve(async () => {
        const listen = parseListen(values.listen ?? '127.0.0.1:8080', '--listen');
        // the quick start is in-memory unless Redis is named on its command line ($REDIS_URL alone is not enough)
        const named = values['redis-url'] !== undefined || values['redis-cluster'] !== undefined || values['redis-sentinel'] !== undefined;
        const quick = await startQuickStart({ ...listen, log, redis: named ? redis : undefined, admin: adminOptions(values) });
        process.stdout.write(
          `\naid-gateway quick start: the hub listens on ${quick.hub.url} with ${quick.hub.store.kind === 'redis' ? 'its state in Redis' : 'in-memory state'}.\n` +
            `The example partners in partners/ are SIMULATORS on loopback: ${quick.simulators.map((s) => s.url).join(', ')}.\n` +
            `Walk through AID.02 in another terminal:\n\n${quick.walk}\n\n`,
        );
        return quick;
      }, log, redis);
    default:
      process.stderr.write(`unknown command ${command}\n\n${HELP}\n`);
      return 2;
  }
}

/** the config folder, and the command line's TLS files when given: they load and belong together */
function checkConfig(configDir: string, partnersDir: string | undefined, values: Values): number {
  const insecureHttp = values['insecure-http'];
  const tlsFiles = { cert: values['tls-cert'], key: values['tls-key'], ca: values['tls-client-ca'] };
  if (tlsFiles.cert || tlsFiles.key || tlsFiles.ca) {
    if (!tlsFiles.cert || !tlsFiles.key || !tlsFiles.ca) return usage('the TLS files go together: --tls-cert, --tls-key and --tls-client-ca');
    try {
      createSecureContext({ cert: readFileSync(tlsFiles.cert), key: readFileSync(tlsFiles.key), ca: readFileSync(tlsFiles.ca) });
    } catch (err) {
      process.stderr.write(`${startupFailure(err, undefined) ?? (err as Error).message}\n`);
      return 1;
    }
  }
  try {
    const config = loadConfig(configDir, process.env, partnersDir);
    const partners = [...config.partners.values()];
    const count = (role: string) => partners.filter((p) => p.role === role).length;
    process.stdout.write(`${configDir}: valid: ${count('msp')} MSPs, ${count('cmp')} CMPs, ${config.routes.size} routes\n`);
    const warnings = configWarnings(config);
    if (insecureHttp !== undefined && !isLoopbackHost(parseListen(insecureHttp, '--insecure-http').host)) {
      warnings.push(`--insecure-http ${insecureHttp}: a plain HTTP listener off loopback; AID.02 6 requires two-way TLS`);
    }
    for (const warning of warnings) process.stderr.write(`warning: ${warning}\n`);
    return 0;
  } catch (err) {
    process.stderr.write(`${configDir}: ${err instanceof ConfigError ? err.message : (err as Error).message}\n`);
    return 1;
  }
}

/** `bindings import FILE`: see bindingsImport.ts; exit 0 imported, 1 refused (nothing imported) */
async function bindingsCommand(args: string[], values: Values, configDir: string, partnersDir: string | undefined, access: RedisAccess): Promise<number> {
  const [action, file, ...rest] = args;
  if (action !== 'import' || file === undefined || rest.length > 0) throw new UsageError('bindings takes `import FILE`');
  let config;
  let text;
  try {
    config = loadConfig(configDir, process.env, partnersDir);
    text = readFileSync(file, 'utf8');
  } catch (err) {
    process.stderr.write(`${err instanceof ConfigError ? `${configDir}: ${err.message}` : (err as Error).message}\n`);
    return 1;
  }
  const { rows, problems } = parseBindings(text, config);
  const store = await RedisStore.connect({ access, keyPrefix: values['redis-prefix'] });
  try {
    problems.push(...(await conflicts(rows, store)));
    if (problems.length > 0) {
      process.stderr.write(`${file}: nothing imported; ${problems.length} problem(s):\n${problems.map((p) => `  ${p}`).join('\n')}\n`);
      return 1;
    }
    await importBindings(rows, store, config.settings.tokenBindingTtlSeconds);
    process.stdout.write(`${file}: imported ${rows.length} token bindings\n`);
    return 0;
  } finally {
    await store.close();
  }
}

async function outboxCommand(args: string[], values: Values, access: RedisAccess): Promise<number> {
  const [action, ...ids] = args;
  if (action !== 'dead' && action !== 'replay') throw new UsageError('outbox takes `dead` or `replay`');
  if (action === 'replay' && !values.all && ids.length === 0) throw new UsageError('outbox replay takes --all or entry ids');
  const store = await RedisStore.connect({ access, keyPrefix: values['redis-prefix'] });
  try {
    if (action === 'dead') {
      const dead = await store.outbox.listDead(10000);
      for (const letter of dead) {
        const { delivery } = letter;
        const line = { entryId: letter.entryId, reason: letter.reason, at: new Date(letter.at).toISOString(), target: delivery.target, operation: delivery.operation, id: delivery.id, attempts: delivery.attempts };
        process.stdout.write(`${JSON.stringify(line)}\n`);
      }
      // stderr, so that a script reading the lines reads none
      if (dead.length === 0) process.stderr.write(`${await nothingListed(store, 'no dead letters')}\n`);
    } else {
      const replayed = await store.outbox.replayDead(values.all ? undefined : ids);
      process.stdout.write(`${replayed} dead letters back in the outbox\n`);
    }
    return 0;
  } finally {
    await store.close();
  }
}

function hubOptions(values: Values, configDir: string, partnersDir: string | undefined, log: Logger, redis: RedisAccess | undefined) {
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
  const proxies = values['trusted-proxies'] ?? (process.env.AID_GATEWAY_TRUSTED_PROXIES || undefined);
  const trustedProxies = proxies === undefined ? undefined : proxyList(proxies);
  const clientCa = values['tls-client-ca'] ?? (process.env.AID_GATEWAY_TLS_CLIENT_CA || undefined);
  if (clientCa !== undefined && !tls && !trustedProxies) throw new UsageError('--tls-client-ca is for --tls-listen or --trusted-proxies');
  const listen: Listen | undefined = values['no-http'] ? undefined : plainListener(values);
  if (listen && !isLoopbackHost(listen.host)) log.warn({ listen: `${listen.host}:${listen.port}` }, 'plain HTTP listener on a non-loopback address (--insecure-http); AID.02 6 requires two-way TLS');
  return {
    configDir,
    partnersDir,
    listen,
    tls,
    admin: adminOptions(values),
    connectionLimits: {
      maxConnections: wholeNumber(values['max-connections'], '--max-connections', DEFAULT_CONNECTION_LIMITS.maxConnections),
      maxConnectionsPerAddress: wholeNumber(values['max-connections-per-address'], '--max-connections-per-address', DEFAULT_CONNECTION_LIMITS.maxConnectionsPerAddress),
    },
    trustedProxies,
    clientCa,
    watchFiles: !values['no-config-watch'],
    redis,
    redisKeyPrefix: values['redis-prefix'],
    log,
    switchedOff: measurementSwitches(),
  };
}

/** `--trusted-proxies`: addresses and CIDR ranges, each checked */
function proxyList(value: string): string[] {
  const proxies = value.split(',').map((p) => p.trim()).filter((p) => p !== '');
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

function measurementSwitches(): ReadonlySet<Switchable> {
  try {
    return switchedOff(process.env[SWITCH_OFF_ENV]);
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
}

function adminOptions(values: Values): HubOptions['admin'] {
  const given = values['admin-listen'] ?? '127.0.0.1:9464';
  if (given === 'off') return undefined;
  const listen = parseListen(given, '--admin-listen');
  const username = values['admin-user'] ?? (process.env.AID_GATEWAY_ADMIN_USER || undefined);
  if (username === undefined) return { listen };
  const password = envSecret(process.env, 'AID_GATEWAY_ADMIN_PASSWORD');
  if (!password) throw new UsageError('--admin-user needs the password in AID_GATEWAY_ADMIN_PASSWORD (or the file AID_GATEWAY_ADMIN_PASSWORD_FILE)');
  return { listen, auth: { username, passwordDigest: configuredDigest(password) } };
}

/**
 * How a command other than `start` ends on an error: a usage error is exit 2, a secret file that
 * cannot be read or a start-up failure (Redis away, a file missing) one line and exit 1; anything
 * else is a defect and goes up whole.
 */
function commandFailed(what: string, err: unknown, redis: string | undefined, help?: string): number {
  if (err instanceof UsageError) return usage(help ? `${err.message}\n\n${help}` : err.message);
  if (err instanceof SecretFileError) return failed(err.message);
  const line = startupFailure(err, redis);
  if (line === undefined) throw err;
  return failed(`cannot ${what}: ${line}`);
}

function failed(message: string): number {
  process.stderr.write(`${message}\n`);
  return 1;
}

const NO_CONFIG =
  'start needs a configuration: give --config DIR (or $AID_GATEWAY_CONFIG); the example partners and their ' +
  'published keys are served only by the quick start (aid-gateway quickstart, npm start) or by naming their folder';

function usage(message: string): number {
  process.stderr.write(`${message}\n`);
  return 2;
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
    throw new UsageError(`--listen ${values.listen} is not loopback: plain HTTP leaves the machine only with --insecure-http HOST:PORT (AID.02 6 requires two-way TLS; use --tls-listen)`);
  }
  return listen;
}

/** starts something closable, reloads on SIGHUP, and stops gracefully on SIGTERM / SIGINT */
async function serve(start: () => Promise<Hub | { hub: Hub; close(): Promise<void> }>, log: Logger, redis?: RedisAccess): Promise<number> {
  let running;
  try {
    running = await start();
  } catch (err) {
    if (err instanceof ConfigError || err instanceof UsageError || err instanceof SecretFileError) {
      process.stderr.write(`${err.message}\n`);
      return err instanceof UsageError ? 2 : 1;
    }
    const line = startupFailure(err, redis && describeTarget(redis.target));
    if (line === undefined) throw err;
    process.stderr.write(`cannot start: ${line}\n`);
    return 1;
  }
  const hub = running instanceof Hub ? running : running.hub;
  process.off('SIGHUP', ignoreEarlyHangup);
  process.on('SIGHUP', () => hub.reload());
  return new Promise<number>((resolve) => {
    const stop = (signal: string) => {
      log.info({ signal }, 'stopping: finishing requests in flight');
      setTimeout(() => {
        log.error('requests still in flight after the shutdown bound; exiting anyway');
        resolve(1);
      }, SHUTDOWN_BOUND_MS).unref();
      running.close().then(
        // the log is written asynchronously: what is still buffered goes out before the exit
        () => log.flush(() => resolve(0)),
        (err: unknown) => {
          log.error({ err }, 'error while stopping');
          resolve(1);
        },
      );
    };
    process.once('SIGTERM', stop);
    process.once('SIGINT', stop);
  });
}

/** a SIGHUP before the hub runs (an orchestrator's reload racing the start) is no reason to die */
function ignoreEarlyHangup(): void {
  process.stderr.write('SIGHUP during start-up: ignored; send it again once the hub has started\n');
}
process.on('SIGHUP', ignoreEarlyHangup);

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`aid-gateway: ${(err as Error).stack ?? String(err)}\n`);
    process.exit(1);
  },
);
