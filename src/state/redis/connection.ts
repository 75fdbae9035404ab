/**
 * Where the hub's Redis is and how to reach it: one server, a Sentinel group (the master it names,
 * found again after a failover), or a Cluster; TLS with a CA and a client certificate; an ACL user.
 * Each through node-redis's own client. The ports see one `RedisClient`: every command they send
 * names its keys, and under a Cluster every key of a hub carries one hash tag (`clusterPrefix`), so
 * every multi-key script runs on one slot.
 */
import { createClient, createCluster, createSentinel } from 'redis';
import type { RedisClient } from './keys';
import { RedisStartupError } from '../../errors/startupError';

export type RedisTarget =
  | { readonly kind: 'single'; readonly url: string }
  | { readonly kind: 'cluster'; readonly urls: readonly string[] }
  | { readonly kind: 'sentinel'; readonly sentinels: readonly string[]; readonly master: string };

export interface RedisTls {
  readonly ca?: Buffer;
  readonly cert?: Buffer;
  readonly key?: Buffer;
}

export interface RedisAccess {
  readonly target: RedisTarget;
  /** the ACL user and its password for the data nodes (a URL's own credentials otherwise) */
  readonly username?: string;
  readonly password?: string;
  /** for `rediss://` URLs, and for a Sentinel group whose nodes speak TLS (`tls: true` there) */
  readonly tls?: RedisTls & { readonly enabled?: boolean };
  /** after a write that the hub tells a partner about, wait for this many replicas to have it
   * (Redis WAIT), so that a failover right after loses nothing accepted */
  readonly waitReplicas?: number;
}

export interface RedisConnection {
  readonly client: RedisClient;
  /** the key prefix to use: under a Cluster, one hash tag for every key of the hub */
  prefix(given: string): string;
  /** WAIT on the connection that carried the hub's writes; how many replicas have them */
  waitForReplicas(replicas: number, timeoutMs: number, anyKey: string): Promise<number>;
  /** every key that matches, from every node that holds keys (read-only tools: `inspect`) */
  scan(pattern: string): AsyncGenerator<string[]>;
  /** the target for messages: no credentials */
  readonly description: string;
}

type Send = (args: string[]) => Promise<unknown>;

interface ConnectOptions {
  readonly onError?: (err: Error) => void;
}

const CONNECT_TIMEOUT_MS = 5000;

export async function connectRedis(access: RedisAccess, options: ConnectOptions = {}): Promise<RedisConnection> {
  const { target } = access;
  let connected = false;
  const socket = {
    connectTimeout: CONNECT_TIMEOUT_MS,
    ...tlsSocket(access),
    // a hub that cannot reach Redis at start stops (atStart says why); once running, it keeps retrying.
    // node-redis tells giving up from a delay by `instanceof Error`: an error of this module's realm
    reconnectStrategy: (retries: number, cause: Error) => (connected ? Math.min(100 * 2 ** retries, 2000) : new Error(cause.message, { cause })),
  };
  const credentials = {
    ...(access.username !== undefined && { username: access.username }),
    ...(access.password !== undefined && { password: access.password }),
  };
  const description = describeTarget(target);
  if (target.kind === 'single') {
    const client = createClient({ url: target.url, ...credentials, disableOfflineQueue: true, socket });
    // node-redis emits 'error' on every failed reconnect; without a listener the process would exit
    client.on('error', (err: Error) => options.onError?.(err));
    await atStart(client.connect());
    connected = true;
    return {
      client,
      description,
      prefix: (given) => given,
      waitForReplicas: async (replicas, timeoutMs) => Number(await client.sendCommand(['WAIT', String(replicas), String(timeoutMs)])),
      scan: (pattern) => scanWith((args) => client.sendCommand(args), pattern),
    };
  }
  if (target.kind === 'cluster') {
    const cluster = createCluster({
      rootNodes: target.urls.map((url) => ({ url })),
      defaults: { ...credentials, disableOfflineQueue: true, socket },
      // after a failover the slots move: follow the MOVED answers a few times before giving up
      maxCommandRedirections: 16,
    });
    cluster.on('error', (err: Error) => options.onError?.(err));
    await atStart(cluster.connect());
    connected = true;
    followFailovers(cluster, target.urls);
    return {
      // every command the ports send names its keys, which is all a cluster client needs to route it
      client: cluster as unknown as RedisClient,
      description,
      prefix: clusterPrefix,
      waitForReplicas: async (replicas, timeoutMs, anyKey) => Number(await cluster.sendCommand(anyKey, false, ['WAIT', String(replicas), String(timeoutMs)])),
      scan: async function* (pattern) {
        for (const master of cluster.masters) {
          const node = await cluster.nodeClient(master);
          yield* scanWith((args) => node.sendCommand(args), pattern);
        }
      },
    };
  }
  const sentinel = createSentinel({
    name: target.master,
    sentinelRootNodes: target.sentinels.map(hostAndPort),
    nodeClientOptions: { ...credentials, disableOfflineQueue: true, socket },
    sentinelClientOptions: { socket: { connectTimeout: CONNECT_TIMEOUT_MS, ...tlsSocket(access) } },
    // every command on one connection to the master, so that WAIT covers the writes before it
    reserveClient: true,
    passthroughClientErrorEvents: true,
    scanInterval: 2000,
  });
  sentinel.on('error', (err: Error) => options.onError?.(err));
  await atStart(sentinel.connect());
  connected = true;
  return {
    client: sentinel as unknown as RedisClient,
    description,
    prefix: (given) => given,
    waitForReplicas: async (replicas, timeoutMs) => Number(await sentinel.sendCommand(false, ['WAIT', String(replicas), String(timeoutMs)])),
    scan: (pattern) => scanWith((args) => sentinel.sendCommand(false, args), pattern),
  };
}

