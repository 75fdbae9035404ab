/**
 * Entries that expire like Redis keys: lazily on read, and by a sweep so that an idle hub does not
 * keep dead entries. Every map of one store draws on one Budget: past its maximum a write that
 * would add an entry fails with StoreFullError (the caller answers 503 with Retry-After) instead
 * of growing the heap until the process dies.
 */
import { StoreFullError } from '../../errors/storeFullError';

interface Entry<T> {
  value: T;
  expiresAt: number;
}

/** a full store sweeps for expired entries at most this often: while it stays full, every refused
 * write would otherwise walk every entry */
const FULL_SWEEP_INTERVAL_MS = 1000;

/** the entries of every map of one store, against its cap */
export class Budget {
  used = 0;
  private sweptAt = 0;
  private readonly maps: ExpiringMap<unknown>[] = [];

  constructor(readonly max: number) {}

  /** a map counted against this budget */
  map<T>(): ExpiringMap<T> {
    const created = new ExpiringMap<T>(this);
    this.maps.push(created);
    return created;
  }

  sweep(now: number): void {
    for (const map of this.maps) map.sweep(now);
  }

  /** room for one more entry: expired ones are swept first when the cap is reached */
  take(): void {
    const now = Date.now();
    if (this.used >= this.max && now - this.sweptAt >= FULL_SWEEP_INTERVAL_MS) {
      this.sweptAt = now;
      this.sweep(now);
    }
    if (this.used >= this.max) throw new StoreFullError(this.max);
    this.used += 1;
  }
}

export class ExpiringMap<T> {
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
