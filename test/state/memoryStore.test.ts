/**
 * What only the in-memory store has to show: one cap over all its maps, exact (README, "State bounds
 * and what to plan for": past `memoryStoreMaxEntries` a request that needs a new entry is refused,
 * and nothing already held is lost). The ports' behaviour is in their contract suites.
 */
import { randomUUID } from 'node:crypto';
import { MemoryStore } from '../../src/state/memory/store';
import { StoreFullError } from '../../src/errors/storeFullError';
import type { JourneyEvent, JourneyLookup, JourneyWrite } from '../../src/journeys/event';
import { MemoryJourneys } from '../../src/state/memory/journeys';
import { MemoryOutbox } from '../../src/state/memory/outbox';
import { delivery, pendingActivation } from '../support/stores';

describe('memory store specifics', () => {
  test('filled to exactly its cap, the next new entry is refused; what it holds stays and can be rewritten', async () => {
    const store = new MemoryStore({ maxEntries: 10 });
    try {
      const held = Array.from({ length: 5 }, () => `cmpA:${randomUUID()}`);
      for (const key of held) expect(await store.ledger.rememberRequest(key, 'fp', 60)).toBeUndefined();
      // the other half in another map: one cap over every map of the store
      for (let i = 0; i < 5; i++) await store.records('opx').save(randomUUID(), { i }, 60);
      await expect(store.ledger.rememberRequest(`cmpA:${randomUUID()}`, 'fp', 60)).rejects.toBeInstanceOf(StoreFullError);
      await expect(store.bindings.bind(randomUUID(), 'mspA', 'cmpA', 60)).rejects.toBeInstanceOf(StoreFullError);
      for (const key of held) expect(await store.ledger.rememberRequest(key, 'other', 60)).toBe('fp');
    } finally {
      await store.close();
    }
  });

  // the cap counts what the store holds: entries past their TTL are gone, as on Redis, and make room
  // without waiting for the minute's sweep
  test('full of entries that have expired, the store takes new ones', async () => {
    const store = new MemoryStore({ maxEntries: 2 });
    try {
      for (let i = 0; i < 2; i++) await store.ledger.rememberRequest(`cmpA:${randomUUID()}`, 'fp', 1);
      await expect(store.ledger.rememberRequest(`cmpA:${randomUUID()}`, 'fp', 60)).rejects.toBeInstanceOf(StoreFullError);
      await new Promise((r) => setTimeout(r, 1100));
      for (let i = 0; i < 2; i++) expect(await store.ledger.rememberRequest(`cmpA:${randomUUID()}`, 'fp', 60)).toBeUndefined();
      await expect(store.ledger.rememberRequest(`cmpA:${randomUUID()}`, 'fp', 60)).rejects.toBeInstanceOf(StoreFullError);
    } finally {
      await store.close();
    }
  });

  // a binding renewed or given another pair is the entry it was: a full store refuses only new ones
  test('full, the store still rewrites what it holds', async () => {
    const store = new MemoryStore({ maxEntries: 1 });
    try {
      const token = randomUUID();
      await store.bindings.bind(token, 'mspA', 'cmpA', 60);
      expect(await store.bindings.bind(token, 'mspA', 'cmpB', 60)).toBe('bound');
      expect(await store.bindings.get(token, 600)).toEqual({ pairs: { 'mspA cmpA': 'active', 'mspA cmpB': 'active' } });
      await expect(store.bindings.bind(randomUUID(), 'mspA', 'cmpA', 60)).rejects.toBeInstanceOf(StoreFullError);
    } finally {
      await store.close();
    }
  });

  // the request id is a safety net: a full store skips it rather than refuse the request
  test('full, the checks skip the request id instead of failing the request', async () => {
    const store = new MemoryStore({ maxEntries: 1 });
    try {
      await store.bindings.bind(randomUUID(), 'mspA', 'cmpA', 60);
      const requestId = { key: `cmpA:${randomUUID()}`, fingerprint: 'fp', ttlSeconds: 60 };
      expect(await store.checks.check({ limits: [], requestId })).toMatchObject({ limits: { allowed: true }, previousFingerprint: undefined });
    } finally {
      await store.close();
    }
  });

  // the rate limits drop keys whose time has passed once there are more than 10,000: never one still limited
  test('past 10,000 rate-limit keys, a key over its limit stays refused', async () => {
    const store = new MemoryStore();
    try {
      const limit = { requests: 1, perSeconds: 60, burst: 1 };
      const first = randomUUID();
      for (let i = 0; i <= 10000; i++) await store.limits.admit([{ key: i === 0 ? first : randomUUID(), limit }]);
      expect((await store.limits.admit([{ key: first, limit }])).allowed).toBe(false);
    } finally {
      await store.close();
    }
  });

  test('an entry released makes room for exactly one more', async () => {
    const store = new MemoryStore({ maxEntries: 3 });
    try {
      const request = pendingActivation();
      await store.ledger.claimActivation(request, 'fp', 60000, 60);
      for (let i = 0; i < 2; i++) await store.bindings.bind(randomUUID(), 'mspA', 'cmpA', 60);
      await expect(store.bindings.bind(randomUUID(), 'mspA', 'cmpA', 60)).rejects.toBeInstanceOf(StoreFullError);
      await store.ledger.finishActivation(request, { kind: 'release' });
      await store.bindings.bind(randomUUID(), 'mspA', 'cmpA', 60);
      await expect(store.bindings.bind(randomUUID(), 'mspA', 'cmpA', 60)).rejects.toBeInstanceOf(StoreFullError);
    } finally {
      await store.close();
    }
  });
});

