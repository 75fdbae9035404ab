/**
 * The in-memory Store for a single hub node and the quick start. Entries expire like Redis keys:
 * lazily on read, and by a sweep so that an idle hub does not keep dead entries. Their number is
 * capped: past `maxEntries` a write that would add one fails with StoreFullError (the caller
 * answers 503 with Retry-After) instead of growing the heap until the process dies.
 */
import {
  pairKey,
  pendingId,
  type BindResult,
  type PendingActivation,
  type ReplayClaim,
  type Store,
  type StoredAnswer,
  type TokenBinding,
  type BindingState,
  type FailureCount,
} from './store';
import { randomUUID } from 'node:crypto';
import type { RateLimit } from '../config/types';
import { LocalGcra, type AdmitResult, type GcraResult, type LimitCheck } from './gcra';
import { MemoryOutbox } from './memoryOutbox';
import { StoreFullError } from './store';
import type { RecordStore } from './records';

interface Entry<T> {
  value: T;
  expiresAt: number;
}

type Replay = { fingerprint: string; answer?: StoredAnswer };

/** about 30 MB of heap at the entry sizes of AID.02 traffic (npm run bench:memory; README "Security") */
export const DEFAULT_MAX_ENTRIES = 100000;

/** a full store sweeps for expired entries at most this often: while it stays full, every refused
 * write would otherwise walk every entry */
const FULL_SWEEP_INTERVAL_MS = 1000;

/** the entries of every map of one store, against its cap */
class Budget {
  used = 0;
  private sweptAt = 0;
  constructor(
    readonly max: number,
    private readonly sweepAll: (now: number) => void,
  ) {}

  /** room for one more entry: expired ones are swept first when the cap is reached */
  take(): void {
    const now = Date.now();
    if (this.used >= this.max && now - this.sweptAt >= FULL_SWEEP_INTERVAL_MS) {
      this.sweptAt = now;
      this.sweepAll(now);
    }
    if (this.used >= this.max) throw new StoreFullError(this.max);
    this.used += 1;
  }
}

class ExpiringMap<T> {
  private readonly entries = new Map<string, Entry<T>>();

  constructor(private readonly budget: Budget) {}

  get(key: string): T | undefined {
    const entry = this.entries.get(key);
    if (!entry) return undefined;
    if (entry.expiresAt <= Date.now()) {
      this.delete(key);
      return undefined;
    }
    return entry.value;
  }

  set(key: string, value: T, ttlSeconds: number): void {
    if (!this.entries.has(key)) this.budget.take();
    this.entries.set(key, { value, expiresAt: Date.now() + ttlSeconds * 1000 });
  }

  /** a new value, the same expiry */
  replace(key: string, value: T): void {
    const entry = this.entries.get(key);
    if (entry) entry.value = value;
  }

  delete(key: string): boolean {
    const deleted = this.entries.delete(key);
    if (deleted) this.budget.used -= 1;
    return deleted;
  }

  *values(): Iterable<T> {
    const now = Date.now();
    for (const entry of this.entries.values()) if (entry.expiresAt > now) yield entry.value;
  }

  sweep(now: number): void {
    for (const [key, entry] of this.entries) if (entry.expiresAt <= now) this.delete(key);
  }
}

export class MemoryStore implements Store {
  readonly kind = 'memory';
  readonly outbox = new MemoryOutbox();
  private readonly bindings: ExpiringMap<Record<string, BindingState>>;
  private readonly pending: ExpiringMap<PendingActivation>;
  private readonly requests: ExpiringMap<string>;
  private readonly replays: ExpiringMap<Replay>;
  private readonly locks = new Map<string, { owner: string; expiresAt: number }>();
  private readonly recordValues: ExpiringMap<unknown>;
  /** a record index's key -> the ids of its records */
  private readonly indexes: ExpiringMap<Set<string>>;
  private readonly failures: ExpiringMap<{ count: number; resetAt: number }>;
  private readonly answered: ExpiringMap<true>;
  private readonly limits = new LocalGcra();
  private readonly sweeper: NodeJS.Timeout;

  constructor(options: { maxEntries?: number; sweepIntervalMs?: number } = {}) {
    const maps: ExpiringMap<unknown>[] = [];
    const sweepAll = (now: number) => {
      for (const map of maps) map.sweep(now);
    };
    const budget = new Budget(options.maxEntries ?? DEFAULT_MAX_ENTRIES, sweepAll);
    const map = <T>(): ExpiringMap<T> => {
      const created = new ExpiringMap<T>(budget);
      maps.push(created as ExpiringMap<unknown>);
      return created;
    };
    this.bindings = map();
    this.pending = map();
    this.requests = map();
    this.replays = map();
    this.recordValues = map();
    this.indexes = map();
    this.failures = map();
    this.answered = map();
    this.sweeper = setInterval(() => sweepAll(Date.now()), options.sweepIntervalMs ?? 60000);
    this.sweeper.unref();
  }

  async getTokenBinding(token: string, renewTtlSeconds?: number): Promise<TokenBinding | undefined> {
    const pairs = this.bindings.get(token);
    if (pairs && renewTtlSeconds !== undefined) this.bindings.set(token, pairs, renewTtlSeconds);
    return pairs ? { pairs: { ...pairs } } : undefined;
  }

