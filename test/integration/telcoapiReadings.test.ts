/**
 * The TelcoAPI seed read every plausible way: where it allows two readings, the simulated platform
 * plays each (its `readings`), and the hub must serve a platform built to either. Each test names the
 * seed's (or AID.02's) sentence behind it. Real Redis, real HTTP servers on 127.0.0.1.
 */
import { createClient } from 'redis';
import { randomUUID } from 'node:crypto';
import { parseActivationCode } from '../../src/esim/activationCode';
import { withLuhn } from '../../src/dialects/telcoapi/operator';
import type { Readings } from '../../src/dialects/telcoapi/simulator';
import { newEid } from '../support/es2World';
import { REDIS_URL } from '../support/redis';
import { SMDP, TelcoWorld, TOKEN, type TelcoWorldOptions } from '../support/telcoWorld';
import { waitFor } from '../support/waitFor';

jest.setTimeout(30000);

/** AID.02 7.7.1: "The synchronous response mode is only allowed if the activation code [...] can be
 * returned within 3 seconds": beyond the budget the hub bridges (201) */
const SYNC_BUDGET = { routes: [{ from: '*', to: '*', timeoutMs: 3000 }] };

async function inWorld(readings: Readings, run: (world: TelcoWorld) => Promise<void>, options: TelcoWorldOptions = {}): Promise<void> {
  const world = await TelcoWorld.start({ ...options, simulator: { ...options.simulator, readings } });
  try {
    await run(world);
  } finally {
    await world.close();
  }
}

/** the operator's own back office makes a profile on its platform (seed: Create Profile) */
async function operatorMakes(world: TelcoWorld, iccid: string, eid: string, mno = 'MNO-TEST', profileType = 'OPERATIONAL'): Promise<number> {
  const made = await fetch(`${world.platform.url}/api/v1/esim/profiles`, {
    method: 'POST',
    headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
    body: JSON.stringify({ iccid, eid, profileType, mno, metadata: { name: 'batch', description: 'made by the operator', policies: [], features: [] } }),
  });
  return made.status;
}

/** the operator's own back office deletes a profile on its platform (seed: DELETE /api/v1/esim/profiles/{iccid}) */
async function operatorDeletes(world: TelcoWorld, iccid: string): Promise<number> {
  const deleted = await fetch(`${world.platform.url}/api/v1/esim/profiles/${iccid}`, { method: 'DELETE', headers: { authorization: `Bearer ${TOKEN}` } });
  return deleted.status;
}

/** log lines at error level or above */
function errorLines(world: TelcoWorld): Record<string, unknown>[] {
  return world.hub.logLines().filter((l) => Number(l.level) >= 50);
}

describe('seed: the event payload\'s `"signature": string // HMAC signature of the payload`', () => {
  test.each([
    ['hex', 'compactJson'],
    ['base64', 'compactJson'],
    ['hex', 'sentBytes'],
    ['base64', 'sentBytes'],
  ] as const)('in the body, %s, over %s: the events are taken and move the profile', async (signatureEncoding, signedOver) => {
    await inWorld({ signatureIn: 'body', signatureEncoding, signedOver }, async (world) => {
      const token = await world.onboard();
      const eid = newEid();
      const answer = await world.requestCode(token, { eid });
      expect(await world.platform.download(answer.body.activationCode, eid)).toEqual([200, 200]);
      expect((await world.profileStatus(token, answer.body.iccid)).body.profiles[0].status).toBe('installed');
      expect(await world.hub.metric('aid_gateway_telcoapi_webhooks_total', { outcome: 'applied' })).toBe(2);
    });
  });

  test('in the body: another secret, a `timestamp` out of the window, a member changed after signing: 401, nothing changes; the same event again: acted on once', async () => {
    await inWorld({ signatureIn: 'body' }, async (world) => {
      const token = await world.onboard();
      const { iccid } = (await world.requestCode(token)).body;
      const wrong = await world.platform.sendEvent('PROFILE_INSTALLED', iccid, { secret: 'not-the-operators-secret' });
      const stale = await world.platform.sendEvent('PROFILE_INSTALLED', iccid, { unixSeconds: Math.floor(Date.now() / 1000) - 600 });
      const signed = await world.platform.sendEvent('PROFILE_DOWNLOADED', iccid);
      const changed = await world.platform.sendEvent('PROFILE_DELETED', iccid, { raw: signed.sent.replace('PROFILE_DOWNLOADED', 'PROFILE_DELETED') });
      expect([wrong.status, stale.status, signed.status, changed.status]).toEqual([401, 401, 200, 401]);
      expect(wrong.body).toMatchObject({ error: 'AUTHENTICATION_FAILED' });
      const again = await world.platform.sendEvent('PROFILE_DOWNLOADED', iccid, { raw: signed.sent });
      expect([again.status, (again.body as { duplicate?: boolean }).duplicate]).toEqual([200, true]);
      expect((await world.profileStatus(token, iccid)).body.profiles[0].status).toBe('prepared');
      await waitFor(() => world.events('profileStatus').some((e) => e.iccid === iccid));
      expect(world.events('profileStatus').filter((e) => e.iccid === iccid)).toHaveLength(1);
    });
  });

  test.each([
    ['header', { signatureIn: 'body' }],
    ['body', { signatureIn: 'header' }],
  ] as const)('an operator that pins the signature to the %s: a platform signing elsewhere is refused 401', async (pinned, readings) => {
    await inWorld(
      readings,
      async (world) => {
        const { iccid } = (await world.requestCode(await world.onboard())).body;
        expect((await world.platform.sendEvent('PROFILE_INSTALLED', iccid)).status).toBe(401);
        expect(await world.hub.metric('aid_gateway_telcoapi_webhooks_total', { outcome: 'bad_signature' })).toBe(1);
      },
      { settings: { webhookSignature: pinned } },
    );
  });
});

