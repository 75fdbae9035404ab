/**
 * What only the in-memory store has to show: one cap over all its maps, exact (README, "State bounds
 * and what to plan for": past `memoryStoreMaxEntries` a request that needs a new entry is refused,
 * and nothing already held is lost). The ports' behaviour is in their contract suites.
 */
import { randomUUID } from 'node:crypto';
import { MemoryStore } from '../../src/state/memory/store';
import { StoreFullError } from '../../src/errors/storeFullError';
import { pendingActivation } from '../support/stores';

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
