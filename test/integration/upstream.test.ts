/**
 * Partners that are down, slow or answer outside the spec: the hub's own 502/504 with code 90, and
 * response validation that counts, logs, and refuses where the route says so.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomUUID } from 'node:crypto';
import { FakePartner } from '../support/fakePartner';
import { paths, requestActivationCodeBody, sendCsimStatusBody } from '../support/messages';
import { TestHub, type PartnerSpec } from '../support/testHub';

let hub: TestHub;
let msp: FakePartner;
let strictMsp: FakePartner;
/** answers too large to take: its breaker opens, so it is nobody else's */
let bigMsp: FakePartner;
let closedPort: number;

beforeAll(async () => {
  [msp, strictMsp, bigMsp] = await Promise.all([FakePartner.start(), FakePartner.start(), FakePartner.start()]);
  // a port that was just free: nothing listens there, so connections are refused
  const probe = http.createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', () => resolve()));
  closedPort = (probe.address() as AddressInfo).port;
  await new Promise((resolve) => probe.close(resolve));
  const specs: PartnerSpec[] = [
    { id: 'cmpA', role: 'cmp', apiKey: 'key-cmpA', upstreamUrl: 'http://127.0.0.1:1' },
    { id: 'mspUp', role: 'msp', apiKey: 'key-mspUp', upstreamUrl: msp.url },
    { id: 'mspStrict', role: 'msp', apiKey: 'key-mspStrict', upstreamUrl: strictMsp.url },
    { id: 'mspDown', role: 'msp', apiKey: 'key-mspDown', upstreamUrl: `http://127.0.0.1:${closedPort}` },
    { id: 'mspBig', role: 'msp', apiKey: 'key-mspBig', upstreamUrl: bigMsp.url },
  ];
  hub = await TestHub.start({
    partners: specs,
    routes: {
      defaults: { tokenBinding: 'off', bridge: false },
      routes: [
        { from: 'cmpA', to: 'mspUp', timeoutMs: 300 },
        { from: 'cmpA', to: 'mspDown' },
        { from: 'cmpA', to: 'mspBig' },
        { from: 'cmpA', to: 'mspStrict', responseValidation: 'refuse', timeoutMs: 300 },
      ],
    },
  });
});

afterAll(async () => {
  await hub.close();
  await Promise.all([msp.close(), strictMsp.close(), bigMsp.close()]);
});
beforeEach(() => [msp, strictMsp].forEach((p) => p.reset()));

const requestCode = (to: string) =>
  hub.call({ as: 'cmpA', to, method: 'POST', path: paths.requestActivationCode(randomUUID()), body: requestActivationCodeBody() });

test('a partner that refuses connections: 502 with code 90, counted', async () => {
  const answer = await requestCode('mspDown');
  expect(answer.status).toBe(502);
  expect(answer.body).toEqual({ code: '90', error: expect.stringContaining('connection refused') });
  expect(await hub.metric('aid_gateway_upstream_requests_total', { target: 'mspDown', outcome: 'refused' })).toBeGreaterThan(0);
});

test('a partner that does not answer within the route timeout: 504 with code 90', async () => {
  msp.answer(() => ({ status: 200, delayMs: 1500, body: {} }));
  const answer = await requestCode('mspUp');
  expect(answer.status).toBe(504);
  expect(answer.body).toEqual({ code: '90', error: expect.stringContaining('300 ms') });
});

test('a partner that answers at once but sends its body slower than the route timeout: 504 with code 90', async () => {
  // the headers come in time; the body drips a space every 100 ms for 1.5 s: the budget covers the
  // whole answer, not each piece of it
  const drip = http.createServer((req, res) => {
    req.resume();
    res.writeHead(200, { 'content-type': 'application/json' });
    res.write('{');
    const timer = setInterval(() => res.write(' '), 100);
    setTimeout(() => {
      clearInterval(timer);
      res.end('}');
    }, 1500);
    res.on('close', () => clearInterval(timer));
  });
  await new Promise<void>((resolve) => drip.listen(0, '127.0.0.1', () => resolve()));
  const dripUrl = `http://127.0.0.1:${(drip.address() as AddressInfo).port}`;
  const dripHub = await TestHub.start({
    partners: [
      { id: 'cmpA', role: 'cmp', apiKey: 'key-cmpA', upstreamUrl: 'http://127.0.0.1:1' },
      { id: 'mspDrip', role: 'msp', apiKey: 'key-mspDrip', upstreamUrl: dripUrl },
    ],
    routes: { defaults: { tokenBinding: 'off', bridge: false }, routes: [{ from: 'cmpA', to: 'mspDrip', timeoutMs: 300 }] },
  });
  try {
    const answer = await dripHub.call({
      as: 'cmpA',
      to: 'mspDrip',
      method: 'POST',
      path: paths.requestActivationCode(randomUUID()),
      body: requestActivationCodeBody(),
    });
    expect(answer.status).toBe(504);
    expect(answer.body).toEqual({ code: '90', error: expect.stringContaining('300 ms') });
  } finally {
    await dripHub.close();
    drip.closeAllConnections();
    await new Promise((resolve) => drip.close(resolve));
  }
});

