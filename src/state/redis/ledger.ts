/**
 * The per-request ledger on Redis. Request ids are single keys written with NX. An activation
 * request is one JSON entry per CMP and request id (`act:`), moved between its states by scripts,
 * so that each change is one round trip and atomic; the requests waiting for a delivery are also
 * indexed per (MSP, CMP, token) for deliveries whose ID is null (`pacs:`) and counted per MSP
 * (`pacm:`).
 */
import type { RedisClient, KeyOf } from './keys';
import { ENQUEUE_DELIVERY, type RedisOutbox } from './outbox';
import { Script } from './script';
import type { Delivery } from '../outbox';
import {
  inflightEntry,
  pendingId,
  pendingOf,
  type ActivationEntry,
  type CallOutcome,
  type Ledger,
  type PendingActivation,
  type ReplayClaim,
  type StoredAnswer,
} from '../ledger';

// KEYS: entry. ARGV: fingerprint, the new entry (JSON), now, TTL. A new entry, or what the entry
// says; one open or in flight past its claim is taken over, keeping when the request began. A
// claim made again by the call that holds it (its answer was lost) is that call's.
export const CLAIM_ACTIVATION = `
local function claimActivation(key, fingerprint, fresh, now, ttl)
  local raw = redis.call('GET', key)
  if not raw then
    redis.call('SET', key, fresh, 'EX', ttl)
    return {'claimed'}
  end
  local entry = cjson.decode(raw)
  local taken = cjson.decode(fresh)
  if entry.state == 'inflight' and taken.claim and entry.claim == taken.claim then return {'claimed'} end
  -- an entry carried over from an earlier build may not know its request's fingerprint
  if entry.fingerprint ~= '' and entry.fingerprint ~= fingerprint then return {'inflight', entry.fingerprint} end
  if entry.state == 'inflight' and tonumber(entry['until']) > tonumber(now) then return {'inflight', entry.fingerprint} end
  if entry.answer then return {'done', fingerprint, cjson.encode(entry.answer)} end
  taken.pending.createdAt = entry.pending.createdAt
  redis.call('SET', key, cjson.encode(taken), 'EX', ttl)
  return {'claimed'}
end
`;

const CLAIM = new Script(`${CLAIM_ACTIVATION}\nreturn claimActivation(KEYS[1], ARGV[1], ARGV[2], ARGV[3], ARGV[4])`);

// KEYS: entry, its pair index, its MSP's count, the list of MSPs. ARGV: outcome, answer (JSON or
// ''), TTL, now, the pending id, the request id, the MSP, the call's claim. A request waiting for a
// delivery is indexed for deliveries whose ID is null, and counted per MSP.
const INDEX_PENDING = `
local function indexPending()
  redis.call('SADD', KEYS[2], ARGV[6])
  redis.call('EXPIRE', KEYS[2], ARGV[3])
  redis.call('ZADD', KEYS[3], tonumber(ARGV[4]) + tonumber(ARGV[3]) * 1000, ARGV[5])
  redis.call('EXPIRE', KEYS[3], ARGV[3])
  redis.call('SADD', KEYS[4], ARGV[7])
  redis.call('EXPIRE', KEYS[4], ARGV[3])
  return 1
end
`;

// A command may run long after the hub gave up on it (a client resends what it had not sent once it
// has found the new primary): each call changes only an entry it still holds (its claim) in the
// state it left it, so that a late finish of a call that ended in a refusal deletes nothing another
// call or the bridge has made of the entry since.
const HELD = `
local function held(entry, claim, states)
  if claim ~= '' and entry.claim and entry.claim ~= claim then return false end
  for _, state in ipairs(states) do
    if entry.state == state then return true end
  end
  return false
end
`;

const FINISH = new Script(`${INDEX_PENDING}${HELD}
local raw = redis.call('GET', KEYS[1])
if not raw then return 0 end
local entry = cjson.decode(raw)
if not held(entry, ARGV[8], {'inflight'}) then return 0 end
local kind = ARGV[1]
if kind == 'release' or (entry.settled and kind == 'open') then
  redis.call('DEL', KEYS[1])
  return 1
end
entry['until'] = nil
if ARGV[2] ~= '' then entry.answer = cjson.decode(ARGV[2]) else entry.answer = nil end
if kind == 'done' or entry.settled then
  entry.state = 'done'
  redis.call('SET', KEYS[1], cjson.encode(entry), 'EX', ARGV[3])
  return 1
end
entry.state = kind
redis.call('SET', KEYS[1], cjson.encode(entry), 'EX', ARGV[3])
return indexPending()`);