async function* scanWith(send: Send, pattern: string): AsyncGenerator<string[]> {
  let cursor = '0';
  do {
    const [next, keys] = (await send(['SCAN', cursor, 'MATCH', pattern, 'COUNT', '500'])) as [string, string[]];
    cursor = next;
    if (keys.length > 0) yield keys;
  } while (cursor !== '0');
}

/** a refusal at start (a wrong password, no TLS where Redis wants it) reads as one that cannot connect */
async function atStart(connecting: Promise<unknown>): Promise<void> {
  try {
    await connecting;
  } catch (err) {
    throw new RedisStartupError((err as Error).message, { cause: err });
  }
}

/** how often, at most, a node that fails makes the client read the slots again */
const REDISCOVER_EVERY_MS = 500;

/**
 * node-redis's cluster client reads the slots again only when a node answers MOVED or ASK; a
 * primary that dies answers nothing, so its slots would stay with a client that can never connect
 * while a replica serves them. Every error of a node's connection (each failed reconnect) reads the
 * slots again from the root nodes, at most every REDISCOVER_EVERY_MS: once the cluster has promoted
 * a replica, the next reading routes its slots there and the dead node's client is dropped.
 */
function followFailovers(cluster: ReturnType<typeof createCluster>, rootUrls: readonly string[]): void {
  // `_slots` is the client's slot map, declared in its typings; `rediscover` is how MOVED reaches it
  const slots = (cluster as unknown as { _slots: { rediscover(startWith: { options: { url: string } }): Promise<void> } })._slots;
  let last = 0;
  cluster.on('node-error', () => {
    const now = Date.now();
    if (now - last < REDISCOVER_EVERY_MS) return;
    last = now;
    // a root node that is down is skipped: the slots come from the first one that answers
    void slots.rediscover({ options: { url: rootUrls[0] } }).catch(() => undefined);
  });
}

/** `{prefix}`: Redis Cluster hashes only what is inside the first braces, so every key of the hub
 * lands on one slot (a prefix that already carries a tag keeps it) */
export function clusterPrefix(given: string): string {
  return /\{[^}]+\}/.test(given) ? given : `{${given}}`;
}

function tlsSocket(access: RedisAccess): { tls: true; ca?: Buffer; cert?: Buffer; key?: Buffer } | Record<string, never> {
  const tls = access.tls;
  const urls = access.target.kind === 'single' ? [access.target.url] : access.target.kind === 'cluster' ? access.target.urls : access.target.sentinels;
  const enabled = tls?.enabled || urls.some((url) => url.startsWith('rediss://'));
  if (!enabled) return {};
  return { tls: true, ...(tls?.ca && { ca: tls.ca }), ...(tls?.cert && { cert: tls.cert }), ...(tls?.key && { key: tls.key }) };
}

/** a Sentinel given as `host:port` or as a `redis://` URL */
function hostAndPort(sentinel: string): { host: string; port: number } {
  const url = new URL(/^[a-z]+:\/\//.test(sentinel) ? sentinel : `redis://${sentinel}`);
  return { host: url.hostname.replace(/^\[(.*)\]$/, '$1'), port: Number(url.port || 26379) };
}

/** the target for messages, without credentials */
export function describeTarget(target: RedisTarget): string {
  if (target.kind === 'single') return withoutCredentials(target.url);
  if (target.kind === 'cluster') return `the cluster of ${target.urls.map(withoutCredentials).join(', ')}`;
  return `master ${target.master} of the Sentinels ${target.sentinels.map(withoutCredentials).join(', ')}`;
}

/** the URL without a password or user */
export function withoutCredentials(url: string): string {
  try {
    const parsed = new URL(url);
    if (!parsed.host) return url;
    parsed.username = '';
    parsed.password = '';
    return parsed.href;
  } catch {
    return url.includes('@') ? 'the configured URL' : url;
  }
}
