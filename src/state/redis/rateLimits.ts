/** Rate limits on Redis: GCRA (gcra.ts) in one script on Redis's own clock, so that every hub
 * instance counts on the same time; failure counts as fixed windows. */
import type { RedisClient, KeyOf } from './keys';
import { intervalMs, type AdmitResult, type LimitCheck } from '../gcra';
import type { FailureCount, RateLimits } from '../rateLimits';

// gcraStep of gcra.ts over every key: all admit (within ARGV[1] ms) and count, or none counts
const ADMIT = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local maxWait = tonumber(ARGV[1])
local tats = {}
local waited = 0
for i = 1, #KEYS do
  local interval = tonumber(ARGV[2 * i])
  local capacity = tonumber(ARGV[2 * i + 1]) * interval
  local tat = tonumber(redis.call('GET', KEYS[i])) or now
  if tat < now then tat = now end
  local wait = tat + interval - now - capacity
  if wait < 0 then wait = 0 end
  if wait > maxWait then return {i, math.ceil(wait)} end
  if wait > waited then waited = wait end
  tats[i] = tat + interval
end
for i = 1, #KEYS do
  redis.call('SET', KEYS[i], string.format('%.3f', tats[i]), 'PX', math.ceil(tats[i] - now) + 1000)
end
return {0, math.ceil(waited)}`;

export class RedisRateLimits implements RateLimits {
  constructor(
    private readonly client: RedisClient,
    private readonly key: KeyOf,
  ) {}

  async admit(checks: readonly LimitCheck[], maxWaitMs = 0): Promise<AdmitResult> {
    const [refused, waitMs] = (await this.client.eval(ADMIT, {
      keys: checks.map((c) => this.key('rl', c.key)),
      arguments: [String(maxWaitMs), ...checks.flatMap((c) => [String(intervalMs(c.limit)), String(c.limit.burst)])],
    })) as [number, number];
    return refused === 0 ? { allowed: true, waitMs } : { allowed: false, refusedBy: refused - 1, waitMs };
  }

  async countFailures(keys: readonly string[], windowSeconds: number): Promise<FailureCount[]> {
    const multi = this.client.multi();
    for (const key of keys) multi.incr(this.key('af', key)).pExpire(this.key('af', key), windowSeconds * 1000, 'NX').pTTL(this.key('af', key));
    const replies = await multi.exec();
    const now = Date.now();
    return keys.map((_, i) => ({ count: Number(replies[i * 3]), resetAt: now + Math.max(0, Number(replies[i * 3 + 2])) }));
  }
}
