/**
 * Nothing that must not leak reaches the log: every operation is sent with recognisable values in
 * phoneNumber, iv, activationCode, eid, account_id and the credentials, including requests the hub
 * refuses, and every log line is scanned for them.
 */
import { randomUUID } from 'node:crypto';
import { paths } from '../support/messages';
import { rawExchange, statusLines } from '../support/rawHttp';
import { basicHeader, startWorld, type World } from '../support/testHub';

const MARK = {
  phoneNumber: 'PHONEmarkerQUJDRA==',
  iv: 'IVmarkerWFla',
  activationCode: '1$smdp.marker.example$ACMARKER0001',
  eid: '89049032000001000000000000777777',
  accountId: 'ACCOUNTmarker.eyJzaWQiOiJ4In0.SIGmarker',
  apiKey: 'key-mspA',
  password: 'pw-mspB',
  otherKey: 'APIKEYmarkerGUESS',
};

let world: World;

beforeAll(async () => {
  world = await startWorld();
  const cmpAnswer = { status: 200, body: { iccid: '8949000000000000001', activationCode: MARK.activationCode, profileType: 'personal', swappedIccid: null } };
  world.partners.mspA.answer((req) => (req.path.startsWith('/v1/activation-code-requests/') ? cmpAnswer : undefined));
});
afterAll(() => world.close());

test('no log line carries a protected value, whatever the hub did with the request', async () => {
  const token = randomUUID();
  const hub = world.hub;
  const onboarding = { msp_token: token, phoneNumber: MARK.phoneNumber, subscriptionType: 'private', error: null, iv: MARK.iv };
  const acRequest = { profileType: 'personal', deviceType: 'tcu', eid: MARK.eid, activationCodeRequestID: randomUUID(), replaceIccid: null };
  const calls = [
    hub.call({ as: 'mspA', to: 'cmpA', method: 'POST', path: paths.sendMspToken(MARK.accountId), body: onboarding }),
    hub.call({ as: 'cmpA', to: 'mspA', method: 'POST', path: paths.requestActivationCode(token), body: acRequest }),
    hub.call({
      as: 'mspA',
      to: 'cmpA',
      method: 'PATCH',
      path: paths.updateSubscriptionInfo(token),
      body: { phoneNumber: MARK.phoneNumber, subscriptionType: 'private', iv: MARK.iv },
    }),
    hub.call({
      as: 'cmpA',
      to: 'mspA',
      method: 'POST',
      path: paths.sendCsimStatus(token),
      body: { iccid: '8949000000000000001', eid: MARK.eid, status: 'installed' },
    }),
    hub.call({ as: 'cmpA', to: 'mspA', method: 'GET', path: paths.requestProfileStatus(token) }),
    hub.call({
      as: 'mspA',
      to: 'cmpA',
      method: 'POST',
      path: paths.sendProfileInformation(token),
      body: { profiles: [{ iccid: '8949000000000000001', status: 'valid', reason: null }] },
    }),
    hub.call({
      as: 'mspA',
      to: 'cmpA',
      method: 'POST',
      path: paths.submitActivationCode(token),
      body: {
        activationCode: MARK.activationCode,
        profileType: 'personal',
        activationCodeRequestID: randomUUID(),
        error: null,
        iccid: '8949000000000000001',
        swappedIccid: null,
      },
    }),
    hub.call({ as: 'mspA', to: 'cmpA', method: 'POST', path: paths.notifyMspTokenInvalid(token), body: {} }),
    hub.call({ as: 'cmpA', to: 'mspA', method: 'DELETE', path: paths.requestInvalidateFederatedID(token) }),
    // refused ones: wrong key, bad JSON quoting the values, a mistyped path with the account id, a bad body type
    hub.call({ as: 'mspA', to: 'cmpA', method: 'POST', path: paths.sendMspToken(MARK.accountId), body: onboarding, headers: { 'api-key': MARK.otherKey } }),
    hub.call({
      as: 'mspB',
      to: 'cmpA',
      method: 'POST',
      path: paths.sendMspToken(MARK.accountId),
      body: onboarding,
      headers: { authorization: basicHeader('mspB', MARK.otherKey) },
    }),
    hub.call({ as: 'mspB', to: 'cmpA', method: 'POST', path: paths.sendMspToken(MARK.accountId), body: onboarding }),
    hub.call({
      as: 'mspA',
      to: 'cmpA',
      method: 'POST',
      path: paths.sendMspToken(MARK.accountId),
      raw: `{"phoneNumber": "${MARK.phoneNumber}", "iv": "${MARK.iv}"`,
    }),
    hub.call({ as: 'mspA', to: 'cmpA', method: 'POST', path: `${paths.sendMspToken(MARK.accountId)}/typo`, body: onboarding }),
    hub.call({ as: 'cmpA', to: 'mspA', method: 'POST', path: paths.requestActivationCode(randomUUID()), body: { ...acRequest, eid: 42 } }),
  ];
  const answers = await Promise.all(calls);
  // the sweep reached the hub: successes, and every kind of refusal
  expect(answers.map((a) => a.status)).toEqual(expect.arrayContaining([201, 200, 204, 401, 404, 422]));

  const log = world.hub.logs.join('\n');
  expect(world.hub.logs.length).toBeGreaterThan(calls.length);
  for (const [name, value] of Object.entries(MARK)) {
    expect({ name, found: log.includes(value) }).toEqual({ name, found: false });
  }
  // still useful: each request has its access line with ids and outcome
  const accessLines = world.hub.logLines().filter((l) => l.msg === 'request');
  expect(accessLines.length).toBe(calls.length);
  for (const line of accessLines) {
    expect(line).toEqual(
      expect.objectContaining({
        requestId: expect.any(String),
        client: expect.any(String),
        status: expect.any(Number),
        traceId: expect.stringMatching(/^[0-9a-f]{32}$/),
      }),
    );
  }
});

