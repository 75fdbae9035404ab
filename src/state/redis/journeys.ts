/**
 * Journeys on Redis: a list per msp_token (`jrn:`), capped with LTRIM and living as long as the
 * token's binding; the ids that lead to it (`jrx:`, an ICCID only hashed); a sorted set per stage
 * (`jrw:`) of the journeys waiting there, scored by since when.
 *
 * No round trip of its own on the request path: an event waits here, in this instance, for the
 * next request-checks script (state/redis/requestChecks.ts), which appends what waits in the same
 * EVALSHA; under traffic every event rides on a script a request makes anyway. An instance that
 * makes none for FLUSH_MS writes what waits itself, so a journey is at most that late; what an
 * instance holds when it dies unannounced is lost, a journey being a view, not a record the
 * hub's transitions depend on.
 */
import type { KeyOf, RedisClient } from './keys';
import { Script } from './script';
import { STAGES, type JourneyEvent, type JourneyLookup, type JourneyStage, type JourneyWrite } from '../../journeys/event';
import { ordered, type Journey, type Journeys, type StuckAfter, type WaitingJourney } from '../../journeys/journeys';
import { lookupId } from '../../journeys/lookup';

// KEYS from k: the stages' sets, then per write the key of the id it is found by (or `none`) and
// the keys of the ids it may be found by from now on. ARGV from a: the number of writes, the
// journeys' key prefix, then per write its token ('' to find it by `via`), event, TTL, cap, stage
// ('' for no change, 'settled', or a stage), event time and number of ids.
export const APPEND_JOURNEYS = `
local function appendJourneys(k, a, none)
  local count = tonumber(ARGV[a])
  if not count then return end
  local prefix = ARGV[a + 1]
  local stageKeys = {${STAGES.map((s, i) => `${s} = KEYS[k + ${i}]`).join(', ')}}
  k = k + ${STAGES.length}
  a = a + 2
  for _ = 1, count do
    local token, event, ttl, cap, stage, at, ids = ARGV[a], ARGV[a + 1], ARGV[a + 2], tonumber(ARGV[a + 3]), ARGV[a + 4], ARGV[a + 5], tonumber(ARGV[a + 6])
    if token == '' and KEYS[k] ~= none then token = redis.call('GET', KEYS[k]) or '' end
    if token ~= '' then
      local key = prefix .. token
      redis.call('RPUSH', key, event)
      redis.call('LTRIM', key, -cap, -1)
      redis.call('EXPIRE', key, ttl)
      for j = 1, ids do redis.call('SET', KEYS[k + j], token, 'EX', ttl) end
      if stage ~= '' then
        for name, skey in pairs(stageKeys) do
          if name == stage then
            redis.call('ZADD', skey, at, token)
            redis.call('EXPIRE', skey, ttl)
          else
            redis.call('ZREM', skey, token)
          end
        end
      end
    end
    k = k + 1 + ids
    a = a + 7
  end
end
`;

const APPEND = new Script(`${APPEND_JOURNEYS}\nappendJourneys(2, 1, KEYS[1])\nreturn 1`);

/** how long an event waits for a request's script before the instance writes it itself */
export const FLUSH_MS = 250;
/** writes one script carries at most; more wait for the next */
const BATCH = 64;
/** events an instance holds while Redis is away; past it the oldest are dropped */
const MAX_WAITING = 10000;

/** what the next script carries: keys and arguments after its own */
export interface JourneyAppends {
  readonly writes: readonly JourneyWrite[];
  readonly keys: readonly string[];
  readonly args: readonly string[];
}

const NOTHING: JourneyAppends = { writes: [], keys: [], args: [] };

export class RedisJourneys implements Journeys {
  /** script calls of its own (an idle instance writing what waits): the round trips journeys add */
  ownCalls = 0;
  private waiting: JourneyWrite[] = [];
  private oldestAt = 0;
  private readonly timer: NodeJS.Timeout;

  constructor(
    private readonly client: RedisClient,
    private readonly key: KeyOf,
    private readonly none: string,
  ) {
    this.timer = setInterval(() => {
      if (this.waiting.length > 0 && Date.now() - this.oldestAt >= FLUSH_MS) void this.flush().catch(() => undefined);
    }, FLUSH_MS);
    this.timer.unref();
  }

  record(write: JourneyWrite): void {
    if (this.waiting.length === 0) this.oldestAt = Date.now();
    this.waiting.push(write);
    if (this.waiting.length > MAX_WAITING) this.waiting.splice(0, this.waiting.length - MAX_WAITING);
  }

  /** the waiting events, for a script about to run; given back if it fails */
  take(): JourneyAppends {
    if (this.waiting.length === 0) return NOTHING;
    const writes = this.waiting.splice(0, BATCH);
    if (this.waiting.length > 0) this.oldestAt = Date.now();
    const keys = STAGES.map((s) => this.key('jrw', s));
    const args = [String(writes.length), this.key('jrn', '')];
    for (const w of writes) {
      keys.push(w.via ? this.key('jrx', lookupId(w.via)) : this.none, ...w.indexes.map((l) => this.key('jrx', lookupId(l))));
      args.push(
        w.token ?? '',
        JSON.stringify(w.event),
        String(w.ttlSeconds),
        String(w.maxEvents),
        w.event.stage ?? '',
        String(w.event.at),
        String(w.indexes.length),
      );
    }
    return { writes, keys, args };
  }

  /** a script that failed: its events wait for the next */
  giveBack(appends: JourneyAppends): void {
    if (appends.writes.length === 0) return;
    if (this.waiting.length === 0) this.oldestAt = Date.now();
    this.waiting.unshift(...appends.writes);
  }

  async flush(): Promise<void> {
    while (this.waiting.length > 0) {
      const appends = this.take();
      try {
        this.ownCalls += 1;
        await APPEND.run(this.client, [this.none, ...appends.keys], appends.args);
      } catch (err) {
        this.giveBack(appends);
        throw err;
      }
    }
  }

  async read(token: string): Promise<Journey | undefined> {
    const raws = await this.client.lRange(this.key('jrn', token), 0, -1);
    if (raws.length === 0) return undefined;
    return { token, events: ordered(raws.map((raw) => JSON.parse(raw) as JourneyEvent)) };
  }

  async resolve(lookup: JourneyLookup): Promise<string | undefined> {
    return (await this.client.get(this.key('jrx', lookupId(lookup)))) ?? undefined;
  }

  async stuck(stuckAfter: StuckAfter, now: number): Promise<WaitingJourney[]> {
    const found: WaitingJourney[] = [];
    for (const stage of STAGES) {
      const entries = await this.client.zRangeByScoreWithScores(this.key('jrw', stage), '-inf', now - stuckAfter[stage] * 1000, {
        LIMIT: { offset: 0, count: 1000 },
      });
      for (const { value, score } of entries) {
        // a journey that expired leaves its stage here: it goes when it is next listed
        if ((await this.client.exists(this.key('jrn', value))) === 1) found.push({ token: value, stage, since: score });
        else await this.client.zRem(this.key('jrw', stage), value);
      }
    }
    return found.sort((a, b) => a.since - b.since);
  }

  async countStuck(stuckAfter: StuckAfter, now: number): Promise<Record<JourneyStage, number>> {
    const counts = {} as Record<JourneyStage, number>;
    for (const stage of STAGES) counts[stage] = await this.client.zCount(this.key('jrw', stage), '-inf', now - stuckAfter[stage] * 1000);
    return counts;
  }

  async close(): Promise<void> {
    clearInterval(this.timer);
    await this.flush().catch(() => undefined);
  }
}
