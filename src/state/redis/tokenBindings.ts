/** Token bindings on Redis: one hash per token, `${msp} ${cmp}` -> state. */
import type { RedisClient, KeyOf } from './keys';
import { Script } from './script';
import { pairKey, type BindResult, type BindingState, type TokenBinding, type TokenBindings } from '../tokenBindings';

// a token issued by one MSP is refused to every other MSP; re-binding by the same MSP is allowed;
// a learnt pair never replaces what the pair has
const BIND_TOKEN = new Script(`
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
return 1`);

export class RedisTokenBindings implements TokenBindings {
  constructor(
    private readonly client: RedisClient,
    private readonly key: KeyOf,
  ) {}

  async get(token: string, renewTtlSeconds?: number): Promise<TokenBinding | undefined> {
    const key = this.key('tok', token);
    // issued in the same tick, node-redis writes both in one round trip, without MULTI's overhead
    const [pairs] = await Promise.all([this.client.hGetAll(key), renewTtlSeconds === undefined ? undefined : this.client.expire(key, renewTtlSeconds)]);
    return Object.keys(pairs).length > 0 ? { pairs: pairs as Record<string, BindingState> } : undefined;
  }

  async bind(token: string, msp: string, cmp: string, ttlSeconds: number, state: 'active' | 'learned' = 'active'): Promise<BindResult> {
    const bound = await BIND_TOKEN.run(this.client, [this.key('tok', token)], [msp, pairKey(msp, cmp), String(ttlSeconds), state]);
    return bound === 1 ? 'bound' : 'conflict';
  }

  async invalidate(token: string, msp: string, cmp: string, ttlSeconds: number): Promise<void> {
    const key = this.key('tok', token);
    await this.client.multi().hSet(key, pairKey(msp, cmp), 'invalidated').expire(key, ttlSeconds).exec();
  }
}
