/**
 * Journeys cost the request path no Redis round trip (issue 33: "written in the same round trips the
 * request already makes"): with journeys on, the same requests make the same number of script
 * calls as with journeys off, and every event is there all the same. Counted on a Redis of the
 * test's own (INFO commandstats counts every client's commands).
 */
import { randomUUID } from 'node:crypto';
import { paths, requestActivationCodeBody } from '../support/messages';
import { OwnRedis } from '../support/redisServer';
import { startWorld, type World } from '../support/testHub';

jest.setTimeout(60000);

let redis: OwnRedis;
beforeAll(async () => {
  redis = await OwnRedis.start();
});
afterAll(() => redis.remove());

/** the round trips (top-level commands and script calls) and the commands of `n` activation requests */
async function measure(journeys: boolean, n: number): Promise<{ scripts: number; appends: number; world: World; tokens: string[] }> {
  const world = await startWorld({ redisUrl: redis.url, routes: { settings: { journeys, outboxPollMs: 60000 }, routes: [{ from: '*', to: '*' }] } });
  const tokens: string[] = [];
  for (let i = 0; i < n; i++) tokens.push(await world.onboard('mspA', 'cmpA'));
  // a first request loads the scripts into this Redis (a NOSCRIPT answer, then EVAL): not counted
  await world.hub.call({
    as: 'cmpA',
    to: 'mspA',
    method: 'POST',
    path: paths.requestActivationCode(await world.onboard('mspA', 'cmpA')),
    body: requestActivationCodeBody(randomUUID()),
  });
  const before = await redis.commands();
  const journeysOf = world.hub.hub.store.journeys as { ownCalls?: number };
  const ownBefore = journeysOf.ownCalls ?? 0;
  for (const token of tokens) {
    const answer = await world.hub.call({
      as: 'cmpA',
      to: 'mspA',
      method: 'POST',
      path: paths.requestActivationCode(token),
      body: requestActivationCodeBody(randomUUID()),
    });
    expect(answer.status).toBe(200);
  }
  const after = await redis.commands();
  const delta = (name: string) => (after[name] ?? 0) - (before[name] ?? 0);
  // the outbox worker polls once at start, then not for a minute (a poll runs a script of its own);
  // an instance idle for 250 ms between two requests (a loaded machine) writes what waits itself:
  // counted apart, the requests' own scripts are compared
  const own = (journeysOf.ownCalls ?? 0) - ownBefore;
  return { scripts: delta('evalsha') - own, appends: delta('rpush'), world, tokens };
}

test('journeys on: as many script calls as journeys off, and each event appended inside them', async () => {
  const n = 20;
  const off = await measure(false, n);
  await off.world.close();
  const on = await measure(true, n);
  try {
    expect(off.appends).toBe(0);
    expect(on.scripts).toBe(off.scripts);
    // every request's event but the last rode on a later request's script; the last waits in the instance
    expect(on.appends).toBeGreaterThanOrEqual(n - 1);
    // the last one is written by the instance itself (as its timer would, once it is idle)
    await on.world.hub.hub.store.journeys.flush();
    for (const token of on.tokens) {
      const journey = await on.world.hub.hub.store.journeys.read(token);
      expect(journey?.events.map((e) => e.operation)).toEqual(['sendMspToken', 'requestActivationCode']);
    }
  } finally {
    await on.world.close();
  }
});
