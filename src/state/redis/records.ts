/** A dialect partner's records on Redis: `rec:` values, `rix:` index sets, `lock:` locks, each
 * under the namespace. */
import { randomUUID } from 'node:crypto';
import type { RedisClient, KeyOf } from './keys';
import { Script } from './script';
import type { RecordStore } from '../records';

// takes a lock, or finds it taken by the same owner already (a call made again after its answer was lost)
const ACQUIRE_LOCK = new Script(`
if redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then return 1 end
if redis.call('GET', KEYS[1]) == ARGV[1] then return 1 end
return 0`);

// releases a lock only for the instance that holds it
const RELEASE_LOCK = new Script(`
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0`);

// KEYS[1] the record, KEYS[2..] its index sets; ARGV: value, TTL in seconds, the record's id
const CREATE = new Script(`
if not redis.call('SET', KEYS[1], ARGV[1], 'NX', 'EX', ARGV[2]) then return 0 end
for i = 2, #KEYS do
  redis.call('SADD', KEYS[i], ARGV[3])
  redis.call('EXPIRE', KEYS[i], ARGV[2])
end
return 1`);

export class RedisRecords implements RecordStore {
  constructor(
    private readonly client: RedisClient,
    private readonly keyOf: KeyOf,
    private readonly namespace: string,
  ) {}

  async save(id: string, value: unknown, ttlSeconds: number, indexes: Readonly<Record<string, string>> = {}): Promise<void> {
    const multi = this.client.multi().set(this.key('rec', id), JSON.stringify(value), { expiration: { type: 'EX', value: ttlSeconds } });
    for (const [index, indexKey] of Object.entries(indexes)) {
      const set = this.key('rix', `${index} ${indexKey}`);
      multi.sAdd(set, id).expire(set, ttlSeconds);
    }
    await multi.exec();
  }

  async create(id: string, value: unknown, ttlSeconds: number, indexes: Readonly<Record<string, string>> = {}): Promise<boolean> {
    const sets = Object.entries(indexes).map(([index, indexKey]) => this.key('rix', `${index} ${indexKey}`));
    return (await CREATE.run(this.client, [this.key('rec', id), ...sets], [JSON.stringify(value), String(ttlSeconds), id])) === 1;
  }

  async unindex(id: string, indexes: Readonly<Record<string, string>>): Promise<void> {
    const multi = this.client.multi();
    for (const [index, indexKey] of Object.entries(indexes)) multi.sRem(this.key('rix', `${index} ${indexKey}`), id);
    await multi.exec();
  }

  async get<T>(id: string): Promise<T | undefined> {
    const raw = await this.client.get(this.key('rec', id));
    return raw === null ? undefined : (JSON.parse(raw) as T);
  }

  async find<T>(index: string, indexKey: string): Promise<T[]> {
    const ids = await this.client.sMembers(this.key('rix', `${index} ${indexKey}`));
    if (ids.length === 0) return [];
    const raws = await this.client.mGet(ids.map((id) => this.key('rec', id)));
    return raws.flatMap((raw) => (raw === null ? [] : [JSON.parse(raw) as T]));
  }

  async acquireLock(lock: string, ttlMs: number, owner: string = randomUUID()): Promise<string | undefined> {
    return (await ACQUIRE_LOCK.run(this.client, [this.key('lock', lock)], [owner, String(ttlMs)])) === 1 ? owner : undefined;
  }

  async releaseLock(lock: string, owner: string): Promise<void> {
    await RELEASE_LOCK.run(this.client, [this.key('lock', lock)], [owner]);
  }

  private key(kind: string, id: string): string {
    return this.keyOf(kind, `${this.namespace} ${id}`);
  }
}
