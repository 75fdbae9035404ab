/**
 * The in-memory Store for a single hub node and the quick start: the ports of store.ts on maps
 * that expire their entries like Redis keys, all counted against one cap (expiringMap.ts).
 */
import { MemoryJourneys } from './journeys';
import type { Store } from '../store';
import type { RecordStore } from '../records';
import { Budget } from './expiringMap';
import { MemoryLedger } from './ledger';
import { MemoryOutbox } from './outbox';
import { DEFAULT_MEMORY_STORE_MAX_ENTRIES } from '../../config/load';
import { MemoryRateLimits } from './rateLimits';
import { MemoryRecordMaps, MemoryRecords } from './records';
import { MemoryRequestChecks } from './requestChecks';
import { MemoryTokenBindings } from './tokenBindings';

export class MemoryStore implements Store {
  readonly kind = 'memory';
  readonly outbox = new MemoryOutbox();
  readonly bindings: MemoryTokenBindings;
  readonly ledger: MemoryLedger;
  readonly limits: MemoryRateLimits;
  readonly checks: MemoryRequestChecks;
  readonly journeys = new MemoryJourneys();
  private readonly recordMaps: MemoryRecordMaps;
  private readonly sweeper: NodeJS.Timeout;

  constructor(options: { maxEntries?: number; sweepIntervalMs?: number } = {}) {
    const budget = new Budget(options.maxEntries ?? DEFAULT_MEMORY_STORE_MAX_ENTRIES);
    this.bindings = new MemoryTokenBindings(budget);
    this.ledger = new MemoryLedger(budget, this.outbox);
    this.limits = new MemoryRateLimits(budget);
    this.checks = new MemoryRequestChecks(this.limits, this.bindings, this.ledger);
    this.recordMaps = new MemoryRecordMaps(budget);
    this.sweeper = setInterval(() => budget.sweep(Date.now()), options.sweepIntervalMs ?? 60000);
    this.sweeper.unref();
  }

  records(namespace: string): RecordStore {
    return new MemoryRecords(this.recordMaps, namespace);
  }

  async ping(): Promise<void> {}

  async close(): Promise<void> {
    clearInterval(this.sweeper);
  }
}