test("the partner call joins the caller's trace as a span of its own; a trace is started when none came", async () => {
  world.partners.cmpA.reset();
  const traceparent = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';
  await world.hub.call({
    as: 'mspA',
    to: 'cmpA',
    method: 'POST',
    path: paths.sendMspToken(),
    body: { msp_token: randomUUID(), phoneNumber: 'p', subscriptionType: 'private', error: null, iv: 'i' },
    headers: { traceparent },
  });
  await world.hub.call({
    as: 'mspA',
    to: 'cmpA',
    method: 'POST',
    path: paths.sendMspToken(),
    body: { msp_token: randomUUID(), phoneNumber: 'p', subscriptionType: 'private', error: null, iv: 'i' },
  });
  const [first, second] = world.partners.cmpA.received;
  expect(first.headers.traceparent).toMatch(/^00-4bf92f3577b34da6a3ce929d0e0e4736-[0-9a-f]{16}-01$/);
  expect(first.headers.traceparent).not.toBe(traceparent);
  expect(second.headers.traceparent).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/);
  expect(world.hub.logLines().some((l) => l.traceId === '4bf92f3577b34da6a3ce929d0e0e4736')).toBe(true);
});

test("issue 29.7: an unknown caller's claimed client-id is logged clipped and printable only", async () => {
  const claimed = `evil\u00e9\u00ff\t${'x'.repeat(200)}`;
  const request = [
    `GET ${paths.requestProfileStatus(randomUUID())} HTTP/1.1`,
    'Host: hub',
    'api-key: guess',
    `client-id: ${claimed}`,
    'target-id: mspA',
    `CMP-request-id: ${randomUUID()}`,
    `correlation-id: ${randomUUID()}`,
    'connection: close',
    '',
    '',
  ].join('\r\n');
  const { text } = await rawExchange(world.hub.url, [Buffer.from(request, 'latin1')]);
  expect(statusLines(text)).toEqual([401]);
  const logged = world.hub.logLines().filter((l) => typeof l.client === 'string' && l.client.startsWith('evil'));
  expect(logged.length).toBeGreaterThan(0);
  for (const line of logged) expect(line.client).toBe(`evil???${'x'.repeat(57)}...`);
});