test('an answer larger than 1 MiB is not taken, with or without a declared length: 502 with code 90', async () => {
  const huge = `{"profiles":[],"x":"${'a'.repeat(2 * 1024 * 1024)}"}`;
  const declared: Record<string, string> = {};
  for (const headers of [declared, { 'transfer-encoding': 'chunked' }]) {
    bigMsp.answer(() => ({ status: 200, raw: huge, headers }));
    const answer = await requestCode('mspBig');
    expect(answer.status).toBe(502);
    expect(answer.body).toEqual({ code: '90', error: expect.stringContaining('exceeds 1048576 bytes') });
  }
  expect(await hub.metric('aid_gateway_upstream_requests_total', { target: 'mspBig', outcome: 'tooLarge' })).toBe(2);
});

test('a slow partner does not hold up calls to another partner', async () => {
  msp.answer(() => ({ status: 200, delayMs: 1500, body: {} }));
  const slow = requestCode('mspUp');
  const other = await requestCode('mspStrict');
  expect(other.status).toBe(200);
  expect((await slow).status).toBe(504);
});

test('a partner error answer (500 with the AID.02 body) is passed through, not replaced', async () => {
  msp.answer(() => ({ status: 500, body: { code: '90', error: 'Internal Server Error' } }));
  const answer = await hub.call({ as: 'cmpA', to: 'mspUp', method: 'POST', path: paths.sendCsimStatus(randomUUID()), body: sendCsimStatusBody() });
  expect(answer.status).toBe(500);
  expect(answer.body).toEqual({ code: '90', error: 'Internal Server Error' });
});

describe('response validation', () => {
  const badCode = { iccid: '8949000000000000001', activationCode: '1$x$y', profileType: 'business', swappedIccid: null };

  test('warn: a non-conforming answer is passed on, counted and logged', async () => {
    msp.answer(() => ({ status: 200, body: badCode }));
    const before = await hub.metric('aid_gateway_validation_failures_total', { direction: 'response', operation: 'requestActivationCode' });
    const answer = await requestCode('mspUp');
    expect(answer.status).toBe(200);
    expect(answer.body).toEqual(badCode);
    expect(await hub.metric('aid_gateway_validation_failures_total', { direction: 'response', operation: 'requestActivationCode' })).toBe(before + 1);
    const warning = hub.logLines().find((l) => l.msg === 'partner answer does not conform to AID.02' && String(l.problems).includes('profileType'));
    expect(warning).toBeDefined();
  });

  test('refuse: the caller gets 502 code 90 saying what was wrong', async () => {
    strictMsp.answer(() => ({ status: 200, body: badCode }));
    const answer = await requestCode('mspStrict');
    expect(answer.status).toBe(502);
    expect(answer.body).toEqual({ code: '90', error: expect.stringContaining('profileType') });
  });

  test.each([
    ['an undocumented status', { status: 418, body: { code: '1', error: 'teapot' } }],
    ['a body that is not JSON', { status: 200, raw: '<html>', contentType: 'text/html' }],
    ['an error body without code', { status: 404, body: { error: 'no' } }],
    ['a missing swappedIccid', { status: 200, body: { activationCode: '1$x$y', profileType: 'personal' } }],
  ])('refuse: %s is refused', async (_what, reply) => {
    strictMsp.answer(() => reply);
    const answer = await requestCode('mspStrict');
    expect(answer.status).toBe(502);
  });

  test('refuse: a conforming answer passes', async () => {
    expect((await requestCode('mspStrict')).status).toBe(200);
  });
});
