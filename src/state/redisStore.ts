/**
 * The Redis Store (node-redis). Any number of hub instances share it: a 201 accepted by one
 * instance is matched by the Send Activation Code that lands on another. Commands fail fast while
 * Redis is away (no offline queue, a deadline on every call) so that a request gets a clear 503 instead of
 * hanging.
 */
import { randomUUID } from 'node:crypto';
import { createClient } from 'redis';
import {
  pairKey,
  pendingId,
  type BindResult,
  type BindingState,
  type FailureCount,
  type PendingActivation,
  type ReplayClaim,
  type Store,
  type StoredAnswer,
  type TokenBinding,
} from './store';
import type { RateLimit } from '../config/types';
import { intervalMs, type AdmitResult, type GcraResult, type LimitCheck } from './gcra';
import { withDeadline } from './deadline';
import { RedisOutbox } from './redisOutbox';
import type { RecordStore } from './records';

export interface RedisStoreOptions {
  readonly url: string;
  /** every key starts with it, so several hubs (or test runs) can share one Redis */
  readonly keyPrefix?: string;
  readonly commandTimeoutMs?: number;
  readonly onError?: (err: Error) => void;
}

// a token issued by one MSP is refused to every other MSP; re-binding by the same MSP is allowed;
// a learnt pair never replaces what the pair has
const BIND_TOKEN = `
local owner = ARGV[1] .. ' '
for _, pair in ipairs(redis.call('HKEYS', KEYS[1])) do
  if string.sub(pair, 1, string.len(owner)) ~= owner then return 0 end
end
if ARGV[4] == 'learned' then
  redis.call('HSETNX', KEYS[1], ARGV[2], 'learned')
else
  redis.call('HSET', KEYS[1], ARGV[2], ARGV[4])
end
redis.call('EXPIRE', KEYS[1], ARGV[3])
return 1`;

// GCRA (gcra.ts) on Redis's own clock, so that every hub instance counts on the same time
const GCRA = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local interval = tonumber(ARGV[1])
local capacity = tonumber(ARGV[2]) * interval
local tat = tonumber(redis.call('GET', KEYS[1])) or now
if tat < now then tat = now end
local nextTat = tat + interval
local wait = nextTat - now - capacity
if wait < 0 then wait = 0 end
if wait > tonumber(ARGV[3]) then return {0, math.ceil(wait)} end
redis.call('SET', KEYS[1], string.format('%.3f', nextTat), 'PX', math.ceil(nextTat - now) + 1000)
return {1, math.ceil(wait)}`;

// several GCRA checks at once (the caller's limit, the route's): all admit and count, or none counts
const ADMIT = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local tats = {}
for i = 1, #KEYS do
  local interval = tonumber(ARGV[2 * i - 1])
  local capacity = tonumber(ARGV[2 * i]) * interval
  local tat = tonumber(redis.call('GET', KEYS[i])) or now
  if tat < now then tat = now end
  local wait = tat + interval - now - capacity
  if wait > 0 then return {i, math.ceil(wait)} end
  tats[i] = tat + interval
end
for i = 1, #KEYS do
  redis.call('SET', KEYS[i], string.format('%.3f', tats[i]), 'PX', math.ceil(tats[i] - now) + 1000)
end
return {0, 0}`;

// releases a lock only for the instance that holds it
const RELEASE_LOCK = `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0`;

type Replay = { fingerprint: string; answer?: StoredAnswer };

export class RedisStore implements Store {
  readonly kind = 'redis';
  readonly outbox: RedisOutbox;
  private readonly prefix: string;

  private constructor(
    private readonly client: ReturnType<typeof createClient>,
    keyPrefix: string,
    /** every call into the store, the record stores included, fails after this */
    private readonly deadlineMs: number,
  ) {
    this.prefix = keyPrefix;
    this.outbox = new RedisOutbox(client, keyPrefix);
  }

  static async connect(options: RedisStoreOptions): Promise<RedisStore> {
    let connected = false;
    const client = createClient({
      url: options.url,
      disableOfflineQueue: true,
      socket: {
        connectTimeout: 5000,
        // a hub that cannot reach Redis at start says so and stops; once running, it keeps retrying
        reconnectStrategy: (retries, cause: Error) =>
          connected ? Math.min(100 * 2 ** retries, 2000) : new Error(`cannot connect to Redis at start: ${cause.message}`),
      },
    });
    // node-redis emits 'error' on every failed reconnect; without a listener the process would exit
    client.on('error', (err: Error) => options.onError?.(err));
    await client.connect();
    connected = true;
    const deadlineMs = options.commandTimeoutMs ?? 2000;
    return withDeadline(new RedisStore(client, options.keyPrefix ?? 'aidgw:', deadlineMs), deadlineMs, ['outbox']);
  }