describe("the seed does not say when a platform sends the event of the hub's own call", () => {
  test.each(['beforeAnswer', 'afterAnswer'] as const)(
    'sent %s: a swap is answered 200 in time (AID.02 7.7.1), the webhook at once, and PROFILE_DELETED applied; no error logged',
    async (callEvents) => {
      await inWorld(
        { callEvents },
        async (world) => {
          const token = await world.onboard();
          const first = await world.requestCode(token);
          await world.requestCode(token);
          const third = await world.requestCode(token, { replaceIccid: first.body.iccid });
          expect([third.status, third.body.swappedIccid]).toEqual([200, first.body.iccid]);
          expect(world.platform.profiles.get(first.body.iccid)?.profileState).toBe('DELETED');
          await waitFor(() => world.platform.eventStatuses.length === 1);
          expect(world.platform.eventStatuses).toEqual([200]);
          await waitFor(() => world.events('profileStatus').some((e) => e.iccid === first.body.iccid && e.platformEvent === 'PROFILE_DELETED'));
          // the hub's own DELETE confirmed: expected, not an error
          expect(errorLines(world)).toEqual([]);
        },
        { routes: SYNC_BUDGET },
      );
    },
  );

  test('sent before the answer: invalidating two prepared profiles deletes both, every event answered 200 and applied', async () => {
    await inWorld(
      { callEvents: 'beforeAnswer' },
      async (world) => {
        const token = await world.onboard();
        const codes = [await world.requestCode(token), await world.requestCode(token)];
        expect((await world.invalidate(token)).status).toBe(204);
        for (const code of codes) expect(world.platform.profiles.get(code.body.iccid)?.profileState).toBe('DELETED');
        expect(world.platform.eventStatuses).toEqual([200, 200]);
        // each DELETE answered in time, none asked again after a timeout
        expect(world.platformCalls('DELETE', /^\/profiles\//)).toHaveLength(2);
        expect(await world.hub.metric('aid_gateway_telcoapi_calls_total', { function: 'deleteProfile', outcome: 'ok' })).toBe(2);
        await waitFor(() => world.events('profileStatus').filter((e) => e.platformEvent === 'PROFILE_DELETED').length === 2);
        expect(errorLines(world)).toEqual([]);
      },
      { routes: SYNC_BUDGET },
    );
  });

  test("an event that arrives while the subscription's holder died: answered 200 at once, applied by the worker once the lock expires", async () => {
    await inWorld({}, async (world) => {
      const token = await world.onboard();
      const { iccid } = (await world.requestCode(token)).body;
      const redis = createClient({ url: REDIS_URL });
      await redis.connect();
      try {
        // a hub instance that took the subscription's lock and died: no one lets it go
        await redis.set(`${world.hub.keyPrefix}lock:opt subscription ${token}`, 'a hub that died', { PX: 1500 });
        const answer = await world.platform.sendEvent('PROFILE_INSTALLED', iccid);
        expect(answer.status).toBe(200);
        expect(await world.hub.metric('aid_gateway_telcoapi_webhooks_total', { outcome: 'pending' })).toBe(1);
        expect((await world.profileStatus(token, iccid)).body.profiles[0].status).toBe('prepared');
        await waitFor(async () => (await world.profileStatus(token, iccid)).body.profiles[0].status === 'installed');
      } finally {
        await redis.close();
      }
    });
  });
});

describe('AID.02 7.9: "The MSP must deactivate all profiles immediately after receiving Request invalidate MSP token"', () => {
  test.each([
    ['disable (the default)', undefined, 'DISABLED', 'disabled', /^POST \/profiles\/\d+\/disable$/],
    ['delete', 'delete', 'DELETED', 'deleted', /^DELETE \/profiles\/\d+$/],
  ] as const)(
    'onInvalidate %s: every profile on a vehicle is deactivated on the platform and reported; the back office still hears tokenInvalidated',
    async (_what, onInvalidate, platformState, reported, call) => {
      await inWorld(
        {},
        async (world) => {
          const token = await world.onboard();
          const installed = await world.requestCode(token);
          await world.platform.download(installed.body.activationCode, world.platform.profiles.get(installed.body.iccid)!.eid);
          const enabled = await world.requestCode(token);
          await world.platform.download(enabled.body.activationCode, world.platform.profiles.get(enabled.body.iccid)!.eid);
          await world.platform.sendEvent('PROFILE_ENABLED', enabled.body.iccid);
          const before = world.platform.calls.length;
          expect((await world.invalidate(token)).status).toBe(204);
          for (const { body } of [installed, enabled]) expect(world.platform.profiles.get(body.iccid)?.profileState).toBe(platformState);
          expect(world.platform.calls.slice(before).filter((c) => call.test(`${c.method} ${c.path}`))).toHaveLength(2);
          const both = [installed.body.iccid, enabled.body.iccid];
          await waitFor(() => world.events('tokenInvalidated').some((e) => e.mspToken === token));
          const told = world.events('tokenInvalidated').find((e) => e.mspToken === token);
          expect(told).toMatchObject({ deactivate: expect.arrayContaining(both), deactivated: { [both[0]]: reported, [both[1]]: reported } });
        },
        { settings: onInvalidate ? { onInvalidate } : {} },
      );
    },
  );

  test("the platform away while disabling (through the hub's own retries): 503 code 90; the CMP retries and the profile is disabled then", async () => {
    await inWorld({}, async (world) => {
      const token = await world.onboard();
      const installed = await world.requestCode(token);
      await world.platform.download(installed.body.activationCode, world.platform.profiles.get(installed.body.iccid)!.eid);
      for (let i = 0; i < 3; i++) world.platform.failNext(/^POST \/profiles\/\d+\/disable$/, { kind: 'error', status: 503, error: 'NETWORK_ERROR' });
      const away = await world.invalidate(token);
      expect([away.status, away.body.code]).toEqual([503, '90']);
      expect(world.platform.profiles.get(installed.body.iccid)?.profileState).toBe('INSTALLED');
      expect((await world.invalidate(token)).status).toBe(204);
      expect(world.platform.profiles.get(installed.body.iccid)?.profileState).toBe('DISABLED');
    });
  });
});

describe('seed: GET /devices/{eid}/compatibility?profileType= (API Reference) and POST /devices/{eid}/check-compatibility (endpoint list)', () => {
  test.each([
    ['only POST, the hub asking GET first', 'post', undefined, ['GET', 'POST'], ['POST']],
    ['only GET, the hub asking POST first', 'get', 'post', ['POST', 'GET'], ['GET']],
    ['both, the hub asking POST first', 'both', 'post', ['POST'], ['POST']],
  ] as const)(
    'a platform with %s: the code is handed out, and the form that answered is asked first next time',
    async (_what, compatibility, first, calls, next) => {
      await inWorld(
        { compatibility },
        async (world) => {
          const asked = () => world.platform.calls.filter((c) => /compatibility/.test(c.path)).map((c) => c.method);
          expect((await world.requestCode(await world.onboard())).status).toBe(200);
          expect(asked()).toEqual(calls);
          expect((await world.requestCode(await world.onboard())).status).toBe(200);
          expect(asked().slice(calls.length)).toEqual(next);
          const post = world.platform.calls.find((c) => c.method === 'POST' && /check-compatibility$/.test(c.path));
          if (post) expect(post.body).toEqual({ profileType: 'OPERATIONAL' });
        },
        { settings: first ? { compatibility: first } : {} },
      );
    },
  );

  test('the form asked first answered 405: the other one is asked, never a 500', async () => {
    await inWorld({}, async (world) => {
      world.platform.failNext(/^GET \/devices\/\d+\/compatibility$/, { kind: 'error', status: 405, error: 'METHOD_NOT_ALLOWED' });
      expect((await world.requestCode(await world.onboard())).status).toBe(200);
      expect(world.platform.calls.filter((c) => /compatibility/.test(c.path)).map((c) => c.method)).toEqual(['GET', 'POST']);
    });
  });

  test('POST check-compatibility says not compatible: 422 code 49 ("422 No activation code can be created"), no profile made', async () => {
    const eid = newEid();
    await inWorld(
      { compatibility: 'post' },
      async (world) => {
        const answer = await world.requestCode(await world.onboard(), { eid });
        expect([answer.status, answer.body.code]).toEqual([422, '49']);
        expect(world.platformCalls('POST', /^\/profiles$/)).toHaveLength(0);
      },
      { simulator: { incompatibleEids: [eid] } },
    );
  });
});

test.each(['array', 'object'] as const)(
  "seed getAvailableProfiles(eid): Promise<ESimProfile[]> answered as %s: the operator's waiting profile for the device is taken",
  async (profileList) => {
    await inWorld({ profileList }, async (world) => {
      const eid = newEid();
      const iccid = '8949099000000000037';
      expect(await operatorMakes(world, iccid, eid)).toBe(200);
      const answer = await world.requestCode(await world.onboard(), { eid });
      expect([answer.status, answer.body.iccid]).toEqual([200, iccid]);
    });
  },
);

test('an activation code in the QR form (`LPA:1$…`): the CMP gets SGP.22\'s `1$…` (AID.02 7.7.1 activationCode "1$VR-01-43-…")', async () => {
  await inWorld({ lpaPrefix: true }, async (world) => {
    const eid = newEid();
    const answer = await world.requestCode(await world.onboard(), { eid });
    expect(answer.status).toBe(200);
    expect(answer.body.activationCode).toMatch(/^1\$/);
    expect(parseActivationCode(answer.body.activationCode).smdpAddress).toBe(SMDP);
    expect(world.platform.profiles.get(answer.body.iccid)?.activationCode).toBe(`LPA:${answer.body.activationCode}`);
    // generated on its own (a profile the operator made for the device): the same
    const iccid = '8949099000000000029';
    expect(await operatorMakes(world, iccid, eid)).toBe(200);
    const waiting = await world.requestCode(await world.onboard(), { eid });
    expect([waiting.body.iccid, waiting.body.activationCode]).toEqual([iccid, world.platform.profiles.get(iccid)?.activationCode.replace(/^LPA:/, '')]);
  });
});

describe('seed: Create Profile\'s "Error Response 400 Bad Request" with `details.field: "iccid"` for an ICCID that exists', () => {
  test.each([409, 400] as const)(
    "answered %i: the answer lost in flight, the retry looks the ICCID up and gets this request's profile; no second profile",
    async (existingIccid) => {
      await inWorld({ existingIccid }, async (world) => {
        const token = await world.onboard();
        const id = randomUUID();
        const eid = newEid();
        world.platform.failNext(/^POST \/profiles$/, { kind: 'lostAnswer' });
        expect((await world.requestCode(token, { activationCodeRequestID: id, eid })).status).toBeGreaterThanOrEqual(500);
        const retried = await world.requestCode(token, { activationCodeRequestID: id, eid });
        expect(retried.status).toBe(200);
        const made = [...world.platform.profiles.values()].filter((p) => p.eid === eid);
        expect(made).toHaveLength(1);
        expect(retried.body).toMatchObject({ iccid: made[0].iccid, activationCode: made[0].activationCode });
        expect(world.platformCalls('GET', new RegExp(`^/profiles/${made[0].iccid}$`))).toHaveLength(1);
      });
    },
  );

  test.each([409, 400] as const)("answered %i for an ICCID of someone else's profile: the next ICCID of the block is taken", async (existingIccid) => {
    await inWorld({ existingIccid }, async (world) => {
      // the operator used the block's first ICCID on its platform itself, for another device
      const taken = withLuhn('894901000000000000');
      expect(await operatorMakes(world, taken, newEid(), 'ANOTHER-MNO')).toBe(200);
      const answer = await world.requestCode(await world.onboard());
      expect([answer.status, answer.body.iccid]).toEqual([200, withLuhn('894901000000000001')]);
    });
  });

  test('a 400 about an ICCID the platform does not have stands: 500 code 90, no other ICCID tried', async () => {
    await inWorld({}, async (world) => {
      world.platform.failNext(/^POST \/profiles$/, { kind: 'error', status: 400, error: 'INVALID_REQUEST' });
      const answer = await world.requestCode(await world.onboard());
      expect([answer.status, answer.body.code]).toEqual([500, '90']);
      expect(world.platformCalls('POST', /^\/profiles$/)).toHaveLength(1);
    });
  });
});

test('seed AUTHENTICATION_FAILED ("Failed to authenticate with SM-DP+") whose message quotes the refused bearer token: the CMP gets 503 code 90 with Retry-After (the MSP\'s platform unavailable), the log the code, never the token', async () => {
  await inWorld(
    { echoCredential: true },
    async (world) => {
      const answer = await world.requestCode(await world.onboard());
      expect([answer.status, answer.body.code, answer.headers.get('retry-after')]).toEqual([503, '90', '1']);
      const refused = world.hub.logLines().find((l) => l.msg === 'the platform refused');
      expect(refused).toMatchObject({ code: 'AUTHENTICATION_FAILED', message: expect.stringContaining('Bearer [secret]') });
      expect(world.hub.logs.join('\n')).not.toContain(TOKEN);
    },
    { simulator: { token: 'the-platforms-real-token' } },
  );
});

describe('seed: "Configure webhooks to receive real-time updates about profile and device events", data `{iccid, eid, status}`', () => {
  test("DEVICE_REGISTERED with `data.iccid: null`, signed in the payload: answered 200 and ignored; the profile's events after it taken; a car not registered yet is no warning", async () => {
    await inWorld({ deviceEvents: true, signatureIn: 'body' }, async (world) => {
      const token = await world.onboard();
      const eid = newEid();
      const answer = await world.requestCode(token, { eid });
      expect(answer.status).toBe(200);
      await waitFor(() => world.platform.eventStatuses.length === 1);
      expect(world.platform.eventStatuses).toEqual([200]);
      expect(await world.hub.metric('aid_gateway_telcoapi_webhooks_total', { outcome: 'ignored' })).toBe(1);
      expect(await world.platform.download(answer.body.activationCode, eid)).toEqual([200, 200]);
      expect((await world.profileStatus(token, answer.body.iccid)).body.profiles[0].status).toBe('installed');
      // GET /devices/{eid} 404 on a car's first visit is the usual path, not a refusal worth a warning
      expect(world.hub.logLines().filter((l) => Number(l.level) >= 40 && l.msg === 'the platform refused')).toEqual([]);
    });
  });
});

describe('the seed does not say what a deleted profile answers: 404 PROFILE_NOT_FOUND, or readable as DELETED and DELETE refused 409 OPERATION_NOT_PERMITTED', () => {
  test.each([404, 409] as const)(
    "%i: a prepared profile the operator deleted on the platform behind the hub's back is deleted for Request Invalidate MSP Token (AID.02 7.9), none left to deactivate",
    async (deletedProfile) => {
      await inWorld({ deletedProfile }, async (world) => {
        const token = await world.onboard();
        const { iccid } = (await world.requestCode(token)).body;
        expect(await operatorDeletes(world, iccid)).toBe(204);
        expect((await world.invalidate(token)).status).toBe(204);
        await waitFor(() => world.events('tokenInvalidated').some((e) => e.mspToken === token));
        expect(world.events('tokenInvalidated').find((e) => e.mspToken === token)).toMatchObject({ deactivate: [] });
      });
    },
  );

  test("409: the operator deletes the profile while the hub's DELETE is on its way: the 409 read as DELETED is done, not a refusal", async () => {
    await inWorld({ deletedProfile: 409 }, async (world) => {
      const token = await world.onboard();
      const { iccid } = (await world.requestCode(token)).body;
      world.platform.failNext(/^DELETE \/profiles\/\d+$/, { kind: 'delay', ms: 1000 });
      const invalidating = world.invalidate(token);
      await waitFor(() => world.platformCalls('DELETE', /^\/profiles\/\d+$/).length === 1);
      expect(await operatorDeletes(world, iccid)).toBe(204);
      expect((await invalidating).status).toBe(204);
      await waitFor(() => world.events('tokenInvalidated').some((e) => e.mspToken === token));
      expect(world.events('tokenInvalidated').find((e) => e.mspToken === token)).toMatchObject({ deactivate: [] });
    });
  });
});

describe('AID.02 7.7.1 swappedIccid: "the profile which the MSP deactivated" (4.3.1: the CMP deletes it from the vehicle)', () => {
  test.each([
    ["the hub's record lagging (no event reached it)", false],
    ["the hub told by the platform's events", true],
  ])('a swapped profile ENABLED on a car, %s: disabled on the platform, never deleted from under the car; the operator hears it', async (_what, told) => {
    await inWorld({}, async (world) => {
      const token = await world.onboard();
      const first = await world.requestCode(token);
      await world.requestCode(token);
      const onCar = world.platform.profiles.get(first.body.iccid)!;
      if (told) await world.platform.sendEvent('PROFILE_ENABLED', first.body.iccid);
      else onCar.profileState = 'ENABLED';
      const third = await world.requestCode(token, { replaceIccid: first.body.iccid });
      expect([third.status, third.body.swappedIccid]).toEqual([200, first.body.iccid]);
      expect(onCar.profileState).toBe('DISABLED');
      expect(world.platformCalls('DELETE', new RegExp(`^/profiles/${first.body.iccid}$`))).toHaveLength(0);
      await waitFor(() => world.events('profileSwapped').some((e) => e.iccid === first.body.iccid));
      expect(world.events('profileSwapped').find((e) => e.iccid === first.body.iccid)).toMatchObject({ deletedOnPlatform: false, onPlatform: 'disabled' });
    });
  });
});

test.each([
  ['another MNO', 'ANOTHER-MNO', 'OPERATIONAL'],
  ['another profile type', 'MNO-TEST', 'TESTING'],
])(
  "Create Profile refused for an ICCID the platform has for the SAME EID but %s: someone else's, not handed to the CMP; the next ICCID of the block is taken",
  async (_what, mno, profileType) => {
    await inWorld({}, async (world) => {
      const eid = newEid();
      const taken = withLuhn('894901000000000000');
      expect(await operatorMakes(world, taken, eid, mno, profileType)).toBe(200);
      const answer = await world.requestCode(await world.onboard(), { eid });
      expect([answer.status, answer.body.iccid]).toEqual([200, withLuhn('894901000000000001')]);
    });
  },
);

test('a platform whose address is locked out by failed logins (a CMP behind the same address, bad signatures): an event with a valid signature is still taken', async () => {
  await inWorld(
    { signatureIn: 'body' },
    async (world) => {
      const { iccid } = (await world.requestCode(await world.onboard())).body;
      const wrong = [];
      for (let i = 0; i < 4; i++) wrong.push((await world.platform.sendEvent('PROFILE_INSTALLED', iccid, { secret: 'not-the-operators-secret' })).status);
      expect(wrong).toEqual([401, 401, 401, 429]);
      expect((await world.platform.sendEvent('PROFILE_INSTALLED', iccid)).status).toBe(200);
      // the CMP calls from the same locked-out address: the back office hears the move instead
      await waitFor(() => world.events('profileStatus').some((e) => e.iccid === iccid && e.platformEvent === 'PROFILE_INSTALLED'));
      expect(await world.hub.metric('aid_gateway_telcoapi_webhooks_total', { outcome: 'applied' })).toBe(1);
    },
    {
      routes: {
        settings: { authFailuresPerAddress: 3, authFailuresPerClient: 5, authFailureWindowSeconds: 60 },
        routes: [{ from: '*', to: '*', timeoutMs: 20000 }],
      },
    },
  );
});
