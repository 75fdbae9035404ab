/**
 * One contract, both Stores: the in-memory one and the Redis one (real Redis).
 */
import { randomUUID } from 'node:crypto';
import { createClient } from 'redis';
import { MemoryStore } from '../../src/state/memoryStore';
import { RedisStore } from '../../src/state/redisStore';
import type { PendingActivation, Store } from '../../src/state/store';
import type { RecordStore } from '../../src/state/records';
import { deleteKeys, REDIS_URL, uniquePrefix } from '../support/redis';

const prefix = uniquePrefix();

const makers: [string, () => Promise<Store>][] = [
  ['memory', async () => new MemoryStore()],
  ['redis', () => RedisStore.connect({ url: REDIS_URL, keyPrefix: prefix })],
];

afterAll(() => deleteKeys(prefix));

const pending = (overrides: Partial<PendingActivation> = {}): PendingActivation => ({
  requestId: randomUUID(),
  msp: 'mspA',
  cmp: 'cmpA',
  mspToken: randomUUID(),
  correlationId: randomUUID(),
  createdAt: Date.now(),
  ...overrides,
});

describe.each(makers)('%s store', (_kind, make) => {
  let store: Store;
  beforeAll(async () => {
    store = await make();
  });
  afterAll(() => store.close());

  describe('token bindings', () => {
    test('an unknown token has no binding', async () => {
      expect(await store.getTokenBinding(randomUUID())).toBeUndefined();
    });

    test('bind, then invalidate one pair; the other pair stays active', async () => {
      const token = randomUUID();
      expect(await store.bindToken(token, 'mspA', 'cmpA', 60)).toBe('bound');
      expect(await store.bindToken(token, 'mspA', 'cmpB', 60)).toBe('bound');
      await store.invalidateToken(token, 'mspA', 'cmpA', 60);
      expect(await store.getTokenBinding(token)).toEqual({ pairs: { 'mspA cmpA': 'invalidated', 'mspA cmpB': 'active' } });
    });

    test('a token issued by one MSP cannot be bound by another', async () => {
      const token = randomUUID();
      await store.bindToken(token, 'mspA', 'cmpA', 60);
      expect(await store.bindToken(token, 'mspB', 'cmpA', 60)).toBe('conflict');
      // a partner id that starts like another's is still another partner
      expect(await store.bindToken(token, 'msp', 'cmpA', 60)).toBe('conflict');
      expect(await store.getTokenBinding(token)).toEqual({ pairs: { 'mspA cmpA': 'active' } });
    });

    test('binding again re-activates an invalidated pair', async () => {
      const token = randomUUID();
      await store.invalidateToken(token, 'mspA', 'cmpA', 60);
      await store.bindToken(token, 'mspA', 'cmpA', 60);
      expect((await store.getTokenBinding(token))?.pairs['mspA cmpA']).toBe('active');
    });

    test('bindings expire', async () => {
      const token = randomUUID();
      await store.bindToken(token, 'mspA', 'cmpA', 1);
      await new Promise((r) => setTimeout(r, 1100));
      expect(await store.getTokenBinding(token)).toBeUndefined();
    });
  });

  describe('pending activation requests', () => {
    test('added, read back, listed by pair and token', async () => {
      const p = pending();
      await store.addPendingActivation(p, 60);
      expect(await store.getPendingActivation(p.cmp, p.requestId)).toEqual({ ...p, answered: false });
      expect(await store.listPendingActivations('mspA', 'cmpA', p.mspToken)).toEqual([p]);
      expect(await store.listPendingActivations('mspA', 'cmpB', p.mspToken)).toEqual([]);
    });

    test('keyed per CMP: the same activationCodeRequestID of another CMP is another request (issue 10.12)', async () => {
      const first = pending({ cmp: 'cmpA' });
      const second = pending({ cmp: 'cmpB', msp: 'mspB', requestId: first.requestId });
      await store.addPendingActivation(first, 60);
      await store.addPendingActivation(second, 60);
      expect(await store.getPendingActivation('cmpA', first.requestId)).toMatchObject(first);
      expect(await store.getPendingActivation('cmpB', first.requestId)).toMatchObject(second);
      await store.consumePendingActivation(second);
      expect(await store.getPendingActivation('cmpA', first.requestId)).toMatchObject(first);
    });

    test('marked answered once its 201 has been sent; consuming it forgets the mark', async () => {
      const p = pending();
      await store.addPendingActivation(p, 60);
      expect((await store.getPendingActivation(p.cmp, p.requestId))?.answered).toBe(false);
      await store.markPendingAnswered(p, 60);
      expect((await store.getPendingActivation(p.cmp, p.requestId))?.answered).toBe(true);
      await store.consumePendingActivation(p);
      await store.addPendingActivation(p, 60);
      expect((await store.getPendingActivation(p.cmp, p.requestId))?.answered).toBe(false);
    });

    test('counted per MSP until consumed', async () => {
      const msp = `msp${randomUUID().slice(0, 8)}`;
      const a = pending({ msp });
      await store.addPendingActivation(a, 60);
      await store.addPendingActivation(pending({ msp }), 60);
      expect((await store.countPendingActivations())[msp]).toBe(2);
      await store.consumePendingActivation(a);
      expect((await store.countPendingActivations())[msp]).toBe(1);
    });

    test('consumed exactly once, however many race', async () => {
      const p = pending();
      await store.addPendingActivation(p, 60);
      const results = await Promise.all(Array.from({ length: 10 }, () => store.consumePendingActivation(p)));
      expect(results.filter(Boolean)).toHaveLength(1);
      expect(await store.getPendingActivation(p.cmp, p.requestId)).toBeUndefined();
      expect(await store.listPendingActivations('mspA', 'cmpA', p.mspToken)).toEqual([]);
    });

    test('expire after their TTL', async () => {
      const p = pending();
      await store.addPendingActivation(p, 1);
      await new Promise((r) => setTimeout(r, 1100));
      expect(await store.getPendingActivation(p.cmp, p.requestId)).toBeUndefined();
      expect(await store.listPendingActivations('mspA', 'cmpA', p.mspToken)).toEqual([]);
    });
  });

  describe('request ids', () => {
    test('the first call remembers, later calls get what was remembered', async () => {
      const key = `cmpA:${randomUUID()}`;
      expect(await store.rememberRequest(key, 'fp1', 60)).toBeUndefined();
      expect(await store.rememberRequest(key, 'fp2', 60)).toBe('fp1');
      expect(await store.rememberRequest(key, 'fp1', 60)).toBe('fp1');
    });
  });

  describe('replay claims', () => {
    test('one claim wins; the others see it in flight, then done with the answer', async () => {
      const key = `cmpA:${randomUUID()}`;
      const claims = await Promise.all(Array.from({ length: 5 }, () => store.claimReplay(key, 'fp', 60)));
      expect(claims.filter((c) => c.state === 'claimed')).toHaveLength(1);
      expect(claims.filter((c) => c.state === 'inflight')).toHaveLength(4);
      const answer = { status: 200, contentType: 'application/json', body: '{"a":1}' };
      await store.completeReplay(key, 'fp', answer, 60);
      expect(await store.claimReplay(key, 'fp', 60)).toEqual({ state: 'done', fingerprint: 'fp', answer });
    });

    test('a released claim can be taken again', async () => {
      const key = `cmpA:${randomUUID()}`;
      await store.claimReplay(key, 'fp', 60);
      await store.releaseReplay(key);
      expect(await store.claimReplay(key, 'fp', 60)).toEqual({ state: 'claimed' });
    });
  });

  describe('rate limits', () => {
    const perMinute = (requests: number) => ({ requests, perSeconds: 60, burst: requests });

    test('a check admits up to the burst, then refuses with the time to wait', async () => {
      const key = randomUUID();
      for (let i = 0; i < 3; i++) expect((await store.rateLimit(key, perMinute(3), 0)).allowed).toBe(true);
      const refused = await store.rateLimit(key, perMinute(3), 0);
      expect(refused.allowed).toBe(false);
      expect(refused.waitMs).toBeGreaterThan(15000);
    });

    test('several limits at once: all count the request, or none does', async () => {
      const [wide, narrow] = [randomUUID(), randomUUID()];
      const checks = [{ key: wide, limit: perMinute(5) }, { key: narrow, limit: perMinute(2) }];
      expect(await store.admit(checks)).toEqual({ allowed: true });
      expect(await store.admit(checks)).toEqual({ allowed: true });
      const refused = await store.admit(checks);
      expect(refused).toEqual({ allowed: false, refusedBy: 1, waitMs: expect.any(Number) });
      // the refused request did not count against the wide limit: 3 more fit there
      for (let i = 0; i < 3; i++) expect(await store.admit([checks[0]])).toEqual({ allowed: true });
      expect((await store.admit([checks[0]])).allowed).toBe(false);
    });
  });

  describe('record stores (a dialect partner\'s namespace)', () => {
    let records: RecordStore;
    beforeAll(() => {
      records = store.records(`ns${randomUUID().slice(0, 8)}`);
    });

    test('records are found by id and through their indexes; another namespace sees none', async () => {
      const key = randomUUID();
      await records.save('a', { n: 1 }, 60, { group: key, other: 'x' });
      await records.save('b', { n: 2 }, 60, { group: key });
      await records.save('c', { n: 3 }, 60, { group: randomUUID() });
      expect(await records.get('a')).toEqual({ n: 1 });
      expect(await records.get('missing')).toBeUndefined();
      expect((await records.find<{ n: number }>('group', key)).map((r) => r.n).sort()).toEqual([1, 2]);
      expect(await records.find('group', randomUUID())).toEqual([]);
      expect(await store.records('elsewhere').get('a')).toBeUndefined();
    });

    test('saving again replaces the record and keeps it indexed once', async () => {
      const key = randomUUID();
      await records.save('d', { v: 'old' }, 60, { group: key });
      await records.save('d', { v: 'new' }, 60, { group: key });
      expect(await records.find('group', key)).toEqual([{ v: 'new' }]);
    });

    test('records expire after their TTL, and drop out of their indexes', async () => {
      const key = randomUUID();
      await records.save('e', { v: 1 }, 1, { group: key });
      await new Promise((r) => setTimeout(r, 1100));
      expect(await records.get('e')).toBeUndefined();
      expect(await records.find('group', key)).toEqual([]);
    });

    test('locks: one holder at a time; only the holder releases it', async () => {
      const key = randomUUID();
      const owner = await records.acquireLock(key, 5000);
      expect(owner).toEqual(expect.any(String));
      expect(await records.acquireLock(key, 5000)).toBeUndefined();
      await records.releaseLock(key, 'someone else');
      expect(await records.acquireLock(key, 5000)).toBeUndefined();
      await records.releaseLock(key, owner as string);
      expect(await records.acquireLock(key, 5000)).toEqual(expect.any(String));
    });

    test('a lock whose holder went away expires', async () => {
      const key = randomUUID();
      expect(await records.acquireLock(key, 50)).toBeDefined();
      await new Promise((resolve) => setTimeout(resolve, 120));
      expect(await records.acquireLock(key, 50)).toBeDefined();
    });
  });

  test('ping answers', async () => {
    await expect(store.ping()).resolves.toBeUndefined();
  });
});