  async getTokenBinding(token: string, renewTtlSeconds?: number): Promise<TokenBinding | undefined> {
    const key = this.key('tok', token);
    // issued in the same tick, node-redis writes both in one round trip, without MULTI's overhead
    const [pairs] = await Promise.all([this.client.hGetAll(key), renewTtlSeconds === undefined ? undefined : this.client.expire(key, renewTtlSeconds)]);
    return Object.keys(pairs).length > 0 ? { pairs: pairs as Record<string, BindingState> } : undefined;
  }

  async bindToken(token: string, msp: string, cmp: string, ttlSeconds: number, state: 'active' | 'learned' = 'active'): Promise<BindResult> {
    const bound = await this.client.eval(BIND_TOKEN, {
      keys: [this.key('tok', token)],
      arguments: [msp, pairKey(msp, cmp), String(ttlSeconds), state],
    });
    return bound === 1 ? 'bound' : 'conflict';
  }

  async invalidateToken(token: string, msp: string, cmp: string, ttlSeconds: number): Promise<void> {
    const key = this.key('tok', token);
    await this.client.multi().hSet(key, pairKey(msp, cmp), 'invalidated').expire(key, ttlSeconds).exec();
  }

  async addPendingActivation(pending: PendingActivation, ttlSeconds: number): Promise<void> {
    const index = this.pendingIndex(pending.msp, pending.cmp, pending.mspToken);
    await this.client
      .multi()
      .set(this.pendingKey(pending.cmp, pending.requestId), JSON.stringify(pending), { expiration: { type: 'EX', value: ttlSeconds } })
      .sAdd(index, pending.requestId)
      .expire(index, ttlSeconds)
      .zAdd(this.key('pacm', pending.msp), { score: Date.now() + ttlSeconds * 1000, value: pendingId(pending) })
      .expire(this.key('pacm', pending.msp), ttlSeconds)
      .sAdd(this.key('pacm', '*'), pending.msp)
      .expire(this.key('pacm', '*'), ttlSeconds)
      .exec();
  }

  async getPendingActivation(cmp: string, requestId: string): Promise<PendingActivation | undefined> {
    const [raw, answered] = await this.client.mGet([this.pendingKey(cmp, requestId), this.answeredKey(cmp, requestId)]);
    return raw === null ? undefined : { ...(JSON.parse(raw) as PendingActivation), answered: answered !== null };
  }

  async markPendingAnswered(pending: PendingActivation, ttlSeconds: number): Promise<void> {
    await this.client.set(this.answeredKey(pending.cmp, pending.requestId), '1', { expiration: { type: 'EX', value: ttlSeconds } });
  }

  async listPendingActivations(msp: string, cmp: string, token: string): Promise<PendingActivation[]> {
    const ids = await this.client.sMembers(this.pendingIndex(msp, cmp, token));
    if (ids.length === 0) return [];
    const raws = await this.client.mGet(ids.map((id) => this.pendingKey(cmp, id)));
    return raws.flatMap((raw) => (raw === null ? [] : [JSON.parse(raw) as PendingActivation]));
  }

  async replacePendingActivation(pending: PendingActivation): Promise<boolean> {
    const set = await this.client.set(this.pendingKey(pending.cmp, pending.requestId), JSON.stringify(pending), { condition: 'XX', expiration: 'KEEPTTL' });
    return set === 'OK';
  }

  async countPendingActivations(): Promise<Record<string, number>> {
    const msps = await this.client.sMembers(this.key('pacm', '*'));
    const now = Date.now();
    const counts: Record<string, number> = {};
    for (const msp of msps) {
      // entries whose record has expired leave the index here
      const [, count] = await this.client.multi().zRemRangeByScore(this.key('pacm', msp), '-inf', now).zCard(this.key('pacm', msp)).exec();
      counts[msp] = Number(count);
    }
    return counts;
  }

  async consumePendingActivation(pending: PendingActivation): Promise<boolean> {
    const [deleted] = await this.client
      .multi()
      .del(this.pendingKey(pending.cmp, pending.requestId))
      .del(this.answeredKey(pending.cmp, pending.requestId))
      .sRem(this.pendingIndex(pending.msp, pending.cmp, pending.mspToken), pending.requestId)
      .zRem(this.key('pacm', pending.msp), pendingId(pending))
      .exec();
    return Number(deleted) === 1;
  }

  async countFailures(keys: readonly string[], windowSeconds: number): Promise<FailureCount[]> {
    const multi = this.client.multi();
    for (const key of keys) multi.incr(this.key('af', key)).pExpire(this.key('af', key), windowSeconds * 1000, 'NX').pTTL(this.key('af', key));
    const replies = await multi.exec();
    const now = Date.now();
    return keys.map((_, i) => ({ count: Number(replies[i * 3]), resetAt: now + Math.max(0, Number(replies[i * 3 + 2])) }));
  }