// as FINISH, for a request still pending: bridged by the hub (ARGV[1] 'bridged', from in flight),
// or 'pending' again when the MSP went asynchronous after all (from bridged). KEYS[5..7],
// ARGV[9..11]: the deadline entry of a bridged request (ENQUEUE_DELIVERY), queued in the same step;
// made again, the step queues nothing twice.
const BRIDGE = new Script(`${INDEX_PENDING}${ENQUEUE_DELIVERY}${HELD}
local raw = redis.call('GET', KEYS[1])
if not raw then return 0 end
local entry = cjson.decode(raw)
local from = ARGV[1] == 'bridged' and 'inflight' or 'bridged'
if entry.settled or not held(entry, ARGV[8], {from, ARGV[1]}) then return 0 end
entry.state = ARGV[1]
entry['until'] = nil
entry.answer = { status = 201, body = '' }
redis.call('SET', KEYS[1], cjson.encode(entry), 'EX', ARGV[3])
if KEYS[5] then enqueue(KEYS[5], KEYS[6], KEYS[7], ARGV[9], ARGV[10], ARGV[11]) end
return indexPending()`);

// KEYS: entry, its pair index, its MSP's count. ARGV: the pending id, the request id. Ends a
// request a delivery may match, once.
const CONSUME_PENDING = `
local function consumePending()
  local raw = redis.call('GET', KEYS[1])
  if not raw then return 0 end
  local entry = cjson.decode(raw)
  if entry.settled or entry.state == 'done' then return 0 end
  redis.call('SREM', KEYS[2], ARGV[2])
  redis.call('ZREM', KEYS[3], ARGV[1])
  if entry.state == 'open' then
    redis.call('DEL', KEYS[1])
    return 1
  end
  if entry.state == 'inflight' then entry.settled = true else entry.state = 'done' end
  redis.call('SET', KEYS[1], cjson.encode(entry), 'KEEPTTL')
  return 1
end
`;

const CONSUME = new Script(`${CONSUME_PENDING}\nreturn consumePending()`);

// as CONSUME for a bridged request, and the delivery that tells the CMP queued in the same step
// (KEYS[4..6], ARGV[3..5]: ENQUEUE_DELIVERY). The delivery's marker says the step ran already: made
// again, it answers 1 again.
const SETTLE = new Script(`${CONSUME_PENDING}${ENQUEUE_DELIVERY}
if redis.call('EXISTS', KEYS[6]) == 1 then return 1 end
local raw = redis.call('GET', KEYS[1])
if not raw or cjson.decode(raw).state ~= 'bridged' then return 0 end
if consumePending() == 0 then return 0 end
enqueue(KEYS[4], KEYS[5], KEYS[6], ARGV[3], ARGV[4], ARGV[5])
return 1`);

const MARK_ANSWERED = new Script(`
local raw = redis.call('GET', KEYS[1])
if not raw then return 0 end
local entry = cjson.decode(raw)
entry.answered = true
redis.call('SET', KEYS[1], cjson.encode(entry), 'KEEPTTL')
return 1`);

export class RedisLedger implements Ledger {
  constructor(
    private readonly client: RedisClient,
    private readonly key: KeyOf,
    /** the outbox a settled request's delivery is queued in, in the same script */
    private readonly outbox: RedisOutbox,
  ) {}

  async rememberRequest(key: string, fingerprint: string, ttlSeconds: number): Promise<string | undefined> {
    const k = this.key('rid', key);
    const set = await this.client.set(k, fingerprint, { condition: 'NX', expiration: { type: 'EX', value: ttlSeconds } });
    if (set === 'OK') return undefined;
    return (await this.client.get(k)) ?? undefined;
  }

  async claimActivation(pending: PendingActivation, fingerprint: string, claimMs: number, ttlSeconds: number): Promise<ReplayClaim> {
    const now = Date.now();
    const reply = (await CLAIM.run(
      this.client,
      [this.entryKey(pending)],
      [fingerprint, freshEntry(pending, fingerprint, now + claimMs), String(now), String(ttlSeconds)],
    )) as string[];
    return claimOf(reply);
  }

