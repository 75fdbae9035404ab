/** The per-request ledger in memory: the same entries as on Redis (ledger.ts), in expiring maps. */
import type { Budget, ExpiringMap } from './expiringMap';
import type { MemoryOutbox } from './outbox';
import type { Delivery } from '../outbox';
import { inflightEntry, pendingId, pendingOf, type ActivationEntry, type CallOutcome, type Ledger, type PendingActivation, type ReplayClaim } from '../ledger';

export class MemoryLedger implements Ledger {
  private readonly requests: ExpiringMap<string>;
  private readonly activations: ExpiringMap<ActivationEntry>;

  constructor(
    budget: Budget,
    /** a settled request's delivery is queued here in the same step */
    private readonly outbox: MemoryOutbox,
  ) {
    this.requests = budget.map();
    this.activations = budget.map();
  }

  async rememberRequest(key: string, fingerprint: string, ttlSeconds: number): Promise<string | undefined> {
    const before = this.requests.get(key);
    if (before === undefined) this.requests.set(key, fingerprint, ttlSeconds);
    return before;
  }

  async claimActivation(pending: PendingActivation, fingerprint: string, claimMs: number, ttlSeconds: number): Promise<ReplayClaim> {
    const id = pendingId(pending);
    const entry = this.activations.get(id);
    const now = Date.now();
    const claim = inflightEntry(pending, fingerprint, now + claimMs);
    if (!entry) {
      this.activations.set(id, claim, ttlSeconds);
      return { state: 'claimed' };
    }
    if (entry.state === 'inflight' && claim.claim !== undefined && entry.claim === claim.claim) return { state: 'claimed' };
    // every entry here was written by this process with its request's fingerprint (never empty): unlike
    // Redis, memory holds no entry of an earlier build that may lack it
    if (entry.fingerprint !== fingerprint) return { state: 'inflight', fingerprint: entry.fingerprint };
    if (entry.state === 'inflight' && (entry.until ?? 0) > now) return { state: 'inflight', fingerprint: entry.fingerprint };
    if (entry.answer) return { state: 'done', fingerprint, answer: entry.answer };
    // open, or in flight past its claim: taken over, keeping when the request began
    this.activations.set(id, { ...claim, pending: { ...claim.pending, createdAt: entry.pending.createdAt } }, ttlSeconds);
    return { state: 'claimed' };
  }

  async finishActivation(pending: PendingActivation, outcome: CallOutcome): Promise<void> {
    const id = pendingId(pending);
    const entry = this.activations.get(id);
    if (!entry || !held(entry, pending, ['inflight'])) return;
    if (outcome.kind === 'release' || (entry.settled && outcome.kind === 'open')) {
      this.activations.delete(id);
      return;
    }
    const answer = outcome.kind === 'open' ? undefined : outcome.answer;
    // a settled entry is done whatever the call's outcome (as on Redis)
    const state = entry.settled ? 'done' : outcome.kind;
    this.activations.set(id, { ...entry, state, answer, until: undefined }, outcome.ttlSeconds);
  }

  async bridgeActivation(
    pending: PendingActivation,
    bridged: boolean,
    ttlSeconds: number,
    deadline?: { readonly delivery: Delivery; readonly at: number },
  ): Promise<boolean> {
    const id = pendingId(pending);
    const entry = this.activations.get(id);
    const state = bridged ? 'bridged' : 'pending';
    if (!pendingOf(entry) || !entry || !held(entry, pending, [bridged ? 'inflight' : 'bridged', state])) return false;
    const answer = { status: 201, body: '' };
    this.activations.set(id, { ...entry, state, answer, until: undefined }, ttlSeconds);
    if (deadline) this.outbox.add(deadline.delivery, deadline.at);
    return true;
  }

  async getPending(cmp: string, requestId: string): Promise<PendingActivation | undefined> {
    return pendingOf(this.activations.get(pendingId({ cmp, requestId })));
  }

  async listPending(msp: string, cmp: string, token: string): Promise<PendingActivation[]> {
    return [...this.activations.values()].flatMap((entry) => {
      const pending = entry.state === 'inflight' ? undefined : pendingOf(entry);
      return pending && pending.msp === msp && pending.cmp === cmp && pending.mspToken === token ? [pending] : [];
    });
  }

  async countPending(): Promise<Record<string, number>> {
    const counts: Record<string, number> = {};
    for (const entry of this.activations.values()) {
      const pending = entry.state === 'inflight' ? undefined : pendingOf(entry);
      if (pending) counts[pending.msp] = (counts[pending.msp] ?? 0) + 1;
    }
    return counts;
  }

  async settlePending(pending: PendingActivation, delivery: Delivery): Promise<boolean> {
    if (this.activations.get(pendingId(pending))?.state !== 'bridged' || !this.consume(pending)) return false;
    this.outbox.add(delivery);
    return true;
  }

  async consumePending(pending: PendingActivation): Promise<boolean> {
    return this.consume(pending);
  }

  /** one step, with nothing awaited: no other call runs in between */
  private consume(pending: PendingActivation): boolean {
    const id = pendingId(pending);
    const entry = this.activations.get(id);
    if (!pendingOf(entry) || !entry) return false;
    if (entry.state === 'open') this.activations.delete(id);
    else this.activations.replace(id, entry.state === 'inflight' ? { ...entry, settled: true } : { ...entry, state: 'done' });
    return true;
  }

  async markPendingAnswered(pending: PendingActivation): Promise<void> {
    const id = pendingId(pending);
    const entry = this.activations.get(id);
    if (entry) this.activations.replace(id, { ...entry, answered: true });
  }
}

/** the entry is still the call's (its claim) and in one of `states`: as on Redis, a call changes
 * only what it left of the entry */
function held(entry: ActivationEntry, pending: PendingActivation, states: readonly ActivationEntry['state'][]): boolean {
  if (pending.claimId !== undefined && entry.claim !== undefined && entry.claim !== pending.claimId) return false;
  return states.includes(entry.state);
}