  async rememberRequest(key: string, fingerprint: string, ttlSeconds: number): Promise<string | undefined> {
    const k = this.key('rid', key);
    const set = await this.client.set(k, fingerprint, { condition: 'NX', expiration: { type: 'EX', value: ttlSeconds } });
    if (set === 'OK') return undefined;
    return (await this.client.get(k)) ?? undefined;
  }

  async rateLimit(key: string, limit: RateLimit, maxWaitMs: number): Promise<GcraResult> {
    const [allowed, waitMs] = (await this.client.eval(GCRA, {
      keys: [this.key('rl', key)],
      arguments: [String(intervalMs(limit)), String(limit.burst), String(maxWaitMs)],
    })) as [number, number];
    return { allowed: allowed === 1, waitMs };
  }

  async admit(checks: readonly LimitCheck[]): Promise<AdmitResult> {
    const [refused, waitMs] = (await this.client.eval(ADMIT, {
      keys: checks.map((c) => this.key('rl', c.key)),
      arguments: checks.flatMap((c) => [String(intervalMs(c.limit)), String(c.limit.burst)]),
    })) as [number, number];
    return refused === 0 ? { allowed: true } : { allowed: false, refusedBy: refused - 1, waitMs };
  }

  async claimReplay(key: string, fingerprint: string, ttlSeconds: number): Promise<ReplayClaim> {
    const k = this.key('rpl', key);
    const claim: Replay = { fingerprint };
    const set = await this.client.set(k, JSON.stringify(claim), {
      condition: 'NX',
      expiration: { type: 'EX', value: ttlSeconds },
    });
    if (set === 'OK') return { state: 'claimed' };
    const raw = await this.client.get(k);
    // the claim expired between the two commands: the caller may simply try again
    if (raw === null) return this.claimReplay(key, fingerprint, ttlSeconds);
    const existing = JSON.parse(raw) as Replay;
    return existing.answer
      ? { state: 'done', fingerprint: existing.fingerprint, answer: existing.answer }
      : { state: 'inflight', fingerprint: existing.fingerprint };
  }

  async completeReplay(key: string, fingerprint: string, answer: StoredAnswer, ttlSeconds: number): Promise<void> {
    const value: Replay = { fingerprint, answer };
    await this.client.set(this.key('rpl', key), JSON.stringify(value), { expiration: { type: 'EX', value: ttlSeconds } });
  }

  async releaseReplay(key: string): Promise<void> {
    await this.client.del(this.key('rpl', key));
  }

  records(namespace: string): RecordStore {
    const key = (kind: string, id: string) => this.key(kind, `${namespace} ${id}`);
    const client = this.client;
    return withDeadline<RecordStore>({
      async save(id, value, ttlSeconds, indexes = {}) {
        const multi = client.multi().set(key('rec', id), JSON.stringify(value), { expiration: { type: 'EX', value: ttlSeconds } });
        for (const [index, indexKey] of Object.entries(indexes)) {
          const set = key('rix', `${index} ${indexKey}`);
          multi.sAdd(set, id).expire(set, ttlSeconds);
        }
        await multi.exec();
      },
      async get<T>(id: string) {
        const raw = await client.get(key('rec', id));
        return raw === null ? undefined : (JSON.parse(raw) as T);
      },
      async find<T>(index: string, indexKey: string) {
        const ids = await client.sMembers(key('rix', `${index} ${indexKey}`));
        if (ids.length === 0) return [];
        const raws = await client.mGet(ids.map((id) => key('rec', id)));
        return raws.flatMap((raw) => (raw === null ? [] : [JSON.parse(raw) as T]));
      },
      async acquireLock(lock, ttlMs) {
        const owner = randomUUID();
        const set = await client.set(key('lock', lock), owner, { condition: 'NX', expiration: { type: 'PX', value: ttlMs } });
        return set === 'OK' ? owner : undefined;
      },
      async releaseLock(lock, owner) {
        await client.eval(RELEASE_LOCK, { keys: [key('lock', lock)], arguments: [owner] });
      },
    }, this.deadlineMs);
  }

  async ping(): Promise<void> {
    await this.client.ping();
  }

  async close(): Promise<void> {
    if (this.client.isOpen) await this.client.close();
  }

  private key(kind: string, id: string): string {
    return `${this.prefix}${kind}:${id}`;
  }

  /** a pending request is the CMP's: another CMP using the same id names another request */
  private pendingKey(cmp: string, requestId: string): string {
    return this.key('pac', pendingId({ cmp, requestId }));
  }

  private answeredKey(cmp: string, requestId: string): string {
    return this.key('paca', pendingId({ cmp, requestId }));
  }

  private pendingIndex(msp: string, cmp: string, token: string): string {
    return this.key('pacs', `${msp} ${cmp} ${token}`);
  }
}