describe('redis store specifics', () => {
  test('every key it writes has a TTL', async () => {
    const own = uniquePrefix();
    const store = await RedisStore.connect({ url: REDIS_URL, keyPrefix: own });
    const token = randomUUID();
    await store.bindToken(token, 'mspA', 'cmpA', 100);
    await store.invalidateToken(token, 'mspA', 'cmpA', 100);
    await store.addPendingActivation(pending({ mspToken: token }), 100);
    await store.rememberRequest(`x:${token}`, 'fp', 100);
    await store.claimReplay(`x:${token}`, 'fp', 100);
    await store.markPendingAnswered(pending({ mspToken: token }), 100);
    await store.countFailures([`addr ${token}`], 100);
    await store.records('opx').save(token, { x: 1 }, 100, { group: token });
    await store.close();
    const client = createClient({ url: REDIS_URL });
    await client.connect();
    try {
      const keys: string[] = [];
      for await (const batch of client.scanIterator({ MATCH: `${own}*`, COUNT: 500 })) keys.push(...batch);
      // binding, request id, replay claim, pending record, its pair index, its per-MSP index, the MSP
      // list, an answered mark, a failure count, a record and its index
      expect(keys).toHaveLength(11);
      for (const key of keys) expect(await client.ttl(key)).toBeGreaterThan(0);
    } finally {
      await client.close();
      await deleteKeys(own);
    }
  });

  test('with Redis unreachable, connect fails clearly instead of hanging', async () => {
    await expect(RedisStore.connect({ url: 'redis://127.0.0.1:1' })).rejects.toThrow();
  });
});
