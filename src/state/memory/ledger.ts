/** The per-request ledger in memory. */
import type { Budget, ExpiringMap } from './expiringMap';
import { pendingId, type Ledger, type PendingActivation, type ReplayClaim, type StoredAnswer } from '../ledger';

type Replay = { fingerprint: string; answer?: StoredAnswer };

export class MemoryLedger implements Ledger {
  private readonly requests: ExpiringMap<string>;
  private readonly replays: ExpiringMap<Replay>;
  private readonly pending: ExpiringMap<PendingActivation>;
  private readonly answered: ExpiringMap<true>;

  constructor(budget: Budget) {
    this.requests = budget.map();
    this.replays = budget.map();
    this.pending = budget.map();
    this.answered = budget.map();
  }

  async rememberRequest(key: string, fingerprint: string, ttlSeconds: number): Promise<string | undefined> {
    const before = this.requests.get(key);
    if (before === undefined) this.requests.set(key, fingerprint, ttlSeconds);
    return before;
  }

  async claimReplay(key: string, fingerprint: string, ttlSeconds: number): Promise<ReplayClaim> {
    const existing = this.replays.get(key);
    if (!existing) {
      this.replays.set(key, { fingerprint }, ttlSeconds);
      return { state: 'claimed' };
    }
    return existing.answer ? { state: 'done', fingerprint: existing.fingerprint, answer: existing.answer } : { state: 'inflight', fingerprint: existing.fingerprint };
  }

  async completeReplay(key: string, fingerprint: string, answer: StoredAnswer, ttlSeconds: number): Promise<void> {
    this.replays.set(key, { fingerprint, answer }, ttlSeconds);
  }

  async releaseReplay(key: string): Promise<void> {
    this.replays.delete(key);
  }

  async addPending(pending: PendingActivation, ttlSeconds: number): Promise<void> {
    this.pending.set(pendingId(pending), pending, ttlSeconds);
  }

  async getPending(cmp: string, requestId: string): Promise<PendingActivation | undefined> {
    const pending = this.pending.get(pendingId({ cmp, requestId }));
    return pending && { ...pending, answered: this.answered.get(pendingId(pending)) !== undefined };
  }

  async markPendingAnswered(pending: PendingActivation, ttlSeconds: number): Promise<void> {
    this.answered.set(pendingId(pending), true, ttlSeconds);
  }

  async listPending(msp: string, cmp: string, token: string): Promise<PendingActivation[]> {
    return [...this.pending.values()].filter((p) => p.msp === msp && p.cmp === cmp && p.mspToken === token);
  }

  async countPending(): Promise<Record<string, number>> {
    const counts: Record<string, number> = {};
    for (const p of this.pending.values()) counts[p.msp] = (counts[p.msp] ?? 0) + 1;
    return counts;
  }

  async replacePending(pending: PendingActivation): Promise<boolean> {
    if (this.pending.get(pendingId(pending)) === undefined) return false;
    this.pending.replace(pendingId(pending), pending);
    return true;
  }

  async consumePending(pending: PendingActivation): Promise<boolean> {
    this.answered.delete(pendingId(pending));
    return this.pending.get(pendingId(pending)) !== undefined && this.pending.delete(pendingId(pending));
  }
}
