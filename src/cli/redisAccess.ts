/**
 * The command line's Redis: `--redis-url` (one server), `--redis-cluster` (root nodes of a Cluster)
 * or `--redis-sentinel` with `--redis-sentinel-master` (a Sentinel group), each with an ACL user
 * (`--redis-user`, password in $REDIS_PASSWORD or the file $REDIS_PASSWORD_FILE), TLS files, and
 * `--redis-wait-replicas`. Each may come from the environment instead (REDIS_URL, REDIS_CLUSTER,
 * REDIS_SENTINEL with REDIS_SENTINEL_MASTER, REDIS_USER, REDIS_WAIT_REPLICAS): a Kubernetes
 * ConfigMap holds the choice. Undefined when none is given: the hub keeps its state in memory.
 */
import { readFileSync } from 'node:fs';
import { envSecret } from '../config/envSecret';
import type { RedisAccess, RedisTarget } from '../state/redis/connection';
import { UsageError } from '../errors/usageError';

export interface RedisFlags {
  readonly 'redis-url'?: string;
  readonly 'redis-cluster'?: string;
  readonly 'redis-sentinel'?: string;
  readonly 'redis-sentinel-master'?: string;
  readonly 'redis-user'?: string;
  readonly 'redis-tls'?: boolean;
  readonly 'redis-ca'?: string;
  readonly 'redis-cert'?: string;
  readonly 'redis-key'?: string;
  readonly 'redis-wait-replicas'?: string;
}

export function redisAccessFrom(flags: RedisFlags, env: NodeJS.ProcessEnv): RedisAccess | undefined {
  const target = targetOf(flags, env);
  if (!target) {
    const orphan = (['redis-user', 'redis-ca', 'redis-cert', 'redis-key', 'redis-wait-replicas', 'redis-sentinel-master'] as const).find(
      (f) => flags[f] !== undefined,
    );
    if (orphan) throw new UsageError(`--${orphan} needs a Redis: --redis-url, --redis-cluster or --redis-sentinel`);
    return undefined;
  }
  const wait = flags['redis-wait-replicas'] ?? env.REDIS_WAIT_REPLICAS;
  const waitReplicas = wait === undefined || wait === '' ? 0 : Number(wait);
  if (!Number.isInteger(waitReplicas) || waitReplicas < 0) throw new UsageError('--redis-wait-replicas takes a whole number from 0');
  if ((flags['redis-cert'] === undefined) !== (flags['redis-key'] === undefined)) throw new UsageError('--redis-cert and --redis-key go together');
  const password = envSecret(env, 'REDIS_PASSWORD');
  const username = flags['redis-user'] ?? (env.REDIS_USER || undefined);
  return {
    target,
    ...(username !== undefined && { username }),
    ...(password !== undefined && { password }),
    tls: { enabled: flags['redis-tls'] ?? false, ca: read(flags['redis-ca']), cert: read(flags['redis-cert']), key: read(flags['redis-key']) },
    waitReplicas,
  };
}

function targetOf(flags: RedisFlags, env: NodeJS.ProcessEnv): RedisTarget | undefined {
  const given = (['redis-url', 'redis-cluster', 'redis-sentinel'] as const).filter((f) => flags[f] !== undefined);
  if (given.length > 1) throw new UsageError(`give one of --redis-url, --redis-cluster, --redis-sentinel (got ${given.map((g) => `--${g}`).join(', ')})`);
  if (flags['redis-cluster'] !== undefined)
    return { kind: 'cluster', urls: list(flags['redis-cluster'], '--redis-cluster').map((u) => url(u, '--redis-cluster')) };
  const sentinels = flags['redis-sentinel'] ?? env.REDIS_SENTINEL;
  if (sentinels !== undefined && sentinels !== '') {
    const master = flags['redis-sentinel-master'] ?? env.REDIS_SENTINEL_MASTER;
    if (!master) throw new UsageError('--redis-sentinel needs --redis-sentinel-master NAME: the master the Sentinels watch');
    return { kind: 'sentinel', sentinels: list(sentinels, '--redis-sentinel'), master };
  }
  const single = flags['redis-url'] ?? envSecret(env, 'REDIS_URL');
  if (single !== undefined && single !== '') return { kind: 'single', url: url(single, '--redis-url') };
  const cluster = env.REDIS_CLUSTER;
  if (cluster) return { kind: 'cluster', urls: list(cluster, '$REDIS_CLUSTER').map((u) => url(u, '$REDIS_CLUSTER')) };
  return undefined;
}

function list(value: string, flag: string): string[] {
  const items = value
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
  if (items.length === 0) throw new UsageError(`${flag} takes a comma-separated list`);
  return items;
}

function url(value: string, flag: string): string {
  let parsed: URL;
  try {
    parsed = new URL(value);
  } catch {
    throw new UsageError(`${flag}: ${value.includes('@') ? 'a URL with credentials' : value} is no URL; redis://HOST:PORT or rediss://HOST:PORT`);
  }
  if (parsed.protocol !== 'redis:' && parsed.protocol !== 'rediss:')
    throw new UsageError(`${flag}: ${parsed.protocol} is no Redis scheme; redis:// or rediss://`);
  return value;
}

function read(file: string | undefined): Buffer | undefined {
  return file === undefined ? undefined : readFileSync(file);
}
