/**
 * ES2+ as SGP.22 peers speak it (issue 18), checked against messages written from SGP.22's
 * tables and examples, never from the hub's own builders: HandleDownloadProgressInfo with
 * `timestamp` (and the seed vendor's `timeStamp`), F-padded and long ICCIDs sent back exactly as
 * the SM-DP+ wrote them, a ConfirmOrder whose answer was lost, the callback's answers, the
 * callback credential.
 */
import { randomUUID } from 'node:crypto';
import { Agent, fetch as undiciFetch } from 'undici';
import { PROGRESS_CALLBACK_PATH } from '../../src/dialects/es2plus/progressCallback';
import { createPki } from '../support/certs';
import { CALLBACK_KEY, Es2World, iccids, newEid } from '../support/es2World';
import { request } from '../support/testHub';
import { waitFor } from '../support/waitFor';

jest.setTimeout(30000);

const pki = createPki();
let world: Es2World;
beforeAll(async () => {
  world = await Es2World.start({ pki });
});
afterAll(() => world.close());

const notify = (body: string, headers: Record<string, string> = { 'api-key': CALLBACK_KEY }) =>
  request(`${world.hub.url}${PROGRESS_CALLBACK_PATH}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-admin-protocol': 'gsma/rsp/v2.5.0', ...headers },
    body,
  });

describe('HandleDownloadProgressInfo as SGP.22 writes it', () => {
  test('the SGP.22 message (timestamp, F-padded ICCID, resultData) is taken: 204, X-Admin-Protocol, the profile installed', async () => {
    const token = await world.onboard();
    const code = await world.requestCode(token);
    const iccid = code.body.iccid as string;
    // SGP.22 5.3.5: header, eid (O), iccid, profileType, timestamp, notificationPointId,
    // notificationPointStatus, resultData (C: the finalResult, binary as base64)
    const body = `{
      "header": { "functionRequesterIdentifier": "SMDP-1", "functionCallIdentifier": "TX-567" },
      "iccid": "${iccid}F",
      "profileType": "PT_PERSONAL",
      "timestamp": "2026-11-26T09:30:47Z",
      "notificationPointId": 4,
      "notificationPointStatus": { "status": "Executed-Success" },
      "resultData": "oCSAEHRlc3QtdHJhbnNhY3Rpb24="
    }`;
    const answer = await notify(body);
    expect(answer.status).toBe(204);
    expect(answer.headers.get('x-admin-protocol')).toBe('gsma/rsp/v2.5.0');
    expect((await world.profileStatus(token, iccid)).body.profiles[0].status).toBe('installed');
    await waitFor(() => world.events().some((e) => e.event === 'downloadProgress' && e.iccid === iccid && e.resultData === 'oCSAEHRlc3QtdHJhbnNhY3Rpb24='));
  });

  test('Executed-WithWarning at point 4 is an installation; Failed at point 2 (confirmation failure) is not', async () => {
    const token = await world.onboard();
    const first = await world.requestCode(token);
    const warned = `{"header":{"functionRequesterIdentifier":"S","functionCallIdentifier":"1"},"iccid":"${first.body.iccid}F","profileType":"PT_PERSONAL","timestamp":"2026-11-26T09:30:47+01:00","notificationPointId":4,"notificationPointStatus":{"status":"Executed-WithWarning","statusCodeData":{"subjectCode":"8.1","reasonCode":"6.1","message":"warning"}}}`;
    expect((await notify(warned)).status).toBe(204);
    expect((await world.profileStatus(token, first.body.iccid)).body.profiles[0].status).toBe('installed');
    const second = await world.requestCode(token);
    await world.smdp.download(second.body.activationCode, world.smdp.profile(second.body.iccid)!.eid!, 2);
    expect((await world.profileStatus(token, second.body.iccid)).body.profiles[0].status).toBe('prepared');
  });

  test("the simulated SM-DP+ in SGP.22 spelling and in the seed vendor's: both downloads reach installed", async () => {
    const vendor = await Es2World.start({ pki, spelling: 'seedVendor' });
    try {
      for (const w of [world, vendor]) {
        const token = await w.onboard();
        const code = await w.requestCode(token);
        await w.smdp.download(code.body.activationCode, w.smdp.profile(code.body.iccid)!.eid!);
        expect((await w.profileStatus(token, code.body.iccid)).body.profiles[0].status).toBe('installed');
      }
    } finally {
      await vendor.close();
    }
  });
});

describe('ICCIDs travel exactly as the SM-DP+ wrote them', () => {
  test.each([
    ['21 digits', 21],
    ['22 digits', 22],
  ])('an SM-DP+ answering an ICCID of %s (AID.02 5.4: 19-22) gets the CMP its code, not a 500', async (_, digits) => {
    const long = iccids(1)[0].padEnd(digits, '7').slice(0, digits);
    const w = await Es2World.start({ pki, inventory: { PT_PERSONAL: [long] } });
    try {
      const token = await w.onboard();
      const answer = await w.requestCode(token);
      expect(answer.status).toBe(200);
      expect(answer.body.iccid).toBe(long);
      expect(w.smdpCalls('confirmOrder').at(-1)?.iccid).toBe(long);
    } finally {
      await w.close();
    }
  });

  test("a swap cancels the F-padded ICCID the SM-DP+ gave, not the hub's spelling of it", async () => {
    const w = await Es2World.start({ pki, profilesPerSubscription: 1 });
    try {
      const token = await w.onboard();
      const first = await w.requestCode(token);
      await w.requestCode(token);
      const cancelled = w.smdpCalls('cancelOrder').at(-1);
      expect(cancelled).toMatchObject({ iccid: `${first.body.iccid}F`, finalProfileStatusIndicator: 'Unavailable' });
      expect(w.smdp.profile(first.body.iccid)?.state).toBe('unavailable');
    } finally {
      await w.close();
    }
  });
});

describe('a ConfirmOrder whose answer was lost', () => {
  test.each([
    ['8.2.6', '3.3', 'Matching ID: Already in Use'],
    ['8.2.1', '3.3', 'Profile ICCID: Already in Use'],
  ])('its retry answered %s / %s means it went through: the code, never CancelOrder Available', async (subjectCode, reasonCode, message) => {
    const token = await world.onboard();
    const id = randomUUID();
    const eid = newEid();
    world.smdp.failNext('confirmOrder', { kind: 'lostAnswer' });
    world.smdp.failNext('confirmOrder', { kind: 'status', subjectCode, reasonCode, message });
    const first = await world.requestCode(token, { activationCodeRequestID: id, eid });
    expect(first.status).toBeGreaterThanOrEqual(500);
    const cancels = world.smdpCalls('cancelOrder').length;
    const retry = await world.requestCode(token, { activationCodeRequestID: id, eid });
    expect(retry.status).toBe(200);
    expect(world.smdpCalls('cancelOrder').length).toBe(cancels);
    expect(world.smdp.profile(retry.body.iccid)?.state).toBe('released');
    expect(retry.body.activationCode).toContain(world.smdp.profile(retry.body.iccid)?.matchingId);
  });
});

describe('the callback credential: a certificate or a key, as the operator chooses', () => {
  const smdpCert = pki.client('smdp.example.com');
  const credentials = { apiKeys: ['either-key'], certificates: [{ subject: { CN: 'smdp.example.com' } }] };
  const body = () =>
    JSON.stringify({
      header: { functionRequesterIdentifier: 'S', functionCallIdentifier: randomUUID() },
      iccid: '8949000000000000001',
      profileType: 'PT',
      timestamp: '2026-11-26T09:30:47Z',
      notificationPointId: 1,
      notificationPointStatus: { status: 'Executed-Success' },
    });
  const overTls = async (w: Es2World, headers: Record<string, string>) => {
    const agent = new Agent({ connect: { cert: smdpCert.cert, key: smdpCert.key, ca: pki.ca.cert } });
    try {
      const res = await undiciFetch(`${w.hub.hub.urls[1]}${PROGRESS_CALLBACK_PATH}`, {
        method: 'POST',
        dispatcher: agent,
        headers: { 'content-type': 'application/json', ...headers },
        body: body(),
      });
      return res.status;
    } finally {
      await agent.close();
    }
  };
  const plain = async (w: Es2World, headers: Record<string, string>) =>
    (await request(`${w.hub.url}${PROGRESS_CALLBACK_PATH}`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: body() }))
      .status;

  test('default (any): the key alone, or the certificate alone, is enough', async () => {
    const w = await Es2World.start({ pki, callback: { credentials } });
    try {
      expect(await plain(w, { 'api-key': 'either-key' })).toBe(204);
      expect(await overTls(w, {})).toBe(204);
      expect(await plain(w, { 'api-key': 'wrong' })).toBe(401);
    } finally {
      await w.close();
    }
  });

  // docs/operating/security.md, failed logins: past authFailuresPerAddress, "that address's
  // requests: 429 code 206" (a callback names no client-id to have proven): a right guess made while
  // the address is locked out is not told apart from a wrong one
  test('an address locked out by failed logins is refused 429 before its credential is checked, the right key included', async () => {
    const w = await Es2World.start({
      pki,
      callback: { credentials },
      routes: { settings: { authFailuresPerAddress: 2, authFailuresPerClient: 1000 }, routes: [{ from: '*', to: '*', timeoutMs: 20000 }] },
    });
    try {
      const wrong = [];
      for (let i = 0; i < 3; i++) wrong.push(await plain(w, { 'api-key': 'wrong' }));
      expect(wrong).toEqual([401, 401, 429]);
      expect(await plain(w, { 'api-key': 'either-key' })).toBe(429);
    } finally {
      await w.close();
    }
  });

  test('callbackRequires: all: the certificate and the key together', async () => {
    const w = await Es2World.start({ pki, callback: { credentials, requires: 'all' } });
    try {
      expect(await plain(w, { 'api-key': 'either-key' })).toBe(401);
      expect(await overTls(w, {})).toBe(401);
      expect(await overTls(w, { 'api-key': 'either-key' })).toBe(204);
    } finally {
      await w.close();
    }
  });
});

describe("an ES2+ operator's CMPs stay apart (AID.02 4.3.1 2c, 7.9, 7.10)", () => {
  test("a swap picks only a profile on the requesting CMP's vehicles; none there is 422 code 49", async () => {
    const w = await Es2World.start({ pki, profilesPerSubscription: 1 });
    try {
      const token = await w.onboard();
      await w.onboard(token, 'cmpB');
      const onA = await w.requestCode(token);
      // 4.3.1 2c: "the CMP will delete the Operational Profile which was specified by the MSP from
      // the vehicle": cmpB cannot delete cmpA's profile, so it is never swapped for cmpB
      const forB = await w.requestCode(token, {}, w.hub, 'cmpB');
      expect(forB.status).toBe(422);
      expect(forB.body.code).toBe('49');
      expect(w.smdp.profile(onA.body.iccid)?.state).toBe('released');
      const againA = await w.requestCode(token);
      expect(againA.body.swappedIccid).toBe(onA.body.iccid);
    } finally {
      await w.close();
    }
  });

  test("one CMP's Request Invalidate MSP Token cancels only its own profiles; its status shows only its own", async () => {
    const token = await world.onboard();
    await world.onboard(token, 'cmpB');
    const onA = await world.requestCode(token);
    const onB = await world.requestCode(token, {}, world.hub, 'cmpB');
    expect((await world.hub.call({ as: 'cmpB', to: 'opx', method: 'GET', path: `/v1/profiles/status/${token}` })).body).toEqual({
      profiles: [{ iccid: onB.body.iccid, status: 'prepared' }],
    });
    const invalidate = await world.hub.call({ as: 'cmpB', to: 'opx', method: 'DELETE', path: `/v1/users/${token}` });
    expect(invalidate.status).toBe(204);
    expect(world.smdp.profile(onB.body.iccid)?.state).toBe('unavailable');
    expect(world.smdp.profile(onA.body.iccid)?.state).toBe('released');
    expect((await world.profileStatus(token, onA.body.iccid)).body.profiles[0].status).toBe('prepared');
  });

  test('Request Profile Status for an ICCID the operator does not know, or another CMP\'s, is 404 code 65 (7.10: "404 User or specified profile cannot be found")', async () => {
    const token = await world.onboard();
    await world.onboard(token, 'cmpB');
    const onB = await world.requestCode(token, {}, world.hub, 'cmpB');
    for (const iccid of ['8949000000000099999', onB.body.iccid]) {
      const answer = await world.profileStatus(token, iccid);
      expect(answer.status).toBe(404);
      expect(answer.body.code).toBe('65');
    }
  });
});

test("the hub's own refusals as an ES2+ operator's MSP are the hub's errors: no pending request left, not counted as a partner answer (issue 11)", async () => {
  const token = await world.onboard();
  const pending = async () => (await world.hub.hub.store.ledger.countPending()).opx ?? 0;
  // this request's own operation only: earlier tests' SM-DP+ calls (es2plus.*) may still be settling
  const upstream4xx = () => world.hub.metric('aid_gateway_upstream_requests_total', { target: 'opx', operation: 'requestActivationCode', outcome: '4xx' });
  const [before, counted] = [await pending(), await upstream4xx()];
  const answer = await world.requestCode(token, { profileType: 'no-such-type' });
  expect(answer.status).toBe(422);
  expect(answer.body.code).toBe('50');
  expect(await pending()).toBe(before);
  expect(await upstream4xx()).toBe(counted);
});
