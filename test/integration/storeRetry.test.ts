/**
 * A store call that fails because Redis is away (its connection closed, the client offline) is
 * made again until Redis answers, within the call's retry window, so that a primary replaced in
 * that time costs the caller time, not a refusal (docs/operating/redis.md); past the window
 * it fails. A call a second run would count twice (a rate limit) is never made again.
 */
import { randomUUID } from 'node:crypto';
import type { Delivery } from '../../src/state/outbox';
import { RedisStore } from '../../src/state/redis/store';
import { OwnRedis } from '../support/redisServer';

const delivery = (id: string): Delivery => ({
  id,
  kind: 'forward',
  target: 'mspA',
  operation: 'sendCsimStatus',
  method: 'POST',
  path: '/v1/statuses/x',
  headers: {},
  body: '{}',
  createdAt: Date.now(),
  attempts: 0,
});
const pending = () => ({
  requestId: randomUUID(),
  msp: 'mspA',
  cmp: 'cmpA',
  mspToken: randomUUID(),
  correlationId: randomUUID(),
  createdAt: Date.now(),
  claimId: randomUUID(),
});
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

let redis: OwnRedis;
beforeAll(async () => {
  redis = await OwnRedis.start();
});
afterAll(() => redis.remove());

test('calls made while Redis restarts are answered once it is back: a claim, a delivery queued once', async () => {
  const store = await RedisStore.connect({ url: redis.url, keyPrefix: `retry-${randomUUID()}:`, onError: () => undefined });
  try {
    await redis.kill();
    const claimed = store.ledger.claimActivation(pending(), 'fp', 10000, 60);
    const queued = store.outbox.enqueue(delivery('a'));
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
  const store = await RedisStore.connect({ url: redis.url, keyPrefix: `retry-${randomUUID()}:`, retryWithinMs: 1500, onError: () => undefined });
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
