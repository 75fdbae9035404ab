/**
 * The TelcoAPI dialect end to end: CMPs talk AID.02 to the hub, the hub plays the MSP and drives a
 * simulated eSIM management platform (the seed's /api/v1/esim), the platform's signed webhooks
 * report what the cars did, the operator's back office hears what happened. Real Redis, real HTTP
 * servers on 127.0.0.1.
 */
import { randomUUID } from 'node:crypto';
import { parseActivationCode } from '../../src/esim/activationCode';
import { newEid } from '../support/es2World';
import { ACCOUNT_ID, notifyMspTokenInvalidBody, paths } from '../support/messages';
import { ProtectedValues } from '../support/protectedValues';
import { NEXT_SECRET, SECRET, SMDP, TelcoWorld, TOKEN } from '../support/telcoWorld';
import { waitFor } from '../support/waitFor';

jest.setTimeout(30000);

let world: TelcoWorld;
beforeAll(async () => {
  world = await TelcoWorld.start();
});
afterAll(() => world.close());

/** ICCID digits with a right Luhn check digit (ITU-T E.118) */
function luhnValid(iccid: string): boolean {
  const sum = [...iccid].reverse().reduce((acc, c, i) => {
    const d = Number(c) * (i % 2 === 1 ? 2 : 1);
    return acc + (d > 9 ? d - 9 : d);
  }, 0);
  return sum % 10 === 0;
}

