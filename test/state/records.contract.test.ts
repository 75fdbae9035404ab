/**
 * The record store port: one contract, both stores (in memory, and Redis: a real server).
 */
import { randomUUID } from 'node:crypto';
import type { RecordStore } from '../../src/state/records';
import { describeEachStore } from '../support/stores';

describeEachStore((store) => {
  describe("record stores (a dialect partner's namespace)", () => {
    let records: RecordStore;
    beforeAll(() => {
      records = store().records(`ns${randomUUID().slice(0, 8)}`);
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
      expect(await store().records('elsewhere').get('a')).toBeUndefined();
    });

    test('saving again replaces the record and keeps it indexed once', async () => {
      const key = randomUUID();
      await records.save('d', { v: 'old' }, 60, { group: key });
      await records.save('d', { v: 'new' }, 60, { group: key });
      expect(await records.find('group', key)).toEqual([{ v: 'new' }]);
    });

    test('records expire after their TTL, and drop out of their indexes', async () => {
      const key = randomUUID();
      const other = randomUUID();
      await records.save('e', { v: 1 }, 1, { group: key, other });
      // the index `other` lives on with a record saved in it later: the expired one is not found through it
      await records.save('e2', { v: 2 }, 60, { other });
      await new Promise((r) => setTimeout(r, 1100));
      expect(await records.get('e')).toBeUndefined();
      expect(await records.find('group', key)).toEqual([]);
      expect(await records.find('other', other)).toEqual([{ v: 2 }]);
    });

    test('create writes only a record that does not live yet, with its indexes, in one step; unindex leaves the record', async () => {
      const key = randomUUID();
      expect(await records.create('f', { v: 'first' }, 60, { group: key, all: 'x' })).toBe(true);
      expect(await records.create('f', { v: 'second' }, 60, { group: key })).toBe(false);
      expect(await records.get('f')).toEqual({ v: 'first' });
      expect(await records.find('group', key)).toEqual([{ v: 'first' }]);
      await records.unindex('f', { group: key });
      expect(await records.find('group', key)).toEqual([]);
      expect(await records.get('f')).toEqual({ v: 'first' });
      expect(await records.find('all', 'x')).toContainEqual({ v: 'first' });
    });

    test('locks: one holder at a time; only the holder releases it', async () => {
      const key = randomUUID();
      const owner = await records.acquireLock(key, 5000);
      expect(owner).toEqual(expect.any(String));
      expect(await records.acquireLock(key, 5000)).toBeUndefined();
      await records.releaseLock(key, 'someone else');
      expect(await records.acquireLock(key, 5000)).toBeUndefined();
      // taken again by its holder (a call made again after its answer was lost): still its own
      expect(await records.acquireLock(key, 5000, owner)).toBe(owner);
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
});
