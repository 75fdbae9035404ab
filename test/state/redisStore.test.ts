/**
 * What only the Redis store has to show: every key it writes expires, and a Redis that cannot be
 * reached at start is said so at once. The ports' behaviour is in their contract suites.
 */
import { randomUUID } from 'node:crypto';
import { createClient } from 'redis';
import { RedisStore } from '../../src/state/redis/store';
import { deleteKeys, REDIS_URL, uniquePrefix } from '../support/redis';
import { pendingActivation as pending } from '../support/stores';

describe('redis store specifics', () => {
  test('every key it writes has a TTL', async () => {
    const own = uniquePrefix();
    const store = await RedisStore.connect({ url: REDIS_URL, keyPrefix: own });
    const token = randomUUID();
    await store.bindings.bind(token, 'mspA', 'cmpA', 100);
    await store.bindings.invalidate(token, 'mspA', 'cmpA', 100);
    const request = pending({ mspToken: token });
    await store.ledger.claimActivation(request, 'fp', 60000, 100);
    await store.ledger.finishActivation(request, { kind: 'pending', answer: { status: 201, body: '' }, ttlSeconds: 100 });
    await store.ledger.markPendingAnswered(request);
    await store.ledger.rememberRequest(`x:${token}`, 'fp', 100);
    await store.limits.countFailures([`addr ${token}`], 100);
    await store.records('opx').save(token, { x: 1 }, 100, { group: token });
    await store.close();
    const client = createClient({ url: REDIS_URL });
    await client.connect();
    try {
      const keys: string[] = [];
      for await (const batch of client.scanIterator({ MATCH: `${own}*`, COUNT: 500 })) keys.push(...batch);
      // binding, request id, activation request, its pair index, its per-MSP index, the MSP list,
      // a failure count, a record and its index
      expect(keys).toHaveLength(9);
      for (const key of keys) expect(await client.ttl(key)).toBeGreaterThan(0);
    } finally {
      await client.close();
      await deleteKeys(own);
    }
  });

  test('ping answers while Redis does, and fails once the store is closed', async () => {
    const store = await RedisStore.connect({ url: REDIS_URL, keyPrefix: uniquePrefix() });
    await expect(store.ping()).resolves.toBeUndefined();
    await store.close();
    await expect(store.ping()).rejects.toThrow();
  });

  test('with Redis unreachable, connect fails clearly instead of hanging', async () => {
    await expect(RedisStore.connect({ url: 'redis://127.0.0.1:1' })).rejects.toThrow();
  });
});