describe('Request Activation Code', () => {
  test("first vehicle: the device is registered and checked, a profile created from the operator's block, its code handed out", async () => {
    const token = await world.onboard();
    const eid = newEid();
    const before = world.platform.calls.length;
    const answer = await world.requestCode(token, { eid });
    expect(answer.status).toBe(200);
    expect(answer.body).toEqual({
      iccid: expect.stringMatching(/^894901\d{13}$/),
      activationCode: expect.any(String),
      profileType: 'personal',
      swappedIccid: null,
    });
    expect(luhnValid(answer.body.iccid)).toBe(true);
    const calls = world.platform.calls.slice(before);
    expect(calls.map((c) => `${c.method} ${c.path.replace(eid, '{eid}')}`)).toEqual([
      'GET /devices/{eid}',
      'POST /devices',
      'GET /devices/{eid}/compatibility?profileType=OPERATIONAL',
      'GET /devices/{eid}/profiles',
      'POST /profiles',
    ]);
    expect(calls[0].headers.authorization).toBe('Bearer platform-token-of-the-hub');
    expect(calls[1].body).toMatchObject({ eid, deviceInfo: { model: 'tcu' } });
    // seed: Create Profile's required members
    expect(calls[4].body).toEqual({
      iccid: answer.body.iccid,
      eid,
      profileType: 'OPERATIONAL',
      mno: 'MNO-TEST',
      metadata: { name: 'personal', description: expect.any(String), policies: [], features: [] },
    });
    expect(parseActivationCode(answer.body.activationCode).smdpAddress).toBe(SMDP);
    expect(world.platform.profiles.get(answer.body.iccid)).toMatchObject({ eid, profileState: 'CREATED', activationCode: answer.body.activationCode });
    await waitFor(() => world.events('profileOrdered').some((e) => e.iccid === answer.body.iccid));
    expect(world.backOffice.received[0].headers['api-key']).toBe('hub-key-at-opt-backoffice');
    // a device seen before is not registered again
    await world.requestCode(await world.onboard(), { eid });
    expect(world.platformCalls('POST', /^\/devices$/).filter((b) => b.eid === eid)).toHaveLength(1);
  });

  test('a profile the operator made for the device on its platform is taken, not a new one created', async () => {
    const eid = newEid();
    const iccid = '8949099000000000011';
    // the operator's own back office, on its platform (seed: Create Profile)
    const made = await fetch(`${world.platform.url}/api/v1/esim/profiles`, {
      method: 'POST',
      headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
      body: JSON.stringify({
        iccid,
        eid,
        profileType: 'OPERATIONAL',
        mno: 'MNO-TEST',
        metadata: { name: 'batch', description: 'made by the operator', policies: [], features: [] },
      }),
    });
    expect(made.status).toBe(200);
    const creates = world.platformCalls('POST', /^\/profiles$/).length;
    const answer = await world.requestCode(await world.onboard(), { eid });
    expect(answer.status).toBe(200);
    expect(answer.body.iccid).toBe(iccid);
    expect(answer.body.activationCode).toBe(world.platform.profiles.get(iccid)?.activationCode);
    expect(world.platformCalls('POST', /^\/profiles$/)).toHaveLength(creates);
    // handed out once: the next vehicle with that EID gets a new one
    const next = await world.requestCode(await world.onboard(), { eid });
    expect(next.body.iccid).not.toBe(iccid);
  });

  test('n vehicles get n profiles; vehicle n+1 swaps: a profile not yet downloaded is deleted on the platform, one on a vehicle is disabled there and deleted by the CMP', async () => {
    const token = await world.onboard();
    const first = await world.requestCode(token);
    const second = await world.requestCode(token, { replaceIccid: first.body.iccid });
    expect([first.body.swappedIccid, second.body.swappedIccid]).toEqual([null, null]);
    // a car downloads the first one: the platform's webhooks tell the hub
    await world.platform.download(first.body.activationCode, world.platform.profiles.get(first.body.iccid)!.eid);
    await waitFor(async () => (await world.profileStatus(token, first.body.iccid)).body.profiles?.[0]?.status === 'installed');

    const third = await world.requestCode(token, { replaceIccid: second.body.iccid });
    expect(third.status).toBe(200);
    expect(third.body.swappedIccid).toBe(second.body.iccid);
    expect(world.platform.profiles.get(second.body.iccid)?.profileState).toBe('DELETED');
    await waitFor(() => world.events('profileSwapped').some((e) => e.iccid === second.body.iccid && e.deletedOnPlatform === true));

    const fourth = await world.requestCode(token, { replaceIccid: first.body.iccid });
    expect(fourth.body.swappedIccid).toBe(first.body.iccid);
    // AID.02 4.3.1 2c: the CMP deletes it from its vehicle; 7.7.1 swappedIccid: "the profile which the MSP deactivated"
    expect(world.platform.profiles.get(first.body.iccid)?.profileState).toBe('DISABLED');
    await waitFor(() =>
      world.events('profileSwapped').some((e) => e.iccid === first.body.iccid && e.deletedOnPlatform === false && e.onPlatform === 'disabled'),
    );
    const listed = (await world.profileStatus(token)).body.profiles.map((p: { iccid: string }) => p.iccid).sort();
    expect(listed).toEqual([third.body.iccid, fourth.body.iccid].sort());
  });

  test('the block of a profile type used up: 422 code 49 ("422 No activation code can be created", AID.02 7.7), the platform not asked to create', async () => {
    expect((await world.requestCode(await world.onboard(), { profileType: 'business' })).status).toBe(200);
    const creates = world.platformCalls('POST', /^\/profiles$/).length;
    const answer = await world.requestCode(await world.onboard(), { profileType: 'business' });
    expect(answer.status).toBe(422);
    expect(answer.body).toEqual({ code: '49', error: expect.stringMatching(/^No activation code can be created/) });
    expect(world.platformCalls('POST', /^\/profiles$/)).toHaveLength(creates);
  });

  test('a device the platform finds incompatible: 422 code 49 ("422 No activation code can be created"), no profile made', async () => {
    const eid = newEid();
    const picky = await TelcoWorld.start({ simulator: { incompatibleEids: [eid] } });
    try {
      const answer = await picky.requestCode(await picky.onboard(), { eid });
      expect(answer.status).toBe(422);
      expect(answer.body.code).toBe('49');
      expect(picky.platformCalls('POST', /^\/profiles$/)).toHaveLength(0);
      expect(await picky.hub.metric('aid_gateway_telcoapi_calls_total', { function: 'checkCompatibility', outcome: 'ok' })).toBe(1);
    } finally {
      await picky.close();
    }
  });

  test.each([
    ['31 digits', '8904903200000100000000083193405'],
    ['wrong check digits (SGP.29)', '89049032000001000000000831934058'],
  ])('an EID of %s: 423 code 207 ("423 Invalid eid", AID.02 7.7), the platform not asked', async (_what, eid) => {
    const before = world.platform.calls.length;
    const answer = await world.requestCode(await world.onboard(), { eid });
    expect(answer.status).toBe(423);
    expect(answer.body).toEqual({ code: '207', error: expect.stringMatching(/^Invalid eid/) });
    expect(world.platform.calls.length).toBe(before);
  });

  test('a profile type the operator does not offer: 422 code 50 ("50 Profile type unknown", AID.02 5.5)', async () => {
    const answer = await world.requestCode(await world.onboard(), { profileType: 'premium' });
    expect(answer.status).toBe(422);
    expect(answer.body.code).toBe('50');
  });

  test('a retry (same activationCodeRequestID) gets the same code and creates no second profile', async () => {
    const token = await world.onboard();
    const id = randomUUID();
    const eid = newEid();
    const first = await world.requestCode(token, { activationCodeRequestID: id, eid });
    const again = await world.requestCode(token, { activationCodeRequestID: id, eid });
    expect(again.body).toEqual(first.body);
    expect(world.platformCalls('POST', /^\/profiles$/).filter((b) => b.eid === eid)).toHaveLength(1);
  });

  test("the platform's answer to Create Profile lost in flight: the retry finds the profile made and gets its code; no second profile", async () => {
    const token = await world.onboard();
    const id = randomUUID();
    const eid = newEid();
    world.platform.failNext(/^POST \/profiles$/, { kind: 'lostAnswer' });
    const lost = await world.requestCode(token, { activationCodeRequestID: id, eid });
    expect(lost.status).toBeGreaterThanOrEqual(500);
    const retried = await world.requestCode(token, { activationCodeRequestID: id, eid });
    expect(retried.status).toBe(200);
    const made = [...world.platform.profiles.values()].filter((p) => p.eid === eid);
    expect(made).toHaveLength(1);
    expect(retried.body).toMatchObject({ iccid: made[0].iccid, activationCode: made[0].activationCode });
  });
});

