/**
 * `aid-gateway inspect journey <msp_token | activationCodeRequestID | ICCID>` on the built command
 * line, against the Redis a hub wrote its journeys to: one readable timeline, the same whichever
 * id names it; an id of no journey exits 1.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import { paths, requestActivationCodeBody } from '../support/messages';
import { REDIS_URL } from '../support/redis';
import { startWorld, type World } from '../support/testHub';

const ROOT = path.join(__dirname, '../..');
const MAIN = path.join(ROOT, 'dist/src/main.js');

let world: World;
beforeAll(async () => {
  if (!existsSync(MAIN)) expect(spawnSync('npx', ['tsc', '-p', 'tsconfig.json'], { cwd: ROOT, encoding: 'utf8' }).status).toBe(0);
  world = await startWorld();
});
afterAll(() => world.close());

function inspect(id: string) {
  return spawnSync(process.execPath, [MAIN, 'inspect', 'journey', id, '--redis-url', REDIS_URL, '--redis-prefix', world.hub.keyPrefix as string], {
    cwd: ROOT,
    encoding: 'utf8',
    env: { PATH: process.env.PATH },
    timeout: 20000,
  });
}

test('the timeline by msp_token, by activationCodeRequestID and by ICCID', async () => {
  const token = await world.onboard('mspA', 'cmpA');
  const requestId = randomUUID();
  const iccid = '8949000000000000123';
  world.partners.mspA.answer(() => ({
    status: 200,
    body: { iccid, activationCode: '1$smdp.example.com$SECRET-CODE', profileType: 'personal', swappedIccid: null },
  }));
  expect(
    (await world.hub.call({ as: 'cmpA', to: 'mspA', method: 'POST', path: paths.requestActivationCode(token), body: requestActivationCodeBody(requestId) }))
      .status,
  ).toBe(200);
  // the hub's instance writes its last events itself once idle
  await world.hub.hub.store.journeys.flush();
  const byToken = inspect(token);
  expect(byToken.status).toBe(0);
  const lines = byToken.stdout.split('\n');
  expect(lines[0]).toBe(`journey of msp_token ${token}: 2 events, oldest first (UTC)`);
  expect(byToken.stdout).toMatch(/sendMspToken {2}mspA -> cmpA {2}answered 201/);
  expect(byToken.stdout).toMatch(/> \d{4}-\d\d-\d\d \S+ {2}requestActivationCode {2}cmpA -> mspA {2}answered 200/);
  expect(byToken.stdout).toContain(`request ${requestId} | ICCID …0123`);
  expect(byToken.stdout).toMatch(/waiting: activation code sent \d\d:\d\d:\d\d, no Send CSIM Status from cmpA for \d+ s\n$/);
  expect(byToken.stdout).not.toContain('SECRET-CODE');
  // the same timeline; only how long it has waited may have moved on
  const timeline = (out: string) => out.split('\n').slice(0, -2);
  expect(timeline(inspect(requestId).stdout)).toEqual(timeline(byToken.stdout));
  expect(inspect(iccid).stdout.split('\n')[0]).toBe(lines[0]);
});

test('an id of no journey: exit 1, and stderr says so', () => {
  const none = inspect(randomUUID());
  expect(none.status).toBe(1);
  expect(none.stdout).toBe('');
  expect(none.stderr).toContain('no journey for that msp_token, activationCodeRequestID or ICCID');
});
