/**
 * The ES2+ dialect end to end: a CMP talks AID.02 to the hub, the hub plays the MSP and drives a
 * simulated SM-DP+ over mutual TLS, the SM-DP+ reports download progress back, the operator's back
 * office hears what happened. Real Redis, real HTTP(S) servers on 127.0.0.1.
 */
import { randomUUID } from 'node:crypto';
import { parseActivationCode } from '../../src/esim/activationCode';
import { PROGRESS_CALLBACK_PATH } from '../../src/dialects/es2plus/progressCallback';
import { createPki } from '../support/certs';
import { CALLBACK_KEY, Es2World, newEid, SMDP_ADDRESS } from '../support/es2World';
import { ACCOUNT_ID, paths, notifyMspTokenInvalidBody } from '../support/messages';
import { freePort } from '../support/ports';
import { ProtectedValues } from '../support/protectedValues';
import { request } from '../support/testHub';
import { waitFor } from '../support/waitFor';

jest.setTimeout(30000);

// one test CA for every world of this file: certificates are made once, not per world
const pki = createPki();
let world: Es2World;
beforeAll(async () => {
  world = await Es2World.start({ pki });
});
afterAll(() => world.close());

const events = (event: string) => world.events().filter((e) => e.event === event);

describe('Request Activation Code', () => {
  test('first vehicle: DownloadOrder and ConfirmOrder over mutual TLS, the code built from the MatchingID', async () => {
    const token = await world.onboard();
    const eid = newEid();
    const before = world.smdp.calls.length;
    const answer = await world.requestCode(token, { eid });
    expect(answer.status).toBe(200);
    expect(answer.body).toEqual({ iccid: expect.stringMatching(/^\d{19}$/), activationCode: expect.any(String), profileType: 'personal', swappedIccid: null });
    const calls = world.smdp.calls.slice(before);
    expect(calls.map((c) => c.function)).toEqual(['downloadOrder', 'confirmOrder']);
    expect(calls[0].body).toEqual({
      header: { functionRequesterIdentifier: 'aid-gateway.test', functionCallIdentifier: expect.any(String) },
      eid,
      profileType: 'PT_PERSONAL',
    });
    // SGP.22 5.2.1: the SM-DP+ wrote the 19-digit ICCID F-padded; ConfirmOrder sends that string,
    // the CMP gets the ICCID itself (AID.02 5.4)
    expect(calls[1].body).toMatchObject({ iccid: `${answer.body.iccid}F`, eid, releaseFlag: true });
    expect(calls[0].headers['x-admin-protocol']).toBe('gsma/rsp/v2.5.0');
    expect((calls[0].body.header as { functionCallIdentifier: string }).functionCallIdentifier).not.toBe(
      (calls[1].body.header as { functionCallIdentifier: string }).functionCallIdentifier,
    );
    const code = parseActivationCode(answer.body.activationCode);
    expect(answer.body.activationCode).toBe(`1$${SMDP_ADDRESS}$${code.matchingId}`);
    expect(world.smdp.profile(answer.body.iccid)).toMatchObject({ state: 'released', eid, matchingId: code.matchingId });
    await waitFor(() => events('profileOrdered').some((e) => e.iccid === answer.body.iccid));
    expect(events('profileOrdered').find((e) => e.iccid === answer.body.iccid)).toMatchObject({
      activationCode: answer.body.activationCode,
      qrCode: `LPA:${answer.body.activationCode}`,
      swappedIccid: null,
    });
    expect(world.webhook.received[0].headers['api-key']).toBe('hub-key-at-opx-backoffice');
  });

  test("n vehicles get n profiles without a swap; vehicle n+1 swaps the CMP's candidate", async () => {
    const token = await world.onboard();
    const first = await world.requestCode(token);
    const second = await world.requestCode(token, { replaceIccid: first.body.iccid });
    expect([first.body.swappedIccid, second.body.swappedIccid]).toEqual([null, null]);
    expect(second.body.iccid).not.toBe(first.body.iccid);
    // the first one is in a car already; the second not yet
    await world.smdp.download(first.body.activationCode, world.smdp.profile(first.body.iccid)!.eid!);
    await waitFor(async () => (await world.profileStatus(token, first.body.iccid)).body.profiles?.[0]?.status === 'installed');

    const third = await world.requestCode(token, { replaceIccid: second.body.iccid });
    expect(third.status).toBe(200);
    expect(third.body.swappedIccid).toBe(second.body.iccid);
    // not downloaded yet: cancelled on the SM-DP+ for good
    expect(world.smdp.profile(second.body.iccid)?.state).toBe('unavailable');
    expect(world.smdpCalls('cancelOrder').some((c) => c.iccid === `${second.body.iccid}F` && c.finalProfileStatusIndicator === 'Unavailable')).toBe(true);
    await waitFor(() => events('profileSwapped').some((e) => e.iccid === second.body.iccid && e.cancelledOnSmdp === true));

    const fourth = await world.requestCode(token, { replaceIccid: first.body.iccid });
    expect(fourth.body.swappedIccid).toBe(first.body.iccid);
    // on a vehicle already: beyond ES2+, the operator is told
    expect(world.smdp.profile(first.body.iccid)?.state).toBe('installed');
    await waitFor(() => events('profileSwapped').some((e) => e.iccid === first.body.iccid && e.cancelledOnSmdp === false));
    const listed = (await world.profileStatus(token)).body.profiles.map((p: { iccid: string }) => p.iccid).sort();
    expect(listed).toEqual([third.body.iccid, fourth.body.iccid].sort());
  });

  test.each([
    ['unknown to the subscription', () => '8949999999999999999'],
    ['absent', () => null],
  ])('a full subscription with a candidate %s falls back to the least recently used profile', async (_what, candidate) => {
    const token = await world.onboard();
    const first = await world.requestCode(token);
    const second = await world.requestCode(token);
    // the second one is used (enabled) after the first: the first is least recently used
    expect((await world.csimStatus(token, second.body.iccid, 'enabled')).status).toBe(201);
    const third = await world.requestCode(token, { replaceIccid: candidate() });
    expect(third.status).toBe(200);
    expect(third.body.swappedIccid).toBe(first.body.iccid);
  });

  test('a swapped profile is no candidate any more: the fallback takes a live one', async () => {
    const token = await world.onboard();
    const first = await world.requestCode(token);
    await world.requestCode(token);
    await world.requestCode(token, { replaceIccid: first.body.iccid });
    const fourth = await world.requestCode(token, { replaceIccid: first.body.iccid });
    expect(fourth.body.swappedIccid).not.toBe(first.body.iccid);
    expect(fourth.body.swappedIccid).toEqual(expect.stringMatching(/^\d{19}$/));
  });

  test('the inventory of a type exhausted: 422 code 49, and nothing is left ordered', async () => {
    const token = await world.onboard();
    expect((await world.requestCode(token, { profileType: 'business' })).status).toBe(200);
    const other = await world.onboard();
    const answer = await world.requestCode(other, { profileType: 'business' });
    expect(answer.status).toBe(422);
    expect(answer.body).toEqual({ code: '49', error: 'No activation code can be created' });
    expect((await world.profileStatus(other)).body).toEqual({ profiles: [] });
    // the SM-DP+'s own words are logged
    expect(world.hub.logLines().some((l) => l.subjectCode === '8.2.5' && l.reasonCode === '3.7' && l.message === 'No more Profile')).toBe(true);
  });

  test('a profile type the operator does not offer: 422 code 50, the SM-DP+ is not asked', async () => {
    const token = await world.onboard();
    const before = world.smdp.calls.length;
    const answer = await world.requestCode(token, { profileType: 'premium' });
    expect(answer.status).toBe(422);
    expect(answer.body.code).toBe('50');
    expect(world.smdp.calls.length).toBe(before);
  });

  test('a profile type the SM-DP+ does not know: 422 code 50', async () => {
    const answer = await world.requestCode(await world.onboard(), { profileType: 'legacy' });
    expect(answer.status).toBe(422);
    expect(answer.body).toEqual({ code: '50', error: 'Profile type unknown' });
  });

  test.each([
    ['not 32 digits (refused by the hub)', '8904903200000100000000083193405', false],
    ['32 digits with wrong check digits (refused by the SM-DP+)', '89049032000001000000000831934058', true],
  ])('an EID %s: 423 Invalid eid', async (_what, eid, asked) => {
    const before = world.smdpCalls('downloadOrder').length;
    const answer = await world.requestCode(await world.onboard(), { eid });
    expect(answer.status).toBe(423);
    expect(answer.body).toEqual({ code: '207', error: expect.stringMatching(/^Invalid eid/) });
    expect(world.smdpCalls('downloadOrder').length - before).toBe(asked ? 1 : 0);
  });

  test('a retried request (same activationCodeRequestID) gets the same code and orders no second profile', async () => {
    const token = await world.onboard();
    const id = randomUUID();
    const eid = newEid();
    const orders = world.smdpCalls('downloadOrder').length;
    const first = await world.requestCode(token, { activationCodeRequestID: id, eid });
    const again = await world.requestCode(token, { activationCodeRequestID: id, eid });
    expect(again.status).toBe(200);
    expect(again.body).toEqual(first.body);
    expect(world.smdpCalls('downloadOrder').length - orders).toBe(1);
  });

  test('a ConfirmOrder the SM-DP+ refuses: 422 code 49, the ICCID goes back to the inventory', async () => {
    const token = await world.onboard();
    world.smdp.failNext('confirmOrder', { kind: 'status', subjectCode: '8.2.6', reasonCode: '3.3', message: 'Already in Use (Uniqueness)' });
    const answer = await world.requestCode(token);
    expect(answer.status).toBe(422);
    expect(answer.body.code).toBe('49');
    const ordered = world.smdpCalls('downloadOrder').at(-1);
    const cancelled = world.smdpCalls('cancelOrder').at(-1);
    expect(cancelled).toMatchObject({ finalProfileStatusIndicator: 'Available' });
    expect(world.smdp.profile(String(cancelled?.iccid))?.state).toBe('available');
    expect(ordered?.eid).toBe(cancelled?.eid);
    expect((await world.profileStatus(token)).body).toEqual({ profiles: [] });
  });

  test('a request cut off after DownloadOrder is resumed by its retry: the same ICCID, no second order', async () => {
    const token = await world.onboard();
    const id = randomUUID();
    const eid = newEid();
    world.smdp.failNext('confirmOrder', { kind: 'drop' });
    const first = await world.requestCode(token, { activationCodeRequestID: id, eid });
    expect(first.status).toBe(503);
    const orders = world.smdpCalls('downloadOrder').length;
    const iccid = world.smdpCalls('confirmOrder').at(-1)?.iccid;
    const retry = await world.requestCode(token, { activationCodeRequestID: id, eid });
    expect(retry.status).toBe(200);
    expect(`${retry.body.iccid}F`).toBe(iccid);
    expect(world.smdpCalls('confirmOrder').at(-1)?.iccid).toBe(iccid);
    expect(world.smdpCalls('downloadOrder').length).toBe(orders);
    expect((await world.profileStatus(token)).body.profiles).toHaveLength(1);
  });

  test("an SM-DP+ slower than the CMP's budget: 201, then the code arrives as Send Activation Code", async () => {
    const slow = await Es2World.start({ pki, routes: { routes: [{ from: '*', to: '*', timeoutMs: 300, bridgeTimeoutMs: 5000 }] } });
    try {
      const token = await slow.onboard();
      slow.smdp.failNext('downloadOrder', { kind: 'delay', ms: 600 });
      const id = randomUUID();
      const answer = await slow.requestCode(token, { activationCodeRequestID: id });
      expect(answer.status).toBe(201);
      const delivered = () => slow.cmp.received.filter((r) => r.path === paths.submitActivationCode(token));
      await waitFor(() => delivered().length === 1);
      const body = delivered()[0].body as Record<string, unknown>;
      expect(body).toMatchObject({ activationCodeRequestID: id, error: null, profileType: 'personal', swappedIccid: null });
      expect(parseActivationCode(String(body.activationCode)).smdpAddress).toBe(SMDP_ADDRESS);
      expect(delivered()[0].headers['client-id']).toBe('opx');
    } finally {
      await slow.close();
    }
  });

  test('a token the operator never issued is refused (404 code 20) without asking the SM-DP+', async () => {
    const before = world.smdp.calls.length;
    const answer = await world.requestCode(randomUUID());
    expect(answer.status).toBe(404);
    expect(answer.body.code).toBe('20');
    expect(world.smdp.calls.length).toBe(before);
  });
});

