/**
 * The records a dialect keeps for one partner: JSON values with a TTL, found by id or through
 * secondary indexes (index name -> key, many records per key), and locks that every hub instance
 * respects. The core hands each dialect instance its own namespace (the partner's id); nothing
 * here knows what a record means.
 */
export interface RecordStore {
  /** writes the record and adds it to each index under its key; the indexes live as long as it */
  save(id: string, value: unknown, ttlSeconds: number, indexes?: Readonly<Record<string, string>>): Promise<void>;
  /** `save` only when no record `id` lives: one atomic step, true when written */
  create(id: string, value: unknown, ttlSeconds: number, indexes?: Readonly<Record<string, string>>): Promise<boolean>;
  /** takes the record out of the indexes named, the record itself left as it is */
  unindex(id: string, indexes: Readonly<Record<string, string>>): Promise<void>;
  get<T>(id: string): Promise<T | undefined>;
  /** the live records indexed under `index` = `key`, in no particular order */
  find<T>(index: string, key: string): Promise<T[]>;
  /** a lock several hub instances respect; the owner string to release it with, or undefined when
   * held. `owner`, the caller's own: taken again by the same owner (its answer was lost), it is its */
  acquireLock(key: string, ttlMs: number, owner?: string): Promise<string | undefined>;
  /** releases it if `owner` still holds it */
  releaseLock(key: string, owner: string): Promise<void>;
}
