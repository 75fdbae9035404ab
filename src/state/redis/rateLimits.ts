/** Rate limits on Redis: GCRA (gcra.ts) in one script on Redis's own clock, so that every hub
 * instance counts on the same time; failure counts as fixed windows. */
import type { RedisClient, KeyOf } from './keys';
import { Script } from './script';
import type { RateLimit } from '../../config/types';
import { intervalMs, type AdmitResult, type LimitCheck } from '../gcra';
import type { FailureCount, RateLimits } from '../rateLimits';

// gcraStep of gcra.ts over every key, on Redis's own clock so that every hub instance counts on the
// same time: all admit (within maxWait ms) and count, or none counts. limits: interval, burst per key.
export const GCRA_ADMIT = `
local function admit(keys, limits, maxWait)
  local t = redis.call('TIME')
  local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
  local tats = {}
  local waited = 0
  for i = 1, #keys do
    local interval = tonumber(limits[2 * i - 1])
    local capacity = tonumber(limits[2 * i]) * interval
    local tat = tonumber(redis.call('GET', keys[i])) or now
    if tat < now then tat = now end
    local wait = tat + interval - now - capacity
    if wait < 0 then wait = 0 end
    if wait > maxWait then return {i, math.ceil(wait)} end
    if wait > waited then waited = wait end
    tats[i] = tat + interval
  end
  for i = 1, #keys do
    redis.call('SET', keys[i], string.format('%.3f', tats[i]), 'PX', math.ceil(tats[i] - now) + 1000)
  end
  return {0, math.ceil(waited)}
end
`;

const ADMIT = new Script(`${GCRA_ADMIT}
local limits = {}
for i = 2, #ARGV do limits[i - 1] = ARGV[i] end
return admit(KEYS, limits, tonumber(ARGV[1]))`);

/** a script's [refused index + 1 or 0, wait] as the port answers it */
export function admitted([refused, waitMs]: readonly number[]): AdmitResult {
  return refused === 0 ? { allowed: true, waitMs } : { allowed: false, refusedBy: refused - 1, waitMs };
}

/** each limit's interval and burst as script arguments; limits come from the config in service,
 * so they are worked out once per limit */
const argumentsOf = new WeakMap<RateLimit, readonly [string, string]>();

/** the arguments of `admit` for these checks: interval and burst of each */
export function limitArguments(checks: readonly LimitCheck[]): string[] {
  const args: string[] = [];
  for (const { limit } of checks) {
    let pair = argumentsOf.get(limit);
    if (pair === undefined) argumentsOf.set(limit, (pair = [String(intervalMs(limit)), String(limit.burst)]));
    args.push(pair[0], pair[1]);
  }
  return args;
}

export class RedisRateLimits implements RateLimits {
  constructor(
    private readonly client: RedisClient,
    private readonly key: KeyOf,
  ) {}

  async admit(checks: readonly LimitCheck[], maxWaitMs = 0): Promise<AdmitResult> {
    const reply = (await ADMIT.run(
      this.client,
      checks.map((c) => this.key('rl', c.key)),
      [String(maxWaitMs), ...limitArguments(checks)],
    )) as number[];
    return admitted(reply);
  }

  async countFailures(keys: readonly string[], windowSeconds: number): Promise<FailureCount[]> {
    const multi = this.client.multi();
    for (const key of keys)
      multi
        .incr(this.key('af', key))
        .pExpire(this.key('af', key), windowSeconds * 1000, 'NX')
        .pTTL(this.key('af', key));
    const replies = await multi.exec();
    const now = Date.now();
    return keys.map((_, i) => ({ count: Number(replies[i * 3]), resetAt: now + Math.max(0, Number(replies[i * 3 + 2])) }));
  }
}
