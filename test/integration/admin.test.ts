/**
 * The admin listener: /metrics behind basic auth with bounded labels only, health and readiness,
 * and the partner view operations use.
 */
import { randomUUID } from 'node:crypto';
import { digest } from '../../src/config/credentials';
import { FakePartner, standardReply } from '../support/fakePartner';
import { paths, requestActivationCodeBody, sendMspTokenBody, submitActivationCodeBody } from '../support/messages';
import { OwnRedis } from '../support/redisServer';
import { basicHeader, request, TestHub, type PartnerSpec } from '../support/testHub';

let hub: TestHub;
let msp: FakePartner;
let cmp: FakePartner;
/** an MSP that takes 60 ms over every answer */
let slow: FakePartner;
let specs: PartnerSpec[];
const ADMIN = { username: 'ops', passwordDigest: digest('ops-secret') };
const asOps = { authorization: basicHeader('ops', 'ops-secret') };

beforeAll(async () => {
  [msp, cmp, slow] = await Promise.all([FakePartner.start(), FakePartner.start(), FakePartner.start()]);
  slow.answer((req) => ({ ...standardReply(req), delayMs: 60 }));
  specs = [
    { id: 'mspA', role: 'msp', apiKey: 'key-mspA', upstreamUrl: msp.url },
    {
      id: 'mspDown',
      role: 'msp',
      apiKey: 'key-mspDown',
      upstreamUrl: 'http://127.0.0.1:1',
      extra: { upstream: { url: 'http://127.0.0.1:1', breaker: { volumeThreshold: 2 } } },
    },
    { id: 'mspSlow', role: 'msp', apiKey: 'key-mspSlow', upstreamUrl: slow.url },
    { id: 'cmpA', role: 'cmp', apiKey: 'key-cmpA', upstreamUrl: cmp.url },
  ];
  hub = await TestHub.start({ partners: specs, adminAuth: ADMIN, routes: { defaults: { bridge: false }, routes: [{ from: '*', to: '*' }] } });
});

afterAll(async () => {
  await hub.close();
  await Promise.all([msp.close(), cmp.close(), slow.close()]);
});

const admin = (path: string, headers: Record<string, string> = asOps) => request(`${hub.hub.adminUrl}${path}`, { headers });

test('health is open to everyone; /metrics and /admin/* need the admin credential', async () => {
  expect((await admin('/healthz', {})).body).toEqual({ status: 'alive' });
  const ready = await admin('/readyz', {});
  expect(ready.status).toBe(200);
  expect(ready.body).toEqual({ ready: true, checks: expect.objectContaining({ redis: 'reachable' }) });
  expect((await admin('/metrics', {})).status).toBe(401);
  expect((await admin('/metrics', { authorization: basicHeader('ops', 'wrong') })).status).toBe(401);
  expect((await admin('/admin/partners', {})).status).toBe(401);
  expect((await admin('/metrics')).status).toBe(200);
  const missing = await admin('/nothing');
  expect(missing.status).toBe(404);
  expect(missing.body).toEqual({ code: '204', error: 'not found' });
});

test('another method on an admin path is 405 with Allow; a trailing slash is another path', async () => {
  const posted = await request(`${hub.hub.adminUrl}/metrics`, { method: 'POST', headers: asOps });
  expect(posted.status).toBe(405);
  expect(posted.headers.get('allow')).toBe('HEAD, GET');
  expect(posted.body).toEqual({ code: '205', error: 'method not allowed; allowed: HEAD, GET' });
  expect((await admin('/healthz/', {})).status).toBe(404);
});

test("the admin listener is not the partners' listener", async () => {
  expect(hub.hub.adminUrl).not.toBe(hub.url);
  expect((await request(`${hub.url}/metrics`, {})).status).toBe(404);
});

test('metrics carry partner ids and operations, never a token, EID or request id', async () => {
  const token = randomUUID();
  const requestId = randomUUID();
  await hub.call({
    as: 'mspA',
    to: 'cmpA',
    method: 'POST',
    path: paths.sendMspToken(),
    body: sendMspTokenBody(token),
    headers: { 'CMP-request-id': requestId },
  });
  await hub.call({ as: 'cmpA', to: 'mspA', method: 'POST', path: paths.requestActivationCode(token), body: requestActivationCodeBody() });
  const text = (await admin('/metrics')).text;
  expect(text).toMatch(/aid_gateway_requests_total\{operation="requestActivationCode",client="cmpA",target="mspA",status_class="2xx"\} \d/);
  expect(text).toContain('aid_gateway_process_cpu_seconds_total');
  for (const secret of [token, requestId, '89049032000001000000000831934057']) expect(text).not.toContain(secret);
});

