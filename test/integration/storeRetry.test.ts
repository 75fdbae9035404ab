/**
 * A store call that fails because Redis is away (its connection closed, the client offline) is
 * made again until Redis answers, within the call's retry window, so that a primary replaced in
 * that time costs the caller time, not a refusal (docs/operating/redis.md); past the window
 * it fails. A call a second run would count twice (a rate limit) is never made again.
 */
import { randomUUID } from 'node:crypto';
import { StoreDeadlineError } from '../../src/state/deadline';
import { RedisStore, type RedisStoreOptions } from '../../src/state/redis/store';
import { OwnRedis } from '../support/redisServer';
import { delivery, pendingActivation } from '../support/stores';

const pending = () => pendingActivation({ claimId: randomUUID() });
/** a store on the test's own Redis, under a prefix of its own */
const connectRetrying = (options: Omit<RedisStoreOptions, 'url' | 'keyPrefix'>) =>
  RedisStore.connect({ url: redis.url, keyPrefix: `retry-${randomUUID()}:`, ...options });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

let redis: OwnRedis;
beforeAll(async () => {
  redis = await OwnRedis.start();
});
afterAll(() => redis.remove());

test('calls made while Redis restarts are answered once it is back: a claim, a delivery queued once', async () => {
  const store = await connectRetrying({ onError: () => undefined });
  try {
    await redis.kill();
    const claimed = store.ledger.claimActivation(pending(), 'fp', 10000, 60);
    const queued = store.outbox.enqueue(delivery({ id: 'a' }));
    await sleep(1000);
    await redis.startAgain();
    await expect(claimed).resolves.toEqual({ state: 'claimed' });
    await queued;
    expect((await store.outbox.receive('w', 10)).map((r) => r.delivery.id)).toEqual(['a']);
  } finally {
    await store.close();
  }
});

test('past the retry window a call fails; a rate limit fails at once, never counted twice', async () => {
  const store = await connectRetrying({ retryWithinMs: 1500, onError: () => undefined });
  try {
    await redis.kill();
    const order: string[] = [];
    const read = store.ledger.getPending('cmpA', randomUUID()).then(
      () => order.push('read answered'),
      () => order.push('read failed'),
    );
    const admitted = store.limits.admit([{ key: 'x', limit: { requests: 1, perSeconds: 60, burst: 1 } }]).then(
      () => order.push('limit answered'),
      () => order.push('limit failed'),
    );
    await Promise.all([read, admitted]);
    expect(order).toEqual(['limit failed', 'read failed']);
  } finally {
    await redis.startAgain();
    await store.close();
  }
});

// a Redis that is connected but does not answer fails the call after its deadline instead of holding
// the request (src/state/deadline.ts); no answer in time is a connection's failure, made again
// within the window
test('a Redis that does not answer: the call fails with the deadline error once its window has passed, and is answered again once Redis is', async () => {
  const store = await connectRetrying({ commandTimeoutMs: 200, retryWithinMs: 800, onError: () => undefined });
  try {
    redis.pause();
    const failed = await store.ledger.getPending('cmpA', randomUUID()).then(
      () => undefined,
      (err: unknown) => err,
    );
    expect(failed).toBeInstanceOf(StoreDeadlineError);
    expect(failed).toMatchObject({
      name: 'StoreDeadlineError',
      message: expect.stringMatching(/^the store did not answer getPending within \d+ ms$/) as unknown,
    });
    redis.resume();
    await expect(store.ledger.getPending('cmpA', randomUUID())).resolves.toBeUndefined();
  } finally {
    redis.resume();
    await store.close();
  }
});

// the window is counted from when the store began to fail, not from each call: a call made during
// an outage gets what is left of it, so that a long outage fails calls at once (deadline.ts). Told
// by outcome, not by time: Redis answers again halfway between the end of the first call's window
// (3 s in) and the end a window of the later call's own would have (5 s in), so the later call
// fails only if it shared the first's; a second either side keeps a loaded machine's late timers
// from deciding it (a later call still trying when Redis came back would be answered).
test('a call made while the store already fails gets what is left of the window, not one of its own', async () => {
  const store = await connectRetrying({ commandTimeoutMs: 200, retryWithinMs: 3000, onError: () => undefined });
  try {
    redis.pause();
    const settled = (call: Promise<unknown>) =>
      call.then(
        () => 'answered',
        () => 'failed',
      );
    const began = Date.now();
    const first = settled(store.ledger.getPending('cmpA', randomUUID()));
    await sleep(2000);
    const later = settled(store.ledger.getPending('cmpA', randomUUID()));
    expect(await first).toBe('failed');
    await sleep(began + 4000 - Date.now());
    redis.resume();
    expect(await later).toBe('failed');
    await expect(store.ledger.getPending('cmpA', randomUUID())).resolves.toBeUndefined();
  } finally {
    redis.resume();
    await store.close();
  }
});

