/**
 * The stores every port's contract suite runs on: in memory, and Redis (a real server) under a key
 * prefix of its own, whose keys are deleted when the suite ends.
 */
import { randomUUID } from 'node:crypto';
import type { PendingActivation } from '../../src/state/ledger';
import type { Delivery } from '../../src/state/outbox';
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

/** a port's contract suite, once per store: `store()` is the store of the running suite */
export function describeEachStore(suite: (store: () => Store) => void): void {
  describe.each(storeMakers())('%s store', (_kind: string, make: StoreMaker) => {
    let store: Store;
    beforeAll(async () => {
      store = await make();
    });
    afterAll(() => store.close());
    suite(() => store);
  });
}

/** a pending activation request of mspA and cmpA with fresh ids, unless overridden */
export const pendingActivation = (overrides: Partial<PendingActivation> = {}): PendingActivation => ({
  requestId: randomUUID(),
  msp: 'mspA',
  cmp: 'cmpA',
  mspToken: randomUUID(),
  correlationId: randomUUID(),
  createdAt: Date.now(),
  ...overrides,
});

/** a forward of Send CSIM Status to mspA for the outbox, fresh unless `overrides` says otherwise */
export const delivery = (overrides: Partial<Delivery> = {}): Delivery => ({
  id: randomUUID(),
  kind: 'forward',
  target: 'mspA',
  operation: 'sendCsimStatus',
  method: 'POST',
  path: '/v1/statuses/x',
  headers: { 'cmp-request-id': 'r' },
  body: '{"a":1}',
  createdAt: Date.now(),
  attempts: 0,
  ...overrides,
});