// as on Redis, whose marker of a queued id expires after an hour (src/state/redis/outbox.ts): a call
// made again after its answer was lost queues nothing more within the hour, and the ids remembered do
// not grow without end. The clock is moved instead of waiting an hour.
describe('memory outbox', () => {
  test('a queued id is remembered for an hour, then forgotten', async () => {
    const outbox = new MemoryOutbox();
    const queued = delivery();
    const began = Date.now();
    const clock = jest.spyOn(Date, 'now').mockReturnValue(began);
    try {
      await outbox.enqueue(queued);
      clock.mockReturnValue(began + 59 * 60_000);
      await outbox.enqueue(queued);
      expect((await outbox.depth()).ready).toBe(1);
      clock.mockReturnValue(began + 61 * 60_000);
      await outbox.enqueue(queued);
      expect((await outbox.depth()).ready).toBe(2);
    } finally {
      clock.mockRestore();
    }
  });
});

// docs/operating/journeys.md: the memory store keeps 10,000 journeys, "the oldest written goes first"
describe('memory journeys', () => {
  const event = (): JourneyEvent => ({ id: randomUUID(), at: Date.now(), instance: 'test', operation: 'requestActivationCode', outcome: 'answered' });
  const write = (token: string, more: Partial<JourneyWrite> = {}): JourneyWrite => ({
    token,
    indexes: [],
    event: event(),
    ttlSeconds: 60,
    maxEvents: 3,
    ...more,
  });
  const request = (): JourneyLookup => ({ kind: 'request', value: randomUUID() });

  test('past the cap the journey written longest ago goes, with the ids that led to it', async () => {
    const journeys = new MemoryJourneys(2);
    const [a, b, c] = [randomUUID(), randomUUID(), randomUUID()];
    const [byA, byB, byC] = [request(), request(), request()];
    journeys.record(write(a, { indexes: [byA] }));
    journeys.record(write(b, { indexes: [byB] }));
    // written again: a is now the most recent, b the oldest
    journeys.record(write(a));
    journeys.record(write(c, { indexes: [byC] }));
    expect(await journeys.read(b)).toBeUndefined();
    expect((await journeys.read(a))?.events).toHaveLength(2);
    // read, a journey stays
    expect((await journeys.read(a))?.events).toHaveLength(2);
    expect((await journeys.read(c))?.events).toHaveLength(1);
    // lookups past twice the cap: those of the journeys gone are dropped
    journeys.record(write(randomUUID(), { indexes: [request(), request()] }));
    expect(await journeys.resolve(byB)).toBeUndefined();
    expect(await journeys.resolve(byC)).toBe(c);
  });

  test('past twice the cap in lookups, those of a journey gone are dropped however many there are', async () => {
    const journeys = new MemoryJourneys(1);
    const gone = [request(), request(), request()];
    journeys.record(write(randomUUID(), { indexes: gone }));
    journeys.record(write(randomUUID(), { indexes: [request()] }));
    for (const lookup of gone) expect(await journeys.resolve(lookup)).toBeUndefined();
  });

  test('a journey and its lookups end with their lifetime', async () => {
    const journeys = new MemoryJourneys();
    const token = randomUUID();
    const by = request();
    journeys.record(write(token, { indexes: [by], ttlSeconds: 1, event: { ...event(), at: Date.now() - 3600_000, stage: 'awaitingCode' } }));
    expect(await journeys.resolve(by)).toBe(token);
    const limits = { awaitingCode: 60, awaitingCsimStatus: 60 };
    expect((await journeys.stuck(limits, Date.now())).map((j) => j.token)).toEqual([token]);
    await new Promise((r) => setTimeout(r, 1100));
    expect(await journeys.stuck(limits, Date.now())).toEqual([]);
    expect(await journeys.read(token)).toBeUndefined();
    expect(await journeys.resolve(by)).toBeUndefined();
    // an event known only by the lookup joins no journey once it has ended
    journeys.record({ ...write(token), token: undefined, via: by });
    expect(await journeys.read(token)).toBeUndefined();
  });

  test('stuck journeys are listed longest waiting first', async () => {
    const journeys = new MemoryJourneys();
    const [recent, old] = [randomUUID(), randomUUID()];
    journeys.record(write(recent, { event: { ...event(), at: Date.now() - 600_000, stage: 'awaitingCode' } }));
    journeys.record(write(old, { event: { ...event(), at: Date.now() - 3600_000, stage: 'awaitingCsimStatus' } }));
    const stuck = await journeys.stuck({ awaitingCode: 60, awaitingCsimStatus: 60 }, Date.now());
    expect(stuck.map((j) => j.token)).toEqual([old, recent]);
  });
});
