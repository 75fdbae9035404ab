/**
 * The per-request ledger on Redis. Request ids and replay claims are single keys written with NX;
 * a pending request is a key per CMP and request id, with an index per (MSP, CMP, token) for
 * deliveries whose ID is null and a sorted set per MSP for counting; `paca:` marks its 201 sent.
 */
import type { RedisClient, KeyOf } from './keys';
import { pendingId, type Ledger, type PendingActivation, type ReplayClaim, type StoredAnswer } from '../ledger';

type Replay = { fingerprint: string; answer?: StoredAnswer };

export class RedisLedger implements Ledger {
  constructor(
    private readonly client: RedisClient,
    private readonly key: KeyOf,
  ) {}

  async rememberRequest(key: string, fingerprint: string, ttlSeconds: number): Promise<string | undefined> {
    const k = this.key('rid', key);
    const set = await this.client.set(k, fingerprint, { condition: 'NX', expiration: { type: 'EX', value: ttlSeconds } });
    if (set === 'OK') return undefined;
    return (await this.client.get(k)) ?? undefined;
  }

  async claimReplay(key: string, fingerprint: string, ttlSeconds: number): Promise<ReplayClaim> {
    const k = this.key('rpl', key);
    const claim: Replay = { fingerprint };
    const set = await this.client.set(k, JSON.stringify(claim), { condition: 'NX', expiration: { type: 'EX', value: ttlSeconds } });
    if (set === 'OK') return { state: 'claimed' };
    const raw = await this.client.get(k);
    // the claim expired between the two commands: the caller may simply try again
    if (raw === null) return this.claimReplay(key, fingerprint, ttlSeconds);
    const existing = JSON.parse(raw) as Replay;
    return existing.answer ? { state: 'done', fingerprint: existing.fingerprint, answer: existing.answer } : { state: 'inflight', fingerprint: existing.fingerprint };
  }

  async completeReplay(key: string, fingerprint: string, answer: StoredAnswer, ttlSeconds: number): Promise<void> {
    const value: Replay = { fingerprint, answer };
    await this.client.set(this.key('rpl', key), JSON.stringify(value), { expiration: { type: 'EX', value: ttlSeconds } });
  }

  async releaseReplay(key: string): Promise<void> {
    await this.client.del(this.key('rpl', key));
  }

  async addPending(pending: PendingActivation, ttlSeconds: number): Promise<void> {
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

  async getPending(cmp: string, requestId: string): Promise<PendingActivation | undefined> {
    const [raw, answered] = await this.client.mGet([this.pendingKey(cmp, requestId), this.answeredKey(cmp, requestId)]);
    return raw === null ? undefined : { ...(JSON.parse(raw) as PendingActivation), answered: answered !== null };
  }

  async markPendingAnswered(pending: PendingActivation, ttlSeconds: number): Promise<void> {
    await this.client.set(this.answeredKey(pending.cmp, pending.requestId), '1', { expiration: { type: 'EX', value: ttlSeconds } });
  }

  async listPending(msp: string, cmp: string, token: string): Promise<PendingActivation[]> {
    const ids = await this.client.sMembers(this.pendingIndex(msp, cmp, token));
    if (ids.length === 0) return [];
    const raws = await this.client.mGet(ids.map((id) => this.pendingKey(cmp, id)));
    return raws.flatMap((raw) => (raw === null ? [] : [JSON.parse(raw) as PendingActivation]));
  }

  async replacePending(pending: PendingActivation): Promise<boolean> {
    const set = await this.client.set(this.pendingKey(pending.cmp, pending.requestId), JSON.stringify(pending), { condition: 'XX', expiration: 'KEEPTTL' });
    return set === 'OK';
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
    const [deleted] = await this.client
      .multi()
      .del(this.pendingKey(pending.cmp, pending.requestId))
      .del(this.answeredKey(pending.cmp, pending.requestId))
      .sRem(this.pendingIndex(pending.msp, pending.cmp, pending.mspToken), pending.requestId)
      .zRem(this.key('pacm', pending.msp), pendingId(pending))
      .exec();
    return Number(deleted) === 1;
  }

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