test('async activation codes: pending per MSP while open, turnaround once delivered', async () => {
  const token = randomUUID();
  await hub.call({ as: 'mspA', to: 'cmpA', method: 'POST', path: paths.sendMspToken(), body: sendMspTokenBody(token) });
  msp.answer(() => ({ status: 201 }));
  const requestId = randomUUID();
  expect(
    (await hub.call({ as: 'cmpA', to: 'mspA', method: 'POST', path: paths.requestActivationCode(token), body: requestActivationCodeBody(requestId) })).status,
  ).toBe(201);
  msp.reset();
  expect((await admin('/metrics')).text).toMatch(/aid_gateway_pending_activation_requests\{msp="mspA"\} 1/);
  const view = (await admin('/admin/partners')).body.partners.find((p: { id: string }) => p.id === 'mspA');
  expect(view.pendingActivationRequests).toBe(1);

  await hub.call({ as: 'mspA', to: 'cmpA', method: 'POST', path: paths.submitActivationCode(token), body: submitActivationCodeBody(requestId) });
  const text = (await admin('/metrics')).text;
  expect(text).toMatch(/aid_gateway_pending_activation_requests\{msp="mspA"\} 0/);
  expect(text).toMatch(/aid_gateway_activation_turnaround_seconds_count\{msp="mspA",mode="async"\} 1/);
});

test('the partner view: role, dialect, breaker state, recent error ratio and latency', async () => {
  for (let i = 0; i < 3; i++) await hub.call({ as: 'cmpA', to: 'mspDown', method: 'GET', path: paths.requestProfileStatus(randomUUID()) });
  await hub.call({ as: 'cmpA', to: 'mspA', method: 'GET', path: paths.requestProfileStatus(randomUUID()) });
  for (let i = 0; i < 2; i++) await hub.call({ as: 'cmpA', to: 'mspSlow', method: 'GET', path: paths.requestProfileStatus(randomUUID()) });
  const partners = (await admin('/admin/partners')).body.partners as Record<string, unknown>[];
  expect(partners.map((p) => p.id)).toEqual(['cmpA', 'mspA', 'mspDown', 'mspSlow']);
  const down = partners.find((p) => p.id === 'mspDown');
  expect(down).toEqual(expect.objectContaining({ role: 'msp', dialect: 'aid02', breaker: 'open', recent: expect.objectContaining({ errorRatio: 1 }) }));
  const up = partners.find((p) => p.id === 'mspA');
  expect(up).toEqual(expect.objectContaining({ breaker: 'closed', recent: expect.objectContaining({ errorRatio: 0, latencyMeanMs: expect.any(Number) }) }));
  expect((up?.recent as { calls: number }).calls).toBeGreaterThan(0);
  // the mean over the breaker's window: a partner that takes 60 ms over each answer cannot show
  // less
  const slowView = partners.find((p) => p.id === 'mspSlow');
  expect(slowView?.recent).toEqual(expect.objectContaining({ calls: 2, errorRatio: 0 }));
  expect((slowView?.recent as { latencyMeanMs: number }).latencyMeanMs).toBeGreaterThanOrEqual(59);
  expect((await admin('/metrics')).text).toMatch(/aid_gateway_breaker_state\{target="mspDown",operation="\*"\} 2/);
});

test('store latency and outbox depth are exported', async () => {
  const text = (await admin('/metrics')).text;
  expect(text).toMatch(/aid_gateway_store_operation_seconds_count\{store="redis",operation="checks.check"\} [1-9]/);
  expect(text).toMatch(/aid_gateway_outbox_depth\{state="ready"\} \d/);
});

test('/readyz says 503 when Redis cannot be reached', async () => {
  const redis = await OwnRedis.start();
  const own = await TestHub.start({ partners: specs, redisUrl: redis.url });
  try {
    expect((await request(`${own.hub.adminUrl}/readyz`, {})).status).toBe(200);
    await redis.kill();
    const ready = await request(`${own.hub.adminUrl}/readyz`, {});
    expect(ready.status).toBe(503);
    expect(ready.body).toEqual({ ready: false, checks: expect.objectContaining({ redis: 'unreachable' }) });
  } finally {
    await own.close();
  }
});