describe('the platform unreachable, slow or limiting', () => {
  test('down: 503 code 90 with Retry-After; then the breaker opens and the platform is not tried', async () => {
    const down = await TelcoWorld.start({ breaker: { volumeThreshold: 2, errorThresholdPercentage: 50, resetTimeoutMs: 60000 } });
    await down.platform.close();
    try {
      const token = await down.onboard();
      const answers = [];
      for (let i = 0; i < 3; i++) answers.push(await down.requestCode(token));
      for (const answer of answers) {
        expect(answer.status).toBe(503);
        expect(answer.body.code).toBe('90');
        expect(Number(answer.headers.get('retry-after'))).toBeGreaterThan(0);
      }
      expect(answers[0].body.error).toMatch(/^The MSP's eSIM platform or its SM-DP\+ cannot be reached/);
      expect(answers[2].body.error).toMatch(/^The target partner is failing/);
      expect(await down.hub.metric('aid_gateway_telcoapi_calls_total', { function: 'getDevice', outcome: 'breakerOpen' })).toBe(1);
    } finally {
      await down.close();
    }
  });

  test("its SM-DP+ away (NETWORK_ERROR): 503 code 90 with Retry-After (the platform's, else 1); a code the table does not name: 500 code 90", async () => {
    const token = await world.onboard();
    world.platform.failNext(/^POST \/profiles$/, { kind: 'error', status: 502, error: 'NETWORK_ERROR' });
    const away = await world.requestCode(token);
    expect([away.status, away.body.code, away.headers.get('retry-after')]).toEqual([503, '90', '1']);
    world.platform.failNext(/^POST \/profiles$/, { kind: 'error', status: 503, error: 'NETWORK_ERROR', retryAfter: 30 });
    const told = await world.requestCode(await world.onboard());
    expect([told.status, told.body.code, told.headers.get('retry-after')]).toEqual([503, '90', '30']);
    world.platform.failNext(/^POST \/profiles$/, { kind: 'error', status: 400, error: 'SOMETHING_NEW' });
    const unknown = await world.requestCode(await world.onboard());
    expect([unknown.status, unknown.body.code]).toEqual([500, '90']);
  });

  test("slower than the route's budget: 201 at once, then Send Activation Code with the platform's code, as for any MSP (AID.02 7.7.2)", async () => {
    const slow = await TelcoWorld.start({ routes: { routes: [{ from: '*', to: '*', timeoutMs: 1500 }] } });
    try {
      const token = await slow.onboard();
      const id = randomUUID();
      const eid = newEid();
      slow.platform.failNext(/^POST \/profiles$/, { kind: 'delay', ms: 2500 });
      const late = await slow.requestCode(token, { activationCodeRequestID: id, eid });
      expect(late.status).toBe(201);
      const sent = () => slow.cmp.received.find((r) => r.path === paths.submitActivationCode(token));
      await waitFor(() => sent() !== undefined);
      const made = [...slow.platform.profiles.values()].filter((p) => p.eid === eid);
      expect(made).toHaveLength(1);
      expect(sent()?.body).toMatchObject({
        activationCodeRequestID: id,
        activationCode: made[0].activationCode,
        iccid: made[0].iccid,
        profileType: 'personal',
      });
    } finally {
      await slow.close();
    }
  });

  test('429 RATE_LIMIT_EXCEEDED: the hub waits the Retry-After and tries again; the breaker never counts it', async () => {
    const limited = await TelcoWorld.start({ breaker: { volumeThreshold: 2, errorThresholdPercentage: 50, resetTimeoutMs: 60000 } });
    try {
      const token = await limited.onboard();
      limited.platform.failNext(/^POST \/profiles$/, { kind: 'error', status: 429, error: 'RATE_LIMIT_EXCEEDED', retryAfter: 1 });
      limited.platform.failNext(/^GET \/devices\/[0-9]+$/, { kind: 'error', status: 429, error: 'RATE_LIMIT_EXCEEDED', retryAfter: 1 });
      const waited = await limited.requestCode(token);
      expect(waited.status).toBe(200);
      // longer than the CMP's time allows: 503 with the platform's Retry-After
      for (let i = 0; i < 3; i++)
        limited.platform.failNext(/^GET \/devices\/[0-9]+$/, { kind: 'error', status: 429, error: 'RATE_LIMIT_EXCEEDED', retryAfter: 120 });
      const refused = [];
      for (let i = 0; i < 3; i++) refused.push(await limited.requestCode(await limited.onboard()));
      for (const answer of refused) {
        expect([answer.status, answer.body.code, answer.headers.get('retry-after')]).toEqual([503, '90', '120']);
      }
      expect((await limited.requestCode(token)).status).toBe(200);
      expect(await limited.hub.metric('aid_gateway_telcoapi_calls_total', { outcome: 'breakerOpen' })).toBe(0);
    } finally {
      await limited.close();
    }
  });

  test("the platform's per-endpoint limit is kept by the hub itself: no slot in time is 503 with Retry-After, the platform not asked", async () => {
    // the CMP's time (3 s, 6 s in the bridge) is far less than the next slot (30 s)
    const kept = await TelcoWorld.start({
      settings: { rateLimits: { profileCreation: { requests: 2, perSeconds: 60, burst: 2 } } },
      routes: { routes: [{ from: '*', to: '*', timeoutMs: 3000, bridgeTimeoutMs: 6000 }] },
    });
    try {
      const answers = [];
      for (let i = 0; i < 3; i++) answers.push(await kept.requestCode(await kept.onboard()));
      expect(answers.map((a) => a.status)).toEqual([200, 200, 503]);
      expect(answers[2].body.code).toBe('90');
      expect(Number(answers[2].headers.get('retry-after'))).toBeGreaterThan(0);
      expect(kept.platformCalls('POST', /^\/profiles$/)).toHaveLength(2);
    } finally {
      await kept.close();
    }
  });
});

describe("the platform's webhooks", () => {
  async function released(): Promise<{ token: string; iccid: string; code: string; eid: string }> {
    const token = await world.onboard();
    const eid = newEid();
    const answer = await world.requestCode(token, { eid });
    return { token, iccid: answer.body.iccid, code: answer.body.activationCode, eid };
  }

  test('signed right: DOWNLOADED, INSTALLED, ENABLED, DISABLED move the profile; Request Profile Status answers from it', async () => {
    const { token, iccid, code, eid } = await released();
    expect((await world.profileStatus(token, iccid)).body).toEqual({ profiles: [{ iccid, status: 'prepared' }] });
    expect(await world.platform.download(code, eid)).toEqual([200, 200]);
    expect((await world.profileStatus(token, iccid)).body.profiles[0].status).toBe('installed');
    expect((await world.platform.sendEvent('PROFILE_ENABLED', iccid)).status).toBe(200);
    expect((await world.profileStatus(token, iccid)).body.profiles[0].status).toBe('enabled');
    expect((await world.platform.sendEvent('PROFILE_DISABLED', iccid)).status).toBe(200);
    expect((await world.profileStatus(token, iccid)).body.profiles[0].status).toBe('disabled');
    // never back from what the vehicle reported to what the download reported
    expect((await world.platform.sendEvent('PROFILE_DOWNLOADED', iccid)).status).toBe(200);
    expect((await world.profileStatus(token, iccid)).body.profiles[0].status).toBe('disabled');
    await waitFor(() => world.events('profileStatus').some((e) => e.iccid === iccid && e.platformEvent === 'PROFILE_DISABLED'));
  });

  test('DELETED frees the slot', async () => {
    const { token, iccid } = await released();
    await world.requestCode(token);
    expect((await world.platform.sendEvent('PROFILE_DELETED', iccid)).status).toBe(200);
    expect((await world.requestCode(token)).body.swappedIccid).toBeNull();
  });

  test('a wrong secret: 401 and nothing changes', async () => {
    const { token, iccid } = await released();
    const answer = await world.platform.sendEvent('PROFILE_INSTALLED', iccid, { secret: 'not-the-operators-secret' });
    expect(answer.status).toBe(401);
    expect(answer.body).toMatchObject({ error: 'AUTHENTICATION_FAILED' });
    expect((await world.profileStatus(token, iccid)).body.profiles[0].status).toBe('prepared');
    expect(await world.hub.metric('aid_gateway_telcoapi_webhooks_total', { outcome: 'bad_signature' })).toBeGreaterThan(0);
  });

  test('out of the time window (signed 10 minutes ago): 401 and nothing changes', async () => {
    const { token, iccid } = await released();
    const answer = await world.platform.sendEvent('PROFILE_INSTALLED', iccid, { unixSeconds: Math.floor(Date.now() / 1000) - 600 });
    expect(answer.status).toBe(401);
    expect((await world.profileStatus(token, iccid)).body.profiles[0].status).toBe('prepared');
  });

  test('the same event sent twice: 200 both times, acted on once', async () => {
    const { iccid } = await released();
    const eventId = randomUUID();
    const first = await world.platform.sendEvent('PROFILE_INSTALLED', iccid, { eventId });
    const told = () => world.events('profileStatus').filter((e) => e.iccid === iccid).length;
    await waitFor(() => told() === 1);
    const raw = first.sent;
    const again = await world.platform.sendEvent('PROFILE_INSTALLED', iccid, { raw });
    expect([first.status, again.status]).toEqual([200, 200]);
    expect(again.body).toMatchObject({ duplicate: true });
    expect(await world.hub.metric('aid_gateway_telcoapi_webhooks_total', { outcome: 'replayed' })).toBeGreaterThan(0);
    expect(told()).toBe(1);
  });

  test('a body changed after signing: 401', async () => {
    const { iccid } = await released();
    const signed = await world.platform.sendEvent('PROFILE_ENABLED', iccid);
    expect(signed.status).toBe(200);
    const tampered = await world.hub.call({
      as: 'opt',
      method: 'POST',
      path: '/telcoapi/opt/events',
      raw: signed.sent.replace('PROFILE_ENABLED', 'PROFILE_DELETED'),
      headers: { 'x-telcoapi-signature': `t=${Math.floor(Date.now() / 1000)},v1=${'0'.repeat(64)}` },
    });
    expect(tampered.status).toBe(401);
  });

  test('an unknown partner, a wrong method, a profile the hub did not make', async () => {
    const other = await world.hub.call({ as: 'opt', method: 'POST', path: '/telcoapi/nobody/events', raw: '{}' });
    expect(other.status).toBe(401);
    const get = await world.hub.call({ as: 'opt', method: 'GET', path: '/telcoapi/opt/events' });
    expect([get.status, get.headers.get('allow')]).toEqual([405, 'POST']);
    const unknown = await world.platform.sendEvent('PROFILE_INSTALLED', '8949010000009999999');
    expect(unknown.status).toBe(200);
  });

  test('a secret rotated: both secrets are taken while both are configured', async () => {
    const rotating = await TelcoWorld.start({ settings: { webhookSecrets: [NEXT_SECRET, SECRET] } });
    try {
      const token = await rotating.onboard();
      const one = await rotating.requestCode(token);
      const two = await rotating.requestCode(token);
      expect((await rotating.platform.sendEvent('PROFILE_INSTALLED', one.body.iccid, { secret: SECRET })).status).toBe(200);
      expect((await rotating.platform.sendEvent('PROFILE_INSTALLED', two.body.iccid, { secret: NEXT_SECRET })).status).toBe(200);
      expect((await rotating.platform.sendEvent('PROFILE_ENABLED', two.body.iccid, { secret: 'a-third-secret-0123456789' })).status).toBe(401);
      expect((await rotating.profileStatus(token)).body.profiles.map((p: { status: string }) => p.status)).toEqual(['installed', 'installed']);
    } finally {
      await rotating.close();
    }
  });
});

describe('Send CSIM Status', () => {
  test('deleted frees a slot: the next request needs no swap', async () => {
    const token = await world.onboard();
    const first = await world.requestCode(token);
    await world.requestCode(token);
    expect((await world.csimStatus(token, first.body.iccid, 'deleted')).status).toBe(201);
    const third = await world.requestCode(token);
    expect(third.body.swappedIccid).toBeNull();
  });
});

describe('withdraw onboarding', () => {
  test('from the CMP: profiles not yet downloaded are deleted on the platform at once, those on vehicles disabled ("The MSP must deactivate all profiles immediately", AID.02 7.9); the back office is told', async () => {
    const token = await world.onboard();
    const installed = await world.requestCode(token);
    await world.platform.download(installed.body.activationCode, world.platform.profiles.get(installed.body.iccid)!.eid);
    const waiting = await world.requestCode(token);
    expect((await world.invalidate(token)).status).toBe(204);
    expect(world.platform.profiles.get(waiting.body.iccid)?.profileState).toBe('DELETED');
    expect(world.platform.profiles.get(installed.body.iccid)?.profileState).toBe('DISABLED');
    await waitFor(() =>
      world.events('tokenInvalidated').some((e) => e.mspToken === token && JSON.stringify(e.deactivate) === JSON.stringify([installed.body.iccid])),
    );
    expect(world.events('tokenInvalidated').find((e) => e.mspToken === token)?.deactivated).toEqual({ [installed.body.iccid]: 'disabled' });
    const refused = await world.requestCode(token);
    expect([refused.status, refused.body.code]).toEqual([404, '21']);
  });

  test('from the operator: Notify MSP Token Invalid reaches the CMP; no new code afterwards', async () => {
    const token = await world.onboard();
    await world.requestCode(token);
    const answer = await world.hub.call({ as: 'opt', to: 'cmpA', method: 'POST', path: paths.notifyMspTokenInvalid(token), body: notifyMspTokenInvalidBody() });
    expect(answer.status).toBe(204);
    expect(world.cmp.received.some((r) => r.path === paths.notifyMspTokenInvalid(token))).toBe(true);
    expect((await world.requestCode(token)).body.code).toBe('21');
  });
});

describe('two hub instances on one Redis', () => {
  test('one operator: one subscription, one ICCID block, one retry answer, one webhook replay memory', async () => {
    const first = await TelcoWorld.start({ profilesPerSubscription: 1 });
    const second = await TelcoWorld.start({ profilesPerSubscription: 1 }, first);
    try {
      const token = await first.onboard();
      const [a, b] = await Promise.all([first.requestCode(token), second.requestCode(token)]);
      expect([a.status, b.status]).toEqual([200, 200]);
      expect(a.body.iccid).not.toBe(b.body.iccid);
      expect([a.body.swappedIccid, b.body.swappedIccid].filter((s) => s !== null)).toHaveLength(1);
      const id = randomUUID();
      const eid = newEid();
      const other = await first.onboard();
      const viaFirst = await first.requestCode(other, { activationCodeRequestID: id, eid });
      expect(viaFirst.status).toBe(200);
      const live = (await first.profileStatus(token)).body.profiles[0].iccid as string;
      const event = await first.platform.sendEvent('PROFILE_INSTALLED', live);
      expect((await second.profileStatus(token, live)).body.profiles[0].status).toBe('installed');
      // the same event (its eventId) sent again, to the other instance
      first.platform.webhookTo(`${second.hub.url}/telcoapi/opt/events`, SECRET);
      const again = await first.platform.sendEvent('PROFILE_INSTALLED', live, { raw: event.sent });
      expect([again.status, (again.body as { duplicate?: boolean }).duplicate]).toEqual([200, true]);
      // the retry of a request answered by one instance is answered the same by the other
      const viaSecond = await second.requestCode(other, { activationCodeRequestID: id, eid });
      expect(viaSecond.body).toEqual(viaFirst.body);
      expect([...first.platform.profiles.values()].filter((p) => p.eid === eid)).toHaveLength(1);
    } finally {
      await second.close();
      await first.close();
    }
  });
});

// DESIGN.md "Data that must not leak" (activationCode, api-key, authorization, account ids, EIDs),
// and the ICCIDs, msp_tokens and MatchingIDs, in every spelling the platform or the hub writes them
test('no ICCID, EID, msp_token, activation code, MatchingID or secret of any of the above reaches a log line', () => {
  const secrets = new ProtectedValues();
  for (const key of [SECRET, NEXT_SECRET, TOKEN, 'key-cmpA', 'key-cmpB', 'key-opt', ACCOUNT_ID]) secrets.add(key);
  for (const profile of world.platform.profiles.values()) secrets.add(profile.iccid).add(profile.eid).add(profile.activationCode);
  for (const call of world.platform.calls) secrets.addFrom(call.body).addFrom(call.headers);
  for (const partner of [world.cmp, world.cmpB, world.backOffice]) {
    for (const r of partner.received) secrets.addFrom(r.body).addFrom(r.headers);
  }
  // every kind was exchanged, so every kind was looked for
  expect(secrets.count(/^\d{19}$/)).toBeGreaterThan(10);
  expect(secrets.count(/^1\$/)).toBeGreaterThan(10);
  expect(secrets.values.size).toBeGreaterThan(40);
  expect(secrets.loggedIn(world.hub.logs)).toEqual([]);
});
