/**
 * The upgrade script for ES2+ operator profiles kept by builds before the dialect seam
 * (src/dialects/es2plus/upgradeRecords.lua): keys written as those builds wrote them, read back
 * through the record store the dialect uses now, on real Redis.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { createClient } from 'redis';
import { RedisStore } from '../../src/state/redis/store';
import { deleteKeys, REDIS_URL, uniquePrefix } from '../support/redis';

const SCRIPT = readFileSync(path.join(__dirname, '../../src/dialects/es2plus/upgradeRecords.lua'), 'utf8');

test('profiles under es2p:/es2s:/es2r: are found by id, subscription and request afterwards, with their TTL, once', async () => {
  const prefix = uniquePrefix();
  const client = createClient({ url: REDIS_URL });
  await client.connect();
  const profile = {
    msp: 'mspG',
    iccid: '8949000000000000017',
    mspToken: '0e7f5a3c-61d2-4b8e-9a47-2c5d8e1f9b30',
    cmp: 'cmpA',
    activationCodeRequestId: 'ac000000-0011-4000-8000-000000000011',
    state: 'released',
    createdAt: 1,
  };
  try {
    // as the builds before wrote them: the profile, its subscription's set, its request's ICCID
    await client.set(`${prefix}es2p:mspG ${profile.iccid}`, JSON.stringify(profile), { expiration: { type: 'EX', value: 5000 } });
    await client.sAdd(`${prefix}es2s:mspG ${profile.mspToken}`, profile.iccid);
    await client.set(`${prefix}es2r:mspG ${profile.activationCodeRequestId}`, profile.iccid);
    expect(await client.eval(SCRIPT, { keys: [], arguments: [prefix] })).toBe(1);
    expect(await client.eval(SCRIPT, { keys: [], arguments: [prefix] })).toBe(1);

    const store = await RedisStore.connect({ url: REDIS_URL, keyPrefix: prefix });
    const records = store.records('mspG');
    expect(await records.get(profile.iccid)).toEqual(profile);
    expect(await records.find('subscription', profile.mspToken)).toEqual([profile]);
    expect(await records.find('request', profile.activationCodeRequestId)).toEqual([profile]);
    expect(await store.records('mspOther').get(profile.iccid)).toBeUndefined();
    await store.close();
    const ttl = await client.ttl(`${prefix}rec:mspG ${profile.iccid}`);
    expect(ttl).toBeGreaterThan(4900);
    expect(ttl).toBeLessThanOrEqual(5000);
  } finally {
    await client.close();
    await deleteKeys(prefix);
  }
});
