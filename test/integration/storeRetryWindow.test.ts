/**
 * The retry window's own arithmetic (src/state/deadline.ts), on a Redis that is slow but answers:
 * what a retry's deadline is, when a call gives up, which failures are made again and how soon.
 * Told by outcome and by what Redis ran (its own counts), never by a duration: the proxy in front of
 * the test's own Redis hands a reply on only after the moment that tells one rule from another.
 */
import { randomUUID } from 'node:crypto';
import { StoreDeadlineError } from '../../src/state/deadline';
import { RedisStore, type RedisStoreOptions } from '../../src/state/redis/store';
import type { RecordStore } from '../../src/state/records';
import { freePort } from '../support/ports';
import { OwnRedis } from '../support/redisServer';
import { SlowRedis } from '../support/slowRedis';
import { waitFor } from '../support/waitFor';

let redis: OwnRedis;
let slow: SlowRedis;
beforeAll(async () => {
  redis = await OwnRedis.start();
  slow = await SlowRedis.start(redis);
});
afterAll(async () => {
  await slow.close();
  await redis.remove();
});
afterEach(() => {
  slow.delayMs = 0;
  slow.release();
});

/** `run` with a record store (one GET a `get`) on the slow Redis, under a prefix of its own */
async function withRecords(
  options: Omit<RedisStoreOptions, 'url' | 'keyPrefix' | 'onError'>,
  run: (records: RecordStore, key: (id: string) => string) => Promise<void>,
): Promise<void> {
  const prefix = `window-${randomUUID()}:`;
  const store = await RedisStore.connect({ url: slow.url, keyPrefix: prefix, onError: () => undefined, ...options });
  try {
    await run(store.records('w'), (id) => `${prefix}rec:w ${id}`);
  } finally {
    await store.close();
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const settled = (call: Promise<unknown>) =>
  call.then(
    (value: unknown) => ({ answered: value }),
    (err: unknown) => ({ failed: err }),
  );

// "a retry gets what is left of the time, the first attempt its own deadline" (deadline.ts): a retry
// cannot carry a call past its window. The first attempt gets no answer within its deadline; Redis
// answers the retry after the window has ended and before a deadline of the retry's own would, so
// the call is answered only if the retry's deadline outran the window
test('a retry gets what is left of the window: an answer that comes after the window fails the call', async () => {
  await withRecords({ commandTimeoutMs: 2000, retryWithinMs: 3000 }, async (records) => {
    const before = await slow.calls('get');
    slow.hold();
    const outcome = settled(records.get(randomUUID()));
    await waitFor(async () => (await slow.calls('get')) === before + 2, 15000, 10);
    // the retry began at least a deadline (2000) into the window (3000): less than 1000 is left of it
    slow.delayMs = 1400;
    slow.release();
    expect(await outcome).toEqual({ failed: expect.any(StoreDeadlineError) as unknown });
    // no third attempt: nothing was left of the window
    expect(await slow.calls('get')).toBe(before + 2);
  });
});

// "the window is counted from when the store began to fail" (deadline.ts): a call made while an
// earlier one already fails gets a retry bounded by the earlier one's window, not its own. The later
// call begins a second into the first one's window; Redis answers its retry after the shared window
// has ended and before a window of the later call's own would
test("a retry of a call made during an outage gets what is left of the outage's window, not of its own", async () => {
  await withRecords({ commandTimeoutMs: 2000, retryWithinMs: 4000 }, async (records) => {
    const before = await slow.calls('get');
    slow.hold();
    const first = settled(records.get(randomUUID()));
    await sleep(1000);
    const later = settled(records.get(randomUUID()));
    // each call's first attempt and its retry: the later call's retry began 3000 into the shared
    // window (4000) and 2000 into its own
    await waitFor(async () => (await slow.calls('get')) === before + 4, 15000, 10);
    slow.delayMs = 1450;
    slow.release();
    expect(await later).toEqual({ failed: expect.any(StoreDeadlineError) as unknown });
    expect(await first).toEqual({ failed: expect.any(StoreDeadlineError) as unknown });
    expect(await slow.calls('get')).toBe(before + 4);
  });
});

// the other side of the same rule: a retry has the rest of the window, not a moment. The first
// attempt gets no answer within its deadline; Redis answers the retry slowly, well within the window
test('a retry waits for a slow answer within the window: the call is answered', async () => {
  await withRecords({ commandTimeoutMs: 1000, retryWithinMs: 4000 }, async (records) => {
    const id = randomUUID();
    await records.save(id, { a: 1 }, 60);
    const before = await slow.calls('get');
    slow.hold();
    const outcome = settled(records.get(id));
    await waitFor(async () => (await slow.calls('get')) === before + 2, 15000, 10);
    slow.delayMs = 300;
    slow.release();
    expect(await outcome).toEqual({ answered: { a: 1 } });
    expect(await slow.calls('get')).toBe(before + 2);
  });
});

// a command's own error is not the connection's (connectionFailure.ts): made again, it would fail
// the same way, only later. Redis refuses a read of a key of another type (WRONGTYPE) once
test("a command's own error fails the call at once: Redis refused it once, within a long window", async () => {
  await withRecords({ retryWithinMs: 1500 }, async (records, key) => {
    const id = randomUUID();
    await slow.send(['RPUSH', key(id), 'not a record']);
    const before = await slow.refusals('WRONGTYPE');
    await expect(records.get(id)).rejects.toThrow(/^WRONGTYPE /);
    expect(await slow.refusals('WRONGTYPE')).toBe(before + 1);
  });
});

// "the pause between two attempts: short, so that a primary found again is used at once"
// (deadline.ts): a replica that cannot answer yet (MASTERDOWN, its primary away: connectionFailure.ts)
// is asked again after 50 ms, then 100 ms. The window (350 ms) is shorter than the longest pause
// (400 ms): a call whose first pause were the longest would give up at once
test('a node that cannot answer yet is asked again within a short window: the first pauses are short', async () => {
  const nobody = await freePort();
  await withRecords({ retryWithinMs: 350 }, async (records) => {
    try {
      await slow.send(['CONFIG', 'SET', 'replica-serve-stale-data', 'no']);
      await slow.send(['REPLICAOF', '127.0.0.1', String(nobody)]);
      const before = await slow.refusals('MASTERDOWN');
      await expect(records.get(randomUUID())).rejects.toThrow(/^MASTERDOWN /);
      expect(await slow.refusals('MASTERDOWN')).toBeGreaterThanOrEqual(before + 2);
    } finally {
      await slow.send(['REPLICAOF', 'NO', 'ONE']);
      await slow.send(['CONFIG', 'SET', 'replica-serve-stale-data', 'yes']);
    }
  });
});
