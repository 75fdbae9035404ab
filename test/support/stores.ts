/**
 * The stores every port's contract suite runs on: in memory, and Redis (a real server) under a key
 * prefix of its own, whose keys are deleted when the suite ends.
 */
import { MemoryStore } from '../../src/state/memory/store';
import { RedisStore } from '../../src/state/redis/store';
import type { Store } from '../../src/state/store';
import { deleteKeys, REDIS_URL, uniquePrefix } from './redis';

export type StoreMaker = () => Promise<Store>;

export function storeMakers(): [string, StoreMaker][] {
  const prefix = uniquePrefix();
  afterAll(() => deleteKeys(prefix));
  return [
    ['memory', async () => new MemoryStore()],
    ['redis', () => RedisStore.connect({ url: REDIS_URL, keyPrefix: prefix })],
  ];
}
