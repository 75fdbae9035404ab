/**
 * Circuit breakers per partner upstream: a failing partner is cut off (503, code 90, Retry-After)
 * without hurting another partner, a 4xx answer never counts, half-open lets one probe through, and
 * the breaker closes when the partner is back.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomUUID } from 'node:crypto';
import { FakePartner } from '../support/fakePartner';
import { paths, requestActivationCodeBody, sendCsimStatusBody } from '../support/messages';
import { TestHub, type PartnerSpec } from '../support/testHub';
import { waitFor as until } from '../support/waitFor';

const BREAKER = { volumeThreshold: 3, errorThresholdPercentage: 50, windowMs: 10000, resetTimeoutMs: 400 };

let hub: TestHub;
// one partner per test: opossum's rolling window would carry one test's calls into the next
let flaky: FakePartner;
let failing: FakePartner;
let probed: FakePartner;
let healthy: FakePartner;
let scoped: FakePartner;
let downPort: number;

async function unusedPort(): Promise<number> {
  const probe = http.createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', () => resolve()));
  const { port } = probe.address() as AddressInfo;
  await new Promise((resolve) => probe.close(resolve));
  return port;
}

beforeAll(async () => {
  [flaky, failing, probed, healthy, scoped] = await Promise.all(Array.from({ length: 5 }, () => FakePartner.start()));
  downPort = await unusedPort();
  const partner = (id: string, url: string, breaker: Record<string, unknown> = BREAKER): PartnerSpec => ({
    id,
    role: 'msp',
    apiKey: `key-${id}`,
    upstreamUrl: url,
    extra: { upstream: { url, auth: { apiKey: `hub-key-at-${id}` }, breaker } },
  });
  hub = await TestHub.start({
    partners: [
      { id: 'cmpA', role: 'cmp', apiKey: 'key-cmpA', upstreamUrl: 'http://127.0.0.1:1' },
      // open for seconds: the test's two calls while it is open must both find it open on a loaded
      // machine, where two calls can be more than the others' 400 ms apart
      partner('mspFlaky', flaky.url, { ...BREAKER, resetTimeoutMs: 5000 }),
      partner('mspFailing', failing.url),
      partner('mspProbed', probed.url),
      partner('mspHealthy', healthy.url),
      partner('mspDown', `http://127.0.0.1:${downPort}`),
      partner('mspScoped', scoped.url, { ...BREAKER, scope: 'operation' }),
    ],
    routes: {
      defaults: { tokenBinding: 'off', timeoutMs: 300, retries: { attempts: 0 }, bridge: false },
      // a long timeout for the slow partner: calls to the healthy one must clearly finish first
      routes: [
        { from: '*', to: '*' },
        { from: 'cmpA', to: 'mspFlaky', timeoutMs: 1500 },
      ],
    },
  });
});

afterAll(async () => {
  await hub.close();
  await Promise.all([flaky, failing, probed, healthy, scoped].map((p) => p.close()));
});

const requestCode = (to: string) =>
  hub.call({ as: 'cmpA', to, method: 'POST', path: paths.requestActivationCode(randomUUID()), body: requestActivationCodeBody() });
const csimStatus = (to: string) => hub.call({ as: 'cmpA', to, method: 'POST', path: paths.sendCsimStatus(randomUUID()), body: sendCsimStatusBody() });

test('a partner refusing connections opens its breaker: 503 code 90 with Retry-After, no call made', async () => {
  for (let i = 0; i < BREAKER.volumeThreshold; i++) expect((await requestCode('mspDown')).status).toBe(502);
  const refused = await requestCode('mspDown');
  expect(refused.status).toBe(503);
  expect(refused.body).toEqual({ code: '90', error: expect.stringContaining('circuit breaker is open') });
  expect(Number(refused.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
  expect(await hub.metric('aid_gateway_breaker_state', { target: 'mspDown' })).toBe(2);
  expect(hub.logLines().some((l) => l.msg === 'circuit breaker open' && l.partner === 'mspDown')).toBe(true);
});

test('a partner that times out opens its breaker while traffic to another partner flows, and closes when it recovers', async () => {
  flaky.answer(() => ({ status: 200, delayMs: 3000, body: {} }));
  const finished: string[] = [];
  const slow = Array.from({ length: 4 }, () => requestCode('mspFlaky').then((a) => finished.push(`flaky:${a.status}`)));
  const fast = Array.from({ length: 10 }, () => requestCode('mspHealthy').then((a) => finished.push(`healthy:${a.status}`)));
  await Promise.all([...slow, ...fast]);
  // every call to the healthy partner succeeded, and none waited for the slow partner's timeouts
  expect(finished.slice(0, 10)).toEqual(Array(10).fill('healthy:200'));
  expect(finished.slice(10).every((f) => f === 'flaky:504')).toBe(true);

  const cutOff = await requestCode('mspFlaky');
  expect(cutOff.status).toBe(503);
  const callsWhileOpen = flaky.received.length;
  expect((await requestCode('mspFlaky')).status).toBe(503);
  expect(flaky.received.length).toBe(callsWhileOpen);

  flaky.reset();
  await until(async () => (await requestCode('mspFlaky')).status === 200);
  expect(await hub.metric('aid_gateway_breaker_state', { target: 'mspFlaky' })).toBe(0);
  expect((await requestCode('mspFlaky')).status).toBe(200);
});

test('5xx answers open the breaker; the 5xx answers themselves reach the caller unchanged', async () => {
  failing.answer(() => ({ status: 500, body: { code: '90', error: 'Internal Server Error' } }));
  for (let i = 0; i < BREAKER.volumeThreshold; i++) {
    const answer = await requestCode('mspFailing');
    expect(answer.status).toBe(500);
    expect(answer.body).toEqual({ code: '90', error: 'Internal Server Error' });
  }
  expect((await requestCode('mspFailing')).status).toBe(503);
  failing.reset();
  await until(async () => (await requestCode('mspFailing')).status === 200);
});

test('404 and 422 answers never open the breaker', async () => {
  healthy.reset();
  let n = 0;
  healthy.answer(() =>
    n++ % 2 === 0 ? { status: 404, body: { code: '20', error: 'The msp_token was not found' } } : { status: 422, body: { code: '49', error: 'no code' } },
  );
  for (let i = 0; i < 12; i++) expect([404, 422]).toContain((await requestCode('mspHealthy')).status);
  expect(healthy.received.length).toBe(12);
  expect(await hub.metric('aid_gateway_breaker_state', { target: 'mspHealthy' })).toBe(0);
});

test('half-open lets one probe through; the others are refused until it has answered', async () => {
  probed.answer(() => ({ status: 503, body: { code: '90', error: 'down' } }));
  for (let i = 0; i < BREAKER.volumeThreshold; i++) await requestCode('mspProbed');
  expect((await requestCode('mspProbed')).status).toBe(503);
  probed.reset();
  probed.answer(() => ({ status: 200, delayMs: 200, body: { iccid: '1', activationCode: '1$a$b', profileType: 'personal', swappedIccid: null } }));
  await new Promise((r) => setTimeout(r, BREAKER.resetTimeoutMs + 50));
  const answers = await Promise.all(Array.from({ length: 5 }, () => requestCode('mspProbed')));
  expect(answers.filter((a) => a.status === 200)).toHaveLength(1);
  expect(answers.filter((a) => a.status === 503)).toHaveLength(4);
  expect(probed.received).toHaveLength(1);
});

test("scope operation: a failing operation does not cut off the partner's other operations", async () => {
  scoped.answer((req) => (req.path.startsWith('/v1/activation-code-requests/') ? { status: 500, body: { code: '90', error: 'x' } } : undefined));
  for (let i = 0; i < BREAKER.volumeThreshold; i++) await requestCode('mspScoped');
  expect((await requestCode('mspScoped')).status).toBe(503);
  expect((await csimStatus('mspScoped')).status).toBe(201);
});