describe('a trailing slash is another path (issue 10.1)', () => {
  // Annex B.2 serves /v1/activation-code-requests/{msp_token} and msp_token is a uuid (AID.02
  // 5.3): `<token>/` is no operation's path, and its empty last segment once put every CMP's
  // orders into one shared subscription
  test.each([
    [
      'POST',
      '/v1/activation-code-requests/<token>/',
      (t: string) => `${paths.requestActivationCode(t)}/`,
      { profileType: 'personal', deviceType: 'tcu', eid: newEid(), activationCodeRequestID: randomUUID(), replaceIccid: null },
    ],
    ['POST', '/v1/statuses/<token>/', (t: string) => `${paths.sendCsimStatus(t)}/`, { iccid: '8949000000000000001', eid: newEid(), status: 'disabled' }],
    ['GET', '/v1/profiles/status/<token>/', (t: string) => `${paths.requestProfileStatus(t)}/`, undefined],
    ['DELETE', '/v1/users/<token>/', (t: string) => `${paths.requestInvalidateFederatedID(t)}/`, undefined],
  ])('%s %s is 404 and the SM-DP+ never hears of it', async (method, _, path, body) => {
    const token = await world.onboard();
    const before = world.smdp.calls.length;
    const answer = await world.hub.call({ as: 'cmpA', to: 'opx', method, path: path(token), body });
    expect(answer.status).toBe(404);
    expect(answer.body.code).toBe('204');
    expect(world.smdp.calls.length).toBe(before);
  });
});

