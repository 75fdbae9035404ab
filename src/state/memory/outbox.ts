/**
 * The outbox in this process's memory, for the single-node quick start: nothing survives a restart
 * (docs/operating/redis.md says so); a Redis outbox is what production uses.
 */
import type { DeadLetter, Delivery, OutboxDepth, OutboxQueue, Received } from '../outbox';

/** how long a queued id is remembered (as on Redis: a delivery is queued once per id) */
const QUEUED_ID_MS = 3600 * 1000;

export class MemoryOutbox implements OutboxQueue {
  private seq = 0;
  /** ids queued, in the order they were, with when they may be queued again */
  private readonly queued = new Map<string, number>();
  private readonly ready: Received[] = [];
  private readonly waiting: { notBefore: number; delivery: Delivery }[] = [];
  private readonly taken = new Map<string, { consumer: string; since: number; entry: Received }>();
  /** when each entry, taken or not, became ready: the depth's age of the oldest, as a stream entry's
   * id gives it on Redis */
  private readonly readySince = new Map<string, number>();
  private readonly dead: DeadLetter[] = [];

  async enqueue(delivery: Delivery, notBefore?: number): Promise<void> {
    this.add(delivery, notBefore);
  }

  /** queues it at once, in the caller's step (the ledger's settling of a request); once per id */
  add(delivery: Delivery, notBefore?: number): void {
    const now = Date.now();
    for (const [id, until] of this.queued) {
      if (until > now) break;
      this.queued.delete(id);
    }
    if (this.queued.has(delivery.id)) return;
    this.queued.set(delivery.id, now + QUEUED_ID_MS);
    this.push(delivery, notBefore);
  }

  private push(delivery: Delivery, notBefore?: number): void {
    if (notBefore !== undefined && notBefore > Date.now()) this.waiting.push({ notBefore, delivery });
    else this.makeReady(delivery);
  }

  private makeReady(delivery: Delivery): void {
    const entryId = String(++this.seq);
    this.readySince.set(entryId, Date.now());
    this.ready.push({ entryId, delivery });
  }

  private finish(entry: Received): boolean {
    this.readySince.delete(entry.entryId);
    return this.taken.delete(entry.entryId);
  }

  async promoteDue(now: number): Promise<number> {
    const due = this.waiting.filter((w) => w.notBefore <= now);
    for (const w of due) {
      this.waiting.splice(this.waiting.indexOf(w), 1);
      this.makeReady(w.delivery);
    }
    return due.length;
  }

  async receive(consumer: string, max: number): Promise<Received[]> {
    const batch = this.ready.splice(0, max);
    for (const entry of batch) this.taken.set(entry.entryId, { consumer, since: Date.now(), entry });
    return batch;
  }

  async unfinished(consumer: string, max: number): Promise<Received[]> {
    return [...this.taken.values()]
      .filter((t) => t.consumer === consumer)
      .slice(0, max)
      .map((t) => t.entry);
  }

  async claimStale(consumer: string, minIdleMs: number, max: number): Promise<Received[]> {
    const stale = [...this.taken.values()].filter((t) => t.consumer !== consumer && Date.now() - t.since >= minIdleMs).slice(0, max);
    for (const t of stale) this.taken.set(t.entry.entryId, { consumer, since: Date.now(), entry: t.entry });
    return stale.map((t) => t.entry);
  }

  async ack(entry: Received): Promise<void> {
    this.finish(entry);
  }

  async retryLater(entry: Received, delivery: Delivery, notBefore: number): Promise<void> {
    if (this.finish(entry)) this.waiting.push({ notBefore, delivery });
  }

  async deadLetter(entry: Received, reason: string): Promise<void> {
    if (this.finish(entry)) this.dead.push({ entryId: entry.entryId, delivery: entry.delivery, reason, at: Date.now() });
  }

  async listDead(max: number): Promise<DeadLetter[]> {
    return this.dead.slice(0, max);
  }

  async replayDead(entryIds?: readonly string[]): Promise<number> {
    const chosen = this.dead.filter((d) => !entryIds || entryIds.includes(d.entryId));
    for (const d of chosen) {
      this.dead.splice(this.dead.indexOf(d), 1);
      // under the id it was queued with before: past the once-per-id
      this.push({ ...d.delivery, attempts: 0, createdAt: Date.now() });
    }
    return chosen.length;
  }

  async depth(): Promise<OutboxDepth> {
    const oldest = Math.min(...this.readySince.values());
    return {
      ready: this.ready.length + this.taken.size,
      waiting: this.waiting.length,
      dead: this.dead.length,
      oldestReadyAgeSeconds: Number.isFinite(oldest) ? (Date.now() - oldest) / 1000 : 0,
    };
  }
}
