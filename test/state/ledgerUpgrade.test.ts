/**
 * The upgrade script for activation requests kept by builds before the one-entry ledger
 * (src/state/redis/upgradeLedger.lua): keys written as those builds wrote them (pac:, paca:, rpl:,
 * pacs:, pacm:), then read through the ledger of this build, on real Redis.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { createClient } from 'redis';
import { RedisStore } from '../../src/state/redis/store';
import { deleteKeys, REDIS_URL, uniquePrefix } from '../support/redis';

const SCRIPT = readFileSync(path.join(__dirname, '../../src/state/redis/upgradeLedger.lua'), 'utf8');
const TOKEN = '3d8db5e5-dd84-40bf-836c-bb686f9f707e';

test('pending requests, answered marks and stored answers survive the upgrade, once', async () => {
  const prefix = uniquePrefix();
  const client = createClient({ url: REDIS_URL });
  await client.connect();
  const request = (requestId: string, extra = {}) => ({
    requestId,
    msp: 'mspA',
    cmp: 'cmpA',
    mspToken: TOKEN,
    correlationId: 'c0ffee00-0001-4000-8000-000000000001',
    createdAt: 1795680000000,
    ...extra,
  });
  const ex = { expiration: { type: 'EX' as const, value: 3000 } };
  try {
    // as the builds before wrote them: a 201 sent to the CMP, a bridged request, one whose MSP did
    // not answer (no replay record), and a synchronous 200 kept for replays only
    await client.set(`${prefix}pac:cmpA ac-201`, JSON.stringify(request('ac-201')), ex);
    await client.set(`${prefix}paca:cmpA ac-201`, '1', ex);
    await client.set(`${prefix}rpl:cmpA:ac-201`, JSON.stringify({ fingerprint: 'fp201', answer: { status: 201, body: '' } }), ex);
    await client.set(`${prefix}pac:cmpA ac-bridged`, JSON.stringify(request('ac-bridged', { bridged: true })), ex);
    await client.set(`${prefix}rpl:cmpA:ac-bridged`, JSON.stringify({ fingerprint: 'fpb', answer: { status: 201, body: '' } }), ex);
    await client.set(`${prefix}pac:cmpA ac-open`, JSON.stringify(request('ac-open')), ex);
    await client.set(
      `${prefix}rpl:cmpA:ac-200`,
      JSON.stringify({ fingerprint: 'fp200', answer: { status: 200, contentType: 'application/json', body: '{"iccid":"8949000000000000001"}' } }),
      ex,
    );
    await client.sAdd(`${prefix}pacs:mspA cmpA ${TOKEN}`, ['ac-201', 'ac-bridged', 'ac-open']);
    expect(await client.eval(SCRIPT, { keys: [], arguments: [prefix] })).toEqual([3, 1]);
    expect(await client.eval(SCRIPT, { keys: [], arguments: [prefix] })).toEqual([0, 0]);

    const store = await RedisStore.connect({ url: REDIS_URL, keyPrefix: prefix });
    try {
      expect(await store.ledger.getPending('cmpA', 'ac-201')).toEqual({ ...request('ac-201'), bridged: false, answered: true });
      expect(await store.ledger.getPending('cmpA', 'ac-bridged')).toEqual({ ...request('ac-bridged'), bridged: true, answered: false });
      expect(await store.ledger.getPending('cmpA', 'ac-open')).toEqual({ ...request('ac-open'), bridged: false, answered: false });
      expect((await store.ledger.listPending('mspA', 'cmpA', TOKEN)).map((p) => p.requestId).sort()).toEqual(['ac-201', 'ac-bridged', 'ac-open']);
      // retries: the stored answers are replayed; the request whose MSP did not answer is asked again
      expect(await store.ledger.claimActivation(request('ac-201'), 'fp201', 60000, 60)).toEqual({
        state: 'done',
        fingerprint: 'fp201',
        answer: { status: 201, body: '' },
      });
      expect(await store.ledger.claimActivation(request('ac-200'), 'fp200', 60000, 60)).toMatchObject({ state: 'done', answer: { status: 200 } });
      expect(await store.ledger.claimActivation(request('ac-open'), 'any', 60000, 60)).toEqual({ state: 'claimed' });
      expect(await store.ledger.consumePending(request('ac-201'))).toBe(true);
    } finally {
      await store.close();
    }
  } finally {
    await client.close();
    await deleteKeys(prefix);
  }
});