  async bindToken(token: string, msp: string, cmp: string, ttlSeconds: number, state: 'active' | 'learned' = 'active'): Promise<BindResult> {
    const pairs = this.bindings.get(token) ?? {};
    if (Object.keys(pairs).some((pair) => !pair.startsWith(`${msp} `))) return 'conflict';
    const pair = pairKey(msp, cmp);
    this.bindings.set(token, { ...pairs, [pair]: state === 'learned' ? pairs[pair] ?? 'learned' : state }, ttlSeconds);
    return 'bound';
  }

  async invalidateToken(token: string, msp: string, cmp: string, ttlSeconds: number): Promise<void> {
    const pairs = this.bindings.get(token) ?? {};
    this.bindings.set(token, { ...pairs, [pairKey(msp, cmp)]: 'invalidated' }, ttlSeconds);
  }

  async addPendingActivation(pending: PendingActivation, ttlSeconds: number): Promise<void> {
    this.pending.set(pendingId(pending), pending, ttlSeconds);
  }

  async getPendingActivation(cmp: string, requestId: string): Promise<PendingActivation | undefined> {
    const pending = this.pending.get(pendingId({ cmp, requestId }));
    return pending && { ...pending, answered: this.answered.get(pendingId(pending)) !== undefined };
  }

  async markPendingAnswered(pending: PendingActivation, ttlSeconds: number): Promise<void> {
    this.answered.set(pendingId(pending), true, ttlSeconds);
  }

  async listPendingActivations(msp: string, cmp: string, token: string): Promise<PendingActivation[]> {
    return [...this.pending.values()].filter((p) => p.msp === msp && p.cmp === cmp && p.mspToken === token);
  }

  async countPendingActivations(): Promise<Record<string, number>> {
    const counts: Record<string, number> = {};
    for (const p of this.pending.values()) counts[p.msp] = (counts[p.msp] ?? 0) + 1;
    return counts;
  }

  async replacePendingActivation(pending: PendingActivation): Promise<boolean> {
    if (this.pending.get(pendingId(pending)) === undefined) return false;
    this.pending.replace(pendingId(pending), pending);
    return true;
  }

  async consumePendingActivation(pending: PendingActivation): Promise<boolean> {
    this.answered.delete(pendingId(pending));
    return this.pending.get(pendingId(pending)) !== undefined && this.pending.delete(pendingId(pending));
  }

  async countFailures(keys: readonly string[], windowSeconds: number): Promise<FailureCount[]> {
    return keys.map((key) => {
      const window = this.failures.get(key);
      if (window) {
        window.count += 1;
        return { ...window };
      }
      const started = { count: 1, resetAt: Date.now() + windowSeconds * 1000 };
      this.failures.set(key, started, windowSeconds);
      return { ...started };
    });
  }

  async rememberRequest(key: string, fingerprint: string, ttlSeconds: number): Promise<string | undefined> {
    const before = this.requests.get(key);
    if (before === undefined) this.requests.set(key, fingerprint, ttlSeconds);
    return before;
  }

  async rateLimit(key: string, limit: RateLimit, maxWaitMs: number): Promise<GcraResult> {
    return this.limits.take(key, limit, maxWaitMs);
  }

  async admit(checks: readonly LimitCheck[]): Promise<AdmitResult> {
    return this.limits.admit(checks);
  }

  async claimReplay(key: string, fingerprint: string, ttlSeconds: number): Promise<ReplayClaim> {
    const existing = this.replays.get(key);
    if (!existing) {
      this.replays.set(key, { fingerprint }, ttlSeconds);
      return { state: 'claimed' };
    }
    return existing.answer
      ? { state: 'done', fingerprint: existing.fingerprint, answer: existing.answer }
      : { state: 'inflight', fingerprint: existing.fingerprint };
  }

  async completeReplay(key: string, fingerprint: string, answer: StoredAnswer, ttlSeconds: number): Promise<void> {
    this.replays.set(key, { fingerprint, answer }, ttlSeconds);
  }

  async releaseReplay(key: string): Promise<void> {
    this.replays.delete(key);
  }

  records(namespace: string): RecordStore {
    const key = (id: string) => `${namespace} ${id}`;
    const { recordValues: records, indexes, locks } = this;
    return {
      async save(id, value, ttlSeconds, byIndex = {}) {
        records.set(key(id), value, ttlSeconds);
        for (const [index, indexKey] of Object.entries(byIndex)) {
          const set = key(`${index} ${indexKey}`);
          indexes.set(set, new Set(indexes.get(set)).add(id), ttlSeconds);
        }
      },
      async get<T>(id: string) {
        return records.get(key(id)) as T | undefined;
      },
      async find<T>(index: string, indexKey: string) {
        const ids = indexes.get(key(`${index} ${indexKey}`)) ?? [];
        return [...ids].flatMap((id) => {
          const value = records.get(key(id));
          return value === undefined ? [] : [value as T];
        });
      },
      async acquireLock(lock, ttlMs) {
        const held = locks.get(key(lock));
        if (held && held.expiresAt > Date.now()) return undefined;
        const owner = randomUUID();
        locks.set(key(lock), { owner, expiresAt: Date.now() + ttlMs });
        return owner;
      },
      async releaseLock(lock, owner) {
        if (locks.get(key(lock))?.owner === owner) locks.delete(key(lock));
      },
    };
  }

  async ping(): Promise<void> {}

  async close(): Promise<void> {
    clearInterval(this.sweeper);
  }
}
