/**
 * One contract, both outbox queues: in memory and on Redis (real Redis).
 */
import { MemoryOutbox } from '../../src/state/memory/outbox';
import type { OutboxQueue } from '../../src/state/outbox';
import { RedisStore } from '../../src/state/redis/store';
import { deleteKeys, REDIS_URL, uniquePrefix } from '../support/redis';
import { delivery } from '../support/stores';

const prefixes: string[] = [];
const stores: RedisStore[] = [];

async function redisOutbox(): Promise<OutboxQueue> {
  const prefix = uniquePrefix();
  prefixes.push(prefix);
  const store = await RedisStore.connect({ url: REDIS_URL, keyPrefix: prefix });
  stores.push(store);
  return store.outbox;
}

afterAll(async () => {
  await Promise.all(stores.map((s) => s.close()));
  await Promise.all(prefixes.map(deleteKeys));
});

describe.each([
  ['memory', async (): Promise<OutboxQueue> => new MemoryOutbox()],
  ['redis', redisOutbox],
])('%s outbox', (_kind, make) => {
  let queue: OutboxQueue;
  beforeEach(async () => {
    queue = await make();
  });

  test('a delivery is received once, by one consumer, and gone after ack', async () => {
    const d = delivery();
    await queue.enqueue(d);
    const [first, second] = await Promise.all([queue.receive('a', 10), queue.receive('b', 10)]);
    const got = [...first, ...second];
    expect(got.map((r) => r.delivery)).toEqual([d]);
    await queue.ack(got[0]);
    expect(await queue.receive('a', 10)).toEqual([]);
    expect(await queue.depth()).toEqual({ ready: 0, waiting: 0, dead: 0, oldestReadyAgeSeconds: 0 });
  });

  // the age an operator's alert on a stuck outbox reads (docs/operating/observability.md)
  test('the depth gives the age of the oldest delivery ready, in seconds, whether taken or not', async () => {
    await queue.enqueue(delivery());
    await new Promise((r) => setTimeout(r, 1100));
    await queue.enqueue(delivery());
    const waited = (await queue.depth()).oldestReadyAgeSeconds;
    expect(waited).toBeGreaterThanOrEqual(1);
    expect(waited).toBeLessThan(10);
    await queue.receive('a', 1);
    expect(await queue.depth()).toEqual(expect.objectContaining({ ready: 2, waiting: 0 }));
    expect((await queue.depth()).oldestReadyAgeSeconds).toBeGreaterThanOrEqual(1);
  });

  test('queued again under its id (a call made again after its answer was lost), a delivery is queued once', async () => {
    const d = delivery();
    await queue.enqueue(d);
    await queue.enqueue(d);
    await queue.enqueue(d, Date.now() + 60000);
    expect(await queue.depth()).toEqual(expect.objectContaining({ ready: 1, waiting: 0 }));
  });

  test('retryLater and deadLetter made again change nothing more; a dead letter replayed is queued again', async () => {
    await queue.enqueue(delivery());
    await queue.enqueue(delivery());
    const [later, dead] = await queue.receive('a', 2);
    await queue.retryLater(later, { ...later.delivery, attempts: 1 }, Date.now() + 60000);
    await queue.retryLater(later, { ...later.delivery, attempts: 1 }, Date.now() + 60000);
    await queue.deadLetter(dead, 'refused');
    await queue.deadLetter(dead, 'refused');
    expect(await queue.depth()).toEqual(expect.objectContaining({ ready: 0, waiting: 1, dead: 1 }));
    expect(await queue.replayDead()).toBe(1);
    expect((await queue.receive('a', 10)).map((r) => r.delivery.id)).toEqual([dead.delivery.id]);
  });

  test('a delivery whose time has come already is ready at once', async () => {
    await queue.enqueue(delivery(), Date.now() - 1000);
    expect(await queue.receive('a', 10)).toHaveLength(1);
  });

  test('a delivery held back waits until its time, then becomes ready', async () => {
    await queue.enqueue(delivery(), Date.now() + 200);
    expect(await queue.promoteDue(Date.now())).toBe(0);
    expect(await queue.receive('a', 10)).toEqual([]);
    expect((await queue.depth()).waiting).toBe(1);
    await new Promise((r) => setTimeout(r, 250));
    expect(await queue.promoteDue(Date.now())).toBe(1);
    expect(await queue.receive('a', 10)).toHaveLength(1);
  });

  test('retryLater acks the entry and holds the new attempt back', async () => {
    await queue.enqueue(delivery());
    const [entry] = await queue.receive('a', 1);
    await queue.retryLater(entry, { ...entry.delivery, attempts: 1 }, Date.now() + 60000);
    expect(await queue.claimStale('b', 0, 10)).toEqual([]);
    expect(await queue.depth()).toEqual({ ready: 0, waiting: 1, dead: 0, oldestReadyAgeSeconds: 0 });
  });

  test('what one consumer took and left idle is claimed by another', async () => {
    await queue.enqueue(delivery());
    const [taken] = await queue.receive('crashed', 1);
    expect(await queue.claimStale('b', 60000, 10)).toEqual([]);
    await new Promise((r) => setTimeout(r, 120));
    const claimed = await queue.claimStale('b', 100, 10);
    expect(claimed.map((c) => c.delivery)).toEqual([taken.delivery]);
    await queue.ack(claimed[0]);
    expect(await queue.claimStale('c', 0, 10)).toEqual([]);
  });

  test('a claim of idle deliveries takes at most as many as asked', async () => {
    await queue.enqueue(delivery());
    await queue.enqueue(delivery());
    await queue.receive('crashed', 2);
    await new Promise((r) => setTimeout(r, 120));
    expect(await queue.claimStale('b', 100, 1)).toHaveLength(1);
  });

  test('a consumer finds again what it took and has not finished, and only that', async () => {
    const [first, second] = [delivery(), delivery()];
    await queue.enqueue(first);
    await queue.enqueue(second);
    const taken = await queue.receive('a', 10);
    expect(await queue.unfinished('a', 1)).toHaveLength(1);
    await queue.ack(taken[0]);
    expect((await queue.unfinished('a', 10)).map((e) => e.delivery)).toEqual([second]);
    expect(await queue.unfinished('b', 10)).toEqual([]);
    await queue.retryLater(taken[1], { ...second, attempts: 1 }, Date.now() + 60000);
    expect(await queue.unfinished('a', 10)).toEqual([]);
  });

  test('dead letters are listed with their reason and can be replayed, all or by id', async () => {
    await queue.enqueue(delivery({ attempts: 7 }));
    await queue.enqueue(delivery());
    const entries = await queue.receive('a', 10);
    for (const e of entries) await queue.deadLetter(e, 'the partner refused it with 422');
    const dead = await queue.listDead(10);
    expect(dead).toHaveLength(2);
    expect(await queue.listDead(1)).toEqual([dead[0]]);
    expect(dead[0]).toEqual(expect.objectContaining({ reason: 'the partner refused it with 422', delivery: entries[0].delivery }));
    expect(await queue.replayDead([dead[0].entryId])).toBe(1);
    expect(await queue.listDead(10)).toHaveLength(1);
    const [replayed] = await queue.receive('a', 10);
    expect(replayed.delivery).toEqual(expect.objectContaining({ id: entries[0].delivery.id, attempts: 0 }));
    expect(await queue.replayDead()).toBe(1);
    expect((await queue.depth()).dead).toBe(0);
  });
});
