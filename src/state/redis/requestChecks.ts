/**
 * The request's checks on Redis: one script, one round trip, built from the same Lua the ports run
 * on their own (GCRA admission, the activation claim).
 */
import { APPEND_JOURNEYS, type RedisJourneys } from './journeys';
import type { RedisClient, KeyOf } from './keys';
import { claimOf, CLAIM_ACTIVATION, freshEntry } from './ledger';
import { admitted, GCRA_ADMIT, limitArguments } from './rateLimits';
import { Script } from './script';
import { pendingId, pendingOf, type ActivationEntry } from '../ledger';
import type { Checked, Checks, RequestChecks } from '../requestChecks';
import type { BindingState } from '../tokenBindings';

// KEYS: the limits' keys, then token, request id, activation entry to claim, activation entry a
// delivery answers, each the key `none` where not asked, then `none`: a key of the hub's own that
// is never written (an empty name would hash to another Cluster slot than the hub's keys).
// ARGV: the number of limits, their interval and burst each, the token's renewal TTL, the request
// id's fingerprint and TTL, the activation's fingerprint, fresh entry, now and TTL. After them, the
// journey events waiting in this instance (APPEND_JOURNEYS): they ride on this round trip.
const CHECK = new Script(`${GCRA_ADMIT}${CLAIM_ACTIVATION}${APPEND_JOURNEYS}
local n = tonumber(ARGV[1])
appendJourneys(n + 6, 2 * n + 9, KEYS[n + 5])
local limitKeys, limits = {}, {}
for i = 1, n do
  limitKeys[i] = KEYS[i]
  limits[2 * i - 1] = ARGV[2 * i]
  limits[2 * i] = ARGV[2 * i + 1]
end
local admitted = admit(limitKeys, limits, 0)
if admitted[1] ~= 0 then return {admitted} end
local a = 2 * n + 2
local token, rid, act, delivered, none = KEYS[n + 1], KEYS[n + 2], KEYS[n + 3], KEYS[n + 4], KEYS[n + 5]
local binding = {}
if token ~= none then
  binding = redis.call('HGETALL', token)
  if ARGV[a] ~= '' and #binding > 0 then redis.call('EXPIRE', token, ARGV[a]) end
end
local before = false
if rid ~= none then
  before = redis.call('GET', rid)
  if not before then redis.call('SET', rid, ARGV[a + 1], 'EX', ARGV[a + 2]) end
end
local claim = {}
if act ~= none then claim = claimActivation(act, ARGV[a + 3], ARGV[a + 4], ARGV[a + 5], ARGV[a + 6]) end
local delivery = false
if delivered ~= none then delivery = redis.call('GET', delivered) end
return {admitted, binding, before, claim, delivery}`);

export class RedisRequestChecks implements RequestChecks {
  private readonly none: string;

  constructor(
    private readonly client: RedisClient,
    private readonly key: KeyOf,
    private readonly journeys?: RedisJourneys,
  ) {
    this.none = key('none', '');
  }

  async check(checks: Checks): Promise<Checked> {
    const { token, requestId, activation, delivery } = checks;
    const now = Date.now();
    const none = this.none;
    const keys = [
      ...checks.limits.map((c) => this.key('rl', c.key)),
      token ? this.key('tok', token.token) : none,
      requestId ? this.key('rid', requestId.key) : none,
      activation ? this.key('act', pendingId(activation.pending)) : none,
      delivery ? this.key('act', pendingId(delivery)) : none,
      none,
    ];
    const args = [
      String(checks.limits.length),
      ...limitArguments(checks.limits),
      token?.renewTtlSeconds === undefined ? '' : String(token.renewTtlSeconds),
      requestId?.fingerprint ?? '',
      requestId ? String(requestId.ttlSeconds) : '',
      activation?.fingerprint ?? '',
      activation ? freshEntry(activation.pending, activation.fingerprint, now + activation.claimMs) : '',
      String(now),
      activation ? String(activation.ttlSeconds) : '',
    ];
    const journal = this.journeys?.take();
    let reply: unknown;
    try {
      reply = await CHECK.run(this.client, journal ? [...keys, ...journal.keys] : keys, journal ? [...args, ...journal.args] : args);
    } catch (err) {
      if (journal) this.journeys?.giveBack(journal);
      throw err;
    }
    const [limits, pairs, before, claim, delivered] = reply as [number[], string[]?, (string | null)?, string[]?, (string | null)?];
    if (limits[0] !== 0) return { limits: admitted(limits) };
    return {
      limits: admitted(limits),
      binding: pairs && pairs.length > 0 ? { pairs: bindingOf(pairs) } : undefined,
      previousFingerprint: typeof before === 'string' ? before : undefined,
      claim: activation && claim ? claimOf(claim) : undefined,
      delivery: delivery && { pending: typeof delivered === 'string' ? pendingOf(JSON.parse(delivered) as ActivationEntry) : undefined },
    };
  }
}

/** HGETALL's flat reply as the binding's pairs */
function bindingOf(flat: readonly string[]): Record<string, BindingState> {
  const pairs: Record<string, BindingState> = {};
  for (let i = 0; i < flat.length; i += 2) pairs[flat[i]] = flat[i + 1] as BindingState;
  return pairs;
}