describe('HandleDownloadProgressInfo', () => {
  const progress = (
    iccid: string,
    notificationPointId: number | string,
    status = 'Executed-Success',
    headers: Record<string, string> = { 'api-key': CALLBACK_KEY },
  ) =>
    request(`${world.hub.url}${PROGRESS_CALLBACK_PATH}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: JSON.stringify({
        header: { functionRequesterIdentifier: 'smdp', functionCallIdentifier: randomUUID() },
        iccid,
        profileType: 'PT_PERSONAL',
        timeStamp: '2026-11-25T09:30:47Z',
        notificationPointId,
        notificationPointStatus:
          status === 'Executed-Success' ? { status } : { status, statusCodeData: { subjectCode: '8.1', reasonCode: '4.8', message: 'x' } },
      }),
    });

  test('a car downloads its profile: the SM-DP+ reports points 1, 3, 4 and the status is installed', async () => {
    const token = await world.onboard();
    const code = await world.requestCode(token);
    expect((await world.profileStatus(token, code.body.iccid)).body).toEqual({ profiles: [{ iccid: code.body.iccid, status: 'prepared' }] });
    await world.smdp.download(code.body.activationCode, world.smdp.profile(code.body.iccid)!.eid!);
    expect((await world.profileStatus(token, code.body.iccid)).body).toEqual({ profiles: [{ iccid: code.body.iccid, status: 'installed' }] });
    await waitFor(() => events('downloadProgress').filter((e) => e.iccid === code.body.iccid).length === 3);
  });

  test('a failed installation is recorded; the profile stays prepared for another attempt', async () => {
    const token = await world.onboard();
    const code = await world.requestCode(token);
    await world.smdp.download(code.body.activationCode, world.smdp.profile(code.body.iccid)!.eid!, 4);
    expect((await world.profileStatus(token, code.body.iccid)).body.profiles[0].status).toBe('prepared');
    expect(await world.hub.metric('aid_gateway_es2plus_profile_events_total', { event: 'installation_failed' })).toBeGreaterThan(0);
  });

  test('the ICCID with its trailing F, the point id as a string, a custom point >= 100: all 204; the custom one changes nothing', async () => {
    const token = await world.onboard();
    const code = await world.requestCode(token);
    expect((await progress(`${code.body.iccid}F`, '3')).status).toBe(204);
    expect((await progress(code.body.iccid, 117)).status).toBe(204);
    expect((await world.profileStatus(token, code.body.iccid)).body.profiles[0].status).toBe('prepared');
    expect((await progress(`${code.body.iccid}f`, 4)).status).toBe(204);
    expect((await world.profileStatus(token, code.body.iccid)).body.profiles[0].status).toBe('installed');
  });

  test('an SM-DP+ that proves itself with a client certificate on the TLS listener', async () => {
    const certified = await Es2World.start({ pki, callbackCertificateCn: 'smdp.example.com' });
    try {
      const token = await certified.onboard();
      const code = await certified.requestCode(token);
      await certified.smdp.download(code.body.activationCode, certified.smdp.profile(code.body.iccid)!.eid!);
      expect((await certified.profileStatus(token, code.body.iccid)).body.profiles[0].status).toBe('installed');
      // the same notification without the certificate, on the plain listener: refused
      const plain = await request(`${certified.hub.url}${PROGRESS_CALLBACK_PATH}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: '{}',
      });
      expect(plain.status).toBe(401);
    } finally {
      await certified.close();
    }
  });

  test("without the SM-DP+'s credential: 401, nothing recorded", async () => {
    const token = await world.onboard();
    const code = await world.requestCode(token);
    for (const headers of [{}, { 'api-key': 'wrong' }, { 'api-key': 'key-opx' }] as Record<string, string>[]) {
      const answer = await progress(code.body.iccid, 4, 'Executed-Success', headers);
      expect(answer.status).toBe(401);
      expect(answer.body.header.functionExecutionStatus).toMatchObject({ status: 'Failed', statusCodeData: { subjectCode: '1.1', reasonCode: '1.2' } });
    }
    expect((await world.profileStatus(token, code.body.iccid)).body.profiles[0].status).toBe('prepared');
  });

  test.each([
    ['no iccid', { iccid: undefined }],
    ['a malformed iccid', { iccid: '12AB' }],
    ['no notification point', { notificationPointId: undefined }],
    ['a negative notification point', { notificationPointId: -1 }],
    ['an unknown execution status', { notificationPointStatus: { status: 'Done' } }],
    // SGP.22 5.3.5 / seed 1.5: a notification point's status is "Executed-Success,
    // Executed-WithWarning, Failed"; Expired belongs to functions, not notifications
    ['Expired as a notification status', { notificationPointStatus: { status: 'Expired' } }],
    ['no header', { header: undefined }],
    // SGP.22 writes `timestamp` "M"andatory; the seed vendor `timeStamp`: one must be there
    ['no timestamp in either spelling', { timeStamp: undefined }],
    ['both spellings of the timestamp', { timestamp: '2026-11-25T09:30:47Z' }],
    // SGP.22: "YYYY-MM-DDThh:mm:ssTZD", a W3C date-time
    ['a timestamp that is no date-time', { timeStamp: 'yesterday' }],
    ['resultData that is not base64 (SGP.22: Binary)', { resultData: 'not base64!' }],
  ])('%s: 400, an ES2+ Failed answer saying why, X-Admin-Protocol', async (_what, change) => {
    const body = {
      header: { functionRequesterIdentifier: 'smdp', functionCallIdentifier: 'c1' },
      iccid: '8949000000000000001',
      profileType: 'PT',
      timeStamp: '2026-11-25T09:30:47Z',
      notificationPointId: 3,
      notificationPointStatus: { status: 'Executed-Success' },
      ...change,
    };
    const answer = await request(`${world.hub.url}${PROGRESS_CALLBACK_PATH}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'api-key': CALLBACK_KEY },
      body: JSON.stringify(body),
    });
    expect(answer.status).toBe(400);
    expect(answer.body.header.functionExecutionStatus).toMatchObject({
      status: 'Failed',
      statusCodeData: { subjectCode: '1.6', reasonCode: expect.stringMatching(/^2\.[12]$/), message: expect.any(String) },
    });
    expect(answer.headers.get('x-admin-protocol')).toBe('gsma/rsp/v2.5.0');
  });

  test('a profile the hub never ordered: 204 and a log line', async () => {
    expect((await progress('8949111111111111111', 3)).status).toBe(204);
    expect(world.hub.logLines().some((l) => l.msg === 'download progress for a profile the hub did not order')).toBe(true);
  });
});

describe('Send CSIM Status and Request Profile Status', () => {
  test('a deleted profile frees its slot: the next request needs no swap', async () => {
    const token = await world.onboard();
    const first = await world.requestCode(token);
    await world.requestCode(token);
    expect((await world.csimStatus(token, first.body.iccid, 'deleted')).status).toBe(201);
    const third = await world.requestCode(token, { replaceIccid: first.body.iccid });
    expect(third.body.swappedIccid).toBeNull();
    const listed = (await world.profileStatus(token)).body.profiles.map((p: { iccid: string }) => p.iccid);
    expect(listed).not.toContain(first.body.iccid);
    expect(listed).toHaveLength(2);
  });

  test('the status of all profiles, and of one; enabled and disabled come from the CMP', async () => {
    const token = await world.onboard();
    const a = await world.requestCode(token);
    const b = await world.requestCode(token);
    await world.csimStatus(token, a.body.iccid, 'enabled');
    await world.csimStatus(token, b.body.iccid, 'disabled');
    const all = (await world.profileStatus(token)).body.profiles.sort((x: { iccid: string }, y: { iccid: string }) => x.iccid.localeCompare(y.iccid));
    expect(all).toEqual(
      [
        { iccid: a.body.iccid, status: 'enabled' },
        { iccid: b.body.iccid, status: 'disabled' },
      ].sort((x, y) => x.iccid.localeCompare(y.iccid)),
    );
    expect((await world.profileStatus(token, b.body.iccid)).body).toEqual({ profiles: [{ iccid: b.body.iccid, status: 'disabled' }] });
  });

  test('Send CSIM Status: an ICCID unknown to the operator is 422 code 61, one of another token 422 code 62; Request Profile Status: 404 code 65 for both (7.10)', async () => {
    const token = await world.onboard();
    const other = await world.onboard();
    const theirs = await world.requestCode(other);
    expect((await world.profileStatus(token, '8949000000000000999')).body.code).toBe('65');
    expect((await world.profileStatus(token, theirs.body.iccid)).status).toBe(404);
    expect((await world.csimStatus(token, '8949000000000000999', 'deleted')).body.code).toBe('61');
    const csim = await world.csimStatus(token, theirs.body.iccid, 'deleted');
    expect(csim.status).toBe(422);
    expect(csim.body.code).toBe('62');
    expect((await world.profileStatus(other, theirs.body.iccid)).body.profiles).toHaveLength(1);
  });

  test('a token without profiles has an empty list', async () => {
    expect((await world.profileStatus(await world.onboard())).body).toEqual({ profiles: [] });
  });
});

describe('withdraw onboarding', () => {
  test('from the CMP: profiles not yet downloaded are cancelled at once; no new code; CSIM statuses still taken', async () => {
    const token = await world.onboard();
    const installed = await world.requestCode(token);
    await world.smdp.download(installed.body.activationCode, world.smdp.profile(installed.body.iccid)!.eid!);
    const waiting = await world.requestCode(token);
    const answer = await world.hub.call({ as: 'cmpA', to: 'opx', method: 'DELETE', path: paths.requestInvalidateFederatedID(token) });
    expect(answer.status).toBe(204);
    expect(world.smdp.profile(waiting.body.iccid)?.state).toBe('unavailable');
    expect(world.smdp.profile(installed.body.iccid)?.state).toBe('installed');
    await waitFor(() =>
      events('tokenInvalidated').some((e) => e.mspToken === token && JSON.stringify(e.deactivate) === JSON.stringify([installed.body.iccid])),
    );
    const refused = await world.requestCode(token);
    expect(refused.status).toBe(404);
    expect(refused.body.code).toBe('21');
    expect((await world.csimStatus(token, installed.body.iccid, 'deleted')).status).toBe(201);
    expect((await world.profileStatus(token)).body).toEqual({ profiles: [] });
  });

  test('from the operator: Notify MSP Token Invalid reaches the CMP; no new code afterwards', async () => {
    const token = await world.onboard();
    const code = await world.requestCode(token);
    const answer = await world.hub.call({ as: 'opx', to: 'cmpA', method: 'POST', path: paths.notifyMspTokenInvalid(token), body: notifyMspTokenInvalidBody() });
    expect(answer.status).toBe(204);
    expect(world.cmp.received.some((r) => r.path === paths.notifyMspTokenInvalid(token))).toBe(true);
    expect((await world.requestCode(token)).body.code).toBe('21');
    expect((await world.csimStatus(token, code.body.iccid, 'deleted')).status).toBe(201);
  });
});

describe('the SM-DP+ unreachable or refusing the hub', () => {
  test('SM-DP+ down: 503 code 90 with Retry-After; then the breaker opens and the SM-DP+ is not tried', async () => {
    const down = await Es2World.start({
      pki,
      smdpUrl: `https://127.0.0.1:${await freePort()}`,
      breaker: { volumeThreshold: 2, errorThresholdPercentage: 50, resetTimeoutMs: 60000 },
    });
    try {
      const token = await down.onboard();
      const answers = [];
      for (let i = 0; i < 4; i++) answers.push(await down.requestCode(token));
      for (const answer of answers) {
        expect(answer.status).toBe(503);
        expect(answer.body.code).toBe('90');
        expect(Number(answer.headers.get('retry-after'))).toBeGreaterThan(0);
      }
      expect(answers.map((a) => a.body.error.split(':')[0])).toEqual([
        "The MSP's SM-DP+ cannot be reached",
        "The MSP's SM-DP+ cannot be reached",
        'The target partner is failing; the hub does not call it for now',
        'The target partner is failing; the hub does not call it for now',
      ]);
      expect(await down.hub.metric('aid_gateway_es2plus_calls_total', { function: 'downloadOrder', outcome: 'breakerOpen' })).toBe(2);
    } finally {
      await down.close();
    }
  });

  test("without the hub's client certificate the SM-DP+ refuses the TLS handshake: 503 code 90", async () => {
    const noCert = await Es2World.start({ pki, withoutClientCertificate: true });
    try {
      const answer = await noCert.requestCode(await noCert.onboard());
      expect(answer.status).toBe(503);
      expect(answer.body.code).toBe('90');
      expect(noCert.smdp.calls).toHaveLength(0);
    } finally {
      await noCert.close();
    }
  });
});

