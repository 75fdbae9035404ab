/** Dialect partners' records in memory: one map of values and one of indexes for every namespace,
 * keys prefixed with the namespace; locks local to this process. */
import { randomUUID } from 'node:crypto';
import type { Budget, ExpiringMap } from './expiringMap';
import type { RecordStore } from '../records';

export class MemoryRecordMaps {
  readonly values: ExpiringMap<unknown>;
  /** a record index's key -> the ids of its records */
  readonly indexes: ExpiringMap<Set<string>>;
  readonly locks = new Map<string, { owner: string; expiresAt: number }>();

  constructor(budget: Budget) {
    this.values = budget.map();
    this.indexes = budget.map();
  }
}

export class MemoryRecords implements RecordStore {
  constructor(
    private readonly maps: MemoryRecordMaps,
    private readonly namespace: string,
  ) {}

  async save(id: string, value: unknown, ttlSeconds: number, byIndex: Readonly<Record<string, string>> = {}): Promise<void> {
    this.maps.values.set(this.key(id), value, ttlSeconds);
    for (const [index, indexKey] of Object.entries(byIndex)) {
      const set = this.key(`${index} ${indexKey}`);
      this.maps.indexes.set(set, new Set(this.maps.indexes.get(set)).add(id), ttlSeconds);
    }
  }

  async create(id: string, value: unknown, ttlSeconds: number, byIndex: Readonly<Record<string, string>> = {}): Promise<boolean> {
    if (this.maps.values.get(this.key(id)) !== undefined) return false;
    await this.save(id, value, ttlSeconds, byIndex);
    return true;
  }

  async unindex(id: string, byIndex: Readonly<Record<string, string>>): Promise<void> {
    for (const [index, indexKey] of Object.entries(byIndex)) this.maps.indexes.get(this.key(`${index} ${indexKey}`))?.delete(id);
  }

  async get<T>(id: string): Promise<T | undefined> {
    return this.maps.values.get(this.key(id)) as T | undefined;
  }

  async find<T>(index: string, indexKey: string): Promise<T[]> {
    const ids = this.maps.indexes.get(this.key(`${index} ${indexKey}`)) ?? [];
    return [...ids].flatMap((id) => {
      const value = this.maps.values.get(this.key(id));
      return value === undefined ? [] : [value as T];
    });
  }

  async acquireLock(lock: string, ttlMs: number, owner: string = randomUUID()): Promise<string | undefined> {
    const held = this.maps.locks.get(this.key(lock));
    if (held && held.expiresAt > Date.now()) return held.owner === owner ? owner : undefined;
    this.maps.locks.set(this.key(lock), { owner, expiresAt: Date.now() + ttlMs });
    return owner;
  }

  async releaseLock(lock: string, owner: string): Promise<void> {
    if (this.maps.locks.get(this.key(lock))?.owner === owner) this.maps.locks.delete(this.key(lock));
  }

  private key(id: string): string {
    return `${this.namespace} ${id}`;
  }
}