  async finishActivation(pending: PendingActivation, outcome: CallOutcome): Promise<void> {
    const answer = outcome.kind === 'done' || outcome.kind === 'pending' ? JSON.stringify(outcome.answer) : '';
    const ttl = outcome.kind === 'release' ? 0 : outcome.ttlSeconds;
    await FINISH.run(this.client, this.pendingKeys(pending), [
      outcome.kind,
      answer,
      String(ttl),
      String(Date.now()),
      pendingId(pending),
      pending.requestId,
      pending.msp,
      pending.claimId ?? '',
    ]);
  }

  async bridgeActivation(
    pending: PendingActivation,
    bridged: boolean,
    ttlSeconds: number,
    deadline?: { readonly delivery: Delivery; readonly at: number },
  ): Promise<boolean> {
    const queueing = deadline && this.outbox.queueing(deadline.delivery, deadline.at);
    const keys = [...this.pendingKeys(pending), ...(queueing?.keys ?? [])];
    const args = [
      bridged ? 'bridged' : 'pending',
      '',
      String(ttlSeconds),
      String(Date.now()),
      pendingId(pending),
      pending.requestId,
      pending.msp,
      pending.claimId ?? '',
      ...(queueing?.args ?? []),
    ];
    return (await BRIDGE.run(this.client, keys, args)) === 1;
  }

  async getPending(cmp: string, requestId: string): Promise<PendingActivation | undefined> {
    const raw = await this.client.get(this.key('act', pendingId({ cmp, requestId })));
    return raw === null ? undefined : pendingOf(JSON.parse(raw) as ActivationEntry);
  }

  async listPending(msp: string, cmp: string, token: string): Promise<PendingActivation[]> {
    const ids = await this.client.sMembers(this.pendingIndex(msp, cmp, token));
    if (ids.length === 0) return [];
    const raws = await this.client.mGet(ids.map((requestId) => this.key('act', pendingId({ cmp, requestId }))));
    return raws.flatMap((raw) => {
      const pending = raw === null ? undefined : pendingOf(JSON.parse(raw) as ActivationEntry);
      return pending ? [pending] : [];
    });
  }

  async countPending(): Promise<Record<string, number>> {
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

  async consumePending(pending: PendingActivation): Promise<boolean> {
    return (await CONSUME.run(this.client, this.pendingKeys(pending).slice(0, 3), [pendingId(pending), pending.requestId])) === 1;
  }

  async settlePending(pending: PendingActivation, delivery: Delivery): Promise<boolean> {
    const { keys, args } = this.outbox.queueing(delivery);
    return (await SETTLE.run(this.client, [...this.pendingKeys(pending).slice(0, 3), ...keys], [pendingId(pending), pending.requestId, ...args])) === 1;
  }

  async markPendingAnswered(pending: PendingActivation): Promise<void> {
    await MARK_ANSWERED.run(this.client, [this.entryKey(pending)], []);
  }

  private entryKey(pending: Pick<PendingActivation, 'cmp' | 'requestId'>): string {
    return this.key('act', pendingId(pending));
  }

  /** the entry, its pair index, its MSP's count, the list of MSPs */
  private pendingKeys(pending: PendingActivation): string[] {
    return [this.entryKey(pending), this.pendingIndex(pending.msp, pending.cmp, pending.mspToken), this.key('pacm', pending.msp), this.key('pacm', '*')];
  }

  private pendingIndex(msp: string, cmp: string, token: string): string {
    return this.key('pacs', `${msp} ${cmp} ${token}`);
  }
}

/** a new entry as the scripts write it */
export function freshEntry(pending: PendingActivation, fingerprint: string, until: number): string {
  return JSON.stringify(inflightEntry(pending, fingerprint, until));
}

/** a claim script's reply */
export function claimOf(reply: readonly string[]): ReplayClaim {
  if (reply[0] === 'claimed') return { state: 'claimed' };
  if (reply[0] === 'done') return { state: 'done', fingerprint: reply[1], answer: JSON.parse(reply[2]) as StoredAnswer };
  return { state: 'inflight', fingerprint: reply[1] };
}