describe('two hub instances on one Redis', () => {
  test('both see one subscription: concurrent requests through each never exceed n', async () => {
    const oneSlot = await Es2World.start({ pki, profilesPerSubscription: 1 });
    const second = await Es2World.start({ profilesPerSubscription: 1, redisKeyPrefix: oneSlot.hub.keyPrefix }, oneSlot);
    try {
      const token = await oneSlot.onboard();
      const [a, b] = await Promise.all([oneSlot.requestCode(token), second.requestCode(token, {}, second.hub)]);
      expect([a.status, b.status]).toEqual([200, 200]);
      // one of them came first; the other swapped it
      const swaps = [a.body.swappedIccid, b.body.swappedIccid].filter((s) => s !== null);
      expect(swaps).toHaveLength(1);
      expect([a.body.iccid, b.body.iccid]).toContain(swaps[0]);
      const seenFromFirst = (await oneSlot.profileStatus(token)).body.profiles;
      expect(seenFromFirst).toHaveLength(1);
      // the progress reported to one instance is seen through the other
      const live = seenFromFirst[0].iccid as string;
      const code = [a, b].find((x) => x.body.iccid === live)!;
      await oneSlot.smdp.download(code.body.activationCode, oneSlot.smdp.profile(live)!.eid!);
      expect((await second.profileStatus(token, live)).body.profiles[0].status).toBe('installed');
    } finally {
      await second.close({ keepShared: true });
      await oneSlot.close();
    }
  });
});

