/** What several commands read from the same options: the config folders, the logger, Redis. */
import { configuredDigest } from '../config/credentials';
import { envSecret } from '../config/envSecret';
import type { HubOptions } from '../server/hub';
import { createLogger, type Logger } from '../log';
import { describeTarget, type RedisAccess } from '../state/redis/connection';
import { PROJECT_ROOT } from '../version';
import { commandFailed, usage } from './exit';
import { parseListen } from './listenAddress';
import type { Values } from './options';
import { redisAccessFrom } from './redisAccess';
import { UsageError } from '../errors/usageError';

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

export function configDirs(values: Values, env: NodeJS.ProcessEnv): { configDir: string; partnersDir: string | undefined } {
  return { configDir: values.config ?? env.AID_GATEWAY_CONFIG ?? PROJECT_ROOT, partnersDir: values.partners ?? env.AID_GATEWAY_PARTNERS };
}

export function loggerFrom(values: Values, env: NodeJS.ProcessEnv): Logger {
  const level = values['log-level'] ?? env.LOG_LEVEL ?? 'info';
  if (!LOG_LEVELS.includes(level))
    throw new UsageError(
      `${values['log-level'] === undefined ? '$LOG_LEVEL' : '--log-level'} ${JSON.stringify(level)} is no log level; one of ${LOG_LEVELS.join(', ')}`,
    );
  return createLogger({ level });
}

/** runs a command that reads the hub's state in Redis; without Redis named anywhere, a usage error */
export function withRedis(command: string, values: Values, env: NodeJS.ProcessEnv, run: (access: RedisAccess) => Promise<number>): Promise<number> {
  let redis: RedisAccess | undefined;
  try {
    redis = redisAccessFrom(values, env);
  } catch (err) {
    // a flag that is wrong, a password or TLS file that cannot be read
    return Promise.resolve(commandFailed(command, err, undefined));
  }
  if (!redis) return Promise.resolve(usage(`${command} reads the hub's state in Redis: give --redis-url, --redis-cluster or --redis-sentinel (or $REDIS_URL)`));
  const described = describeTarget(redis.target);
  return run(redis).catch((err: unknown) => commandFailed(command, err, described));
}

export function adminOptions(values: Values, env: NodeJS.ProcessEnv): HubOptions['admin'] {
  const given = values['admin-listen'] ?? '127.0.0.1:9464';
  if (given === 'off') return undefined;
  const listen = parseListen(given, '--admin-listen');
  const username = values['admin-user'] ?? (env.AID_GATEWAY_ADMIN_USER || undefined);
  if (username === undefined) return { listen };
  const password = envSecret(env, 'AID_GATEWAY_ADMIN_PASSWORD');
  if (!password) throw new UsageError('--admin-user needs the password in AID_GATEWAY_ADMIN_PASSWORD (or the file AID_GATEWAY_ADMIN_PASSWORD_FILE)');
  return { listen, auth: { username, passwordDigest: configuredDigest(password) } };
}