// store.ts: a second run would count or take something twice; each of these fails while Redis is
// away, where a read that may run twice is made again until Redis is back within its window
test('while Redis is away, the calls never made again fail, each of them, and a read waits for it; the connection errors go to onError', async () => {
  const errors: Error[] = [];
  const store = await connectRetrying({ retryWithinMs: 60_000, onError: (err) => errors.push(err) });
  try {
    const records = store.records('opx');
    await store.outbox.enqueue(delivery());
    await redis.kill();
    const once = {
      admit: () => store.limits.admit([{ key: 'x', limit: { requests: 1, perSeconds: 60, burst: 1 } }]),
      countFailures: () => store.limits.countFailures(['x'], 60),
      acquireLock: () => records.acquireLock('lock', 1000),
      create: () => records.create(randomUUID(), { a: 1 }, 60),
      receive: () => store.outbox.receive('w', 10),
      claimStale: () => store.outbox.claimStale('w', 0, 10),
      replayDead: () => store.outbox.replayDead(),
    };
    const read = store.ledger.getPending('cmpA', randomUUID());
    // Redis comes back only once every one of them has settled: one made again would wait for it
    const outcomes = await Promise.all(
      Object.values(once).map((call) =>
        call().then(
          () => 'answered',
          () => 'failed',
        ),
      ),
    );
    expect(Object.fromEntries(Object.keys(once).map((name, i) => [name, outcomes[i]]))).toEqual(
      Object.fromEntries(Object.keys(once).map((name) => [name, 'failed'])),
    );
    await redis.startAgain();
    await expect(read).resolves.toBeUndefined();
    expect(errors.length).toBeGreaterThan(0);
  } finally {
    await redis.startAgain();
    await store.close();
  }
});

// a failure count made twice would count one failed login twice (store.ts): with a Redis that does
// not answer, it fails after its own deadline, where a read is made again until Redis answers
test('a Redis that does not answer: a failure count fails after its own deadline, never made again', async () => {
  const store = await connectRetrying({ commandTimeoutMs: 200, retryWithinMs: 60_000, onError: () => undefined });
  try {
    redis.pause();
    const read = store.ledger.getPending('cmpA', randomUUID());
    // Redis answers again only once the count has settled: a count made again would wait for it
    await expect(store.limits.countFailures(['x'], 60)).rejects.toBeInstanceOf(StoreDeadlineError);
    redis.resume();
    await expect(read).resolves.toBeUndefined();
  } finally {
    redis.resume();
    await store.close();
  }
});

// a MULTI waits in node-redis's queue while the client reconnects (the offline queue is off for
// single commands only) and fails with the socket's own error once a reconnection is refused; that
// error is a connection's failure like the others, so each of these calls, which may run twice
// (docs/operating/redis.md), rides the restart out within its window instead of failing at once
test('calls sent as one MULTI while Redis restarts are answered once it is back: an ack, an invalidation, a saved record', async () => {
  const store = await connectRetrying({ onError: () => undefined });
  try {
    await store.outbox.enqueue(delivery({ id: 'a' }));
    const [entry] = await store.outbox.receive('w', 10);
    const records = store.records('opx');
    await redis.kill();
    const settled = (call: Promise<unknown>) =>
      call.then(
        () => 'answered',
        (err: unknown) => `failed: ${String(err)}`,
      );
    const calls = {
      ack: settled(store.outbox.ack(entry)),
      invalidate: settled(store.bindings.invalidate('tok', 'mspA', 'cmpA', 60)),
      save: settled(records.save(randomUUID(), { a: 1 }, 60, { by: 'x' })),
    };
    // long enough for the client's reconnections to be refused, shorter than the window
    await sleep(1000);
    await redis.startAgain();
    const outcomes = await Promise.all(Object.values(calls));
    expect(Object.fromEntries(Object.keys(calls).map((name, i) => [name, outcomes[i]]))).toEqual({
      ack: 'answered',
      invalidate: 'answered',
      save: 'answered',
    });
  } finally {
    await redis.startAgain();
    await store.close();
  }
});
