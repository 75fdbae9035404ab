/**
 * The rate limits port: one contract, both stores (in memory, and Redis: a real server).
 */
import { randomUUID } from 'node:crypto';
import { withLocalFallback } from '../../src/state/rateLimits';
import { RedisStore } from '../../src/state/redis/store';
import { REDIS_URL, uniquePrefix } from '../support/redis';
import { describeEachStore } from '../support/stores';

describeEachStore((store) => {
  describe('rate limits', () => {
    const perMinute = (requests: number) => ({ requests, perSeconds: 60, burst: requests });

    test('a check admits up to the burst, then refuses with the time to wait', async () => {
      const key = randomUUID();
      const check = [{ key, limit: perMinute(3) }];
      for (let i = 0; i < 3; i++) expect(await store().limits.admit(check)).toEqual({ allowed: true, waitMs: 0 });
      const refused = await store().limits.admit(check);
      expect(refused.allowed).toBe(false);
      // the next slot is one interval (60 s / 3) away at most
      expect(refused.waitMs).toBeGreaterThan(15000);
      expect(refused.waitMs).toBeLessThanOrEqual(20000);
    });

    test('several limits at once: all count the request, or none does', async () => {
      const [wide, narrow] = [randomUUID(), randomUUID()];
      const checks = [
        { key: wide, limit: perMinute(5) },
        { key: narrow, limit: perMinute(2) },
      ];
      expect(await store().limits.admit(checks)).toEqual({ allowed: true, waitMs: 0 });
      expect(await store().limits.admit(checks)).toEqual({ allowed: true, waitMs: 0 });
      const refused = await store().limits.admit(checks);
      expect(refused).toEqual({ allowed: false, refusedBy: 1, waitMs: expect.any(Number) });
      // the refused request did not count against the wide limit: 3 more fit there
      for (let i = 0; i < 3; i++) expect(await store().limits.admit([checks[0]])).toEqual({ allowed: true, waitMs: 0 });
      expect((await store().limits.admit([checks[0]])).allowed).toBe(false);
    });

    test('a reservation takes the next slot within the wait allowed, and says how long to wait for it', async () => {
      // one per second, no burst beyond one: the second request's slot is a second away
      const check = [{ key: randomUUID(), limit: { requests: 1, perSeconds: 1, burst: 1 } }];
      expect(await store().limits.admit(check, 2000)).toEqual({ allowed: true, waitMs: 0 });
      const second = await store().limits.admit(check, 2000);
      expect(second.allowed).toBe(true);
      expect(second.waitMs).toBeGreaterThan(900);
      expect(second.waitMs).toBeLessThanOrEqual(1000);
      // the third would wait two seconds: more than 1.5 s is refused, and counts nothing
      expect(await store().limits.admit(check, 1500)).toEqual({ allowed: false, refusedBy: 0, waitMs: expect.any(Number) });
      expect((await store().limits.admit(check, 2500)).allowed).toBe(true);
    });
  });

  describe('failure counts', () => {
    test('each key counts in a window that starts with its first failure', async () => {
      const [a, b] = [randomUUID(), randomUUID()];
      const [first] = await store().limits.countFailures([a], 60);
      expect(first.count).toBe(1);
      expect(first.resetAt).toBeGreaterThan(Date.now() + 58000);
      const [again, other] = await store().limits.countFailures([a, b], 60);
      expect(again).toEqual({ count: 2, resetAt: expect.any(Number) });
      expect(Math.abs(again.resetAt - first.resetAt)).toBeLessThan(1000);
      expect(other.count).toBe(1);
      expect(other.resetAt).toBeGreaterThan(Date.now() + 58000);
    });

    test('the count starts again once its window has ended', async () => {
      const key = randomUUID();
      await store().limits.countFailures([key], 1);
      await new Promise((r) => setTimeout(r, 1100));
      expect((await store().limits.countFailures([key], 1))[0].count).toBe(1);
    });
  });
});

describe('the local fallback', () => {
  test('while the shared store fails, each instance counts on its own, and says so', async () => {
    const store = await RedisStore.connect({ url: REDIS_URL, keyPrefix: uniquePrefix() });
    await store.close();
    let fallbacks = 0;
    const limits = withLocalFallback(store.limits, () => (fallbacks += 1));
    const check = [{ key: randomUUID(), limit: { requests: 2, perSeconds: 60, burst: 2 } }];
    expect(await limits.admit(check)).toEqual({ allowed: true, waitMs: 0 });
    expect(await limits.admit(check)).toEqual({ allowed: true, waitMs: 0 });
    expect((await limits.admit(check)).allowed).toBe(false);
    expect(fallbacks).toBe(3);
  });
});