// DESIGN.md "Data that must not leak" (activationCode, api-key, authorization, account ids, EIDs),
// and the ICCIDs (in the SM-DP+'s F-padded spelling and the hub's own), msp_tokens and MatchingIDs
test('no ICCID, EID, msp_token, activation code, MatchingID or credential of any of the above reaches a log line', () => {
  const secrets = new ProtectedValues();
  for (const call of world.smdp.calls) secrets.addFrom(call.body).addFrom(call.headers);
  for (const partner of [world.cmp, world.cmpB, world.webhook]) {
    for (const r of partner.received) secrets.addFrom(r.body).addFrom(r.headers);
  }
  for (const iccid of [...secrets.values]) {
    const matchingId = /^\d{19}$/.test(iccid) ? world.smdp.profile(iccid)?.matchingId : undefined;
    if (matchingId) secrets.add(matchingId);
  }
  for (const key of [CALLBACK_KEY, 'key-cmpA', 'key-cmpB', 'key-opx', ACCOUNT_ID]) secrets.add(key);
  // every kind was exchanged, so every kind was looked for: ICCIDs both ways, codes, QR payloads
  expect(secrets.count(/^\d{19}$/)).toBeGreaterThan(20);
  expect(secrets.count(/^\d{19}F$/)).toBeGreaterThan(20);
  expect(secrets.count(/^1\$/)).toBeGreaterThan(10);
  expect(secrets.count(/^LPA:/)).toBeGreaterThan(10);
  expect(secrets.values.size).toBeGreaterThan(100);
  expect(secrets.loggedIn(world.hub.logs)).toEqual([]);
});
