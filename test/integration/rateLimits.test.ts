/**
 * Rate limits: per calling partner and per route, shared by hub instances through Redis, local
 * while Redis is away (never a 5xx); outbound limits that delay calls instead of failing them;
 * retries of idempotent operations only.
 */
import { randomUUID } from 'node:crypto';
import { FakePartner } from '../support/fakePartner';
import { paths, requestActivationCodeBody, sendCsimStatusBody } from '../support/messages';
import { OwnRedis } from '../support/redisServer';
import { TestHub, type PartnerSpec } from '../support/testHub';

let msp: FakePartner;
let slowLane: FakePartner;
let specs: PartnerSpec[];
const ROUTES = {
  defaults: { tokenBinding: 'off' },
  routes: [
    { from: 'cmpA', to: 'mspA', rateLimit: { requests: 4, perSeconds: 60 } },
    { from: 'cmpA', to: 'mspSlow', bridge: false },
    { from: 'cmpB', to: '*' },
    { from: 'cmpC', to: 'mspA', rateLimit: { requests: 4, perSeconds: 60 } },
  ],
};

beforeAll(async () => {
  [msp, slowLane] = await Promise.all([FakePartner.start(), FakePartner.start()]);
  specs = [
    { id: 'cmpA', role: 'cmp', apiKey: 'key-cmpA', upstreamUrl: 'http://127.0.0.1:1' },
    { id: 'cmpB', role: 'cmp', apiKey: 'key-cmpB', upstreamUrl: 'http://127.0.0.1:1', extra: { rateLimit: { requests: 3, perSeconds: 60 } } },
    { id: 'cmpC', role: 'cmp', apiKey: 'key-cmpC', upstreamUrl: 'http://127.0.0.1:1', extra: { rateLimit: { requests: 3, perSeconds: 60 } } },
    { id: 'mspA', role: 'msp', apiKey: 'key-mspA', upstreamUrl: msp.url },
    {
      id: 'mspSlow',
      role: 'msp',
      apiKey: 'key-mspSlow',
      upstreamUrl: slowLane.url,
      extra: { upstream: { url: slowLane.url, rateLimit: { requests: 5, perSeconds: 1, burst: 1 } } },
    },
  ];
});
afterAll(() => Promise.all([msp.close(), slowLane.close()]));

const requestCode = (hub: TestHub, as: string, to = 'mspA') =>
  hub.call({ as, to, method: 'POST', path: paths.requestActivationCode(randomUUID()), body: requestActivationCodeBody() });

test('a route limit shared by two hub instances: 429 with the AID.02 body and Retry-After once the budget is spent', async () => {
  const a = await TestHub.start({ partners: specs, routes: ROUTES });
  const b = await TestHub.start({ partners: specs, routes: ROUTES, redisKeyPrefix: a.keyPrefix });
  try {
    const statuses = [];
    for (const hub of [a, b, a, b]) statuses.push((await requestCode(hub, 'cmpA')).status);
    expect(statuses).toEqual([200, 200, 200, 200]);
    const over = await requestCode(b, 'cmpA');
    expect(over.status).toBe(429);
    expect(over.body).toEqual({ code: '206', error: expect.stringContaining('route limit allows 4 per 60 s') });
    // RFC 6585 4: Retry-After says "how long to wait before making a new request": in seconds,
    // within the limit's period
    expect(Number(over.headers.get('retry-after'))).toBeGreaterThanOrEqual(10);
    expect(Number(over.headers.get('retry-after'))).toBeLessThanOrEqual(60);
    expect((await requestCode(a, 'cmpA')).status).toBe(429);
    expect(await a.metric('aid_gateway_rate_limited_total', { client: 'cmpA', limit: 'route' })).toBe(1);
  } finally {
    await b.close();
    await a.close();
  }
});

test('a partner limit counts all its requests, to every target and operation', async () => {
  const hub = await TestHub.start({ partners: specs, routes: ROUTES });
  try {
    expect((await requestCode(hub, 'cmpB')).status).toBe(200);
    expect((await hub.call({ as: 'cmpB', to: 'mspA', method: 'POST', path: paths.sendCsimStatus(randomUUID()), body: sendCsimStatusBody() })).status).toBe(201);
    expect((await requestCode(hub, 'cmpB', 'mspSlow')).status).toBe(200);
    const over = await requestCode(hub, 'cmpB');
    expect(over.status).toBe(429);
    expect(over.body.error).toContain('partner limit');
    // another caller is not affected
    expect((await requestCode(hub, 'cmpA')).status).toBe(200);
  } finally {
    await hub.close();
  }
});

test("each partner's and each route's limit is its own: one spent refuses no one else", async () => {
  const hub = await TestHub.start({ partners: specs, routes: ROUTES });
  try {
    for (let i = 0; i < 4; i++) expect((await requestCode(hub, 'cmpA')).status).toBe(200);
    expect((await requestCode(hub, 'cmpA')).status).toBe(429);
    for (let i = 0; i < 3; i++) expect((await requestCode(hub, 'cmpB')).status).toBe(200);
    expect((await requestCode(hub, 'cmpB')).status).toBe(429);
    // cmpC has a partner limit like cmpB's and a route to mspA limited like cmpA's
    expect((await requestCode(hub, 'cmpC')).status).toBe(200);
  } finally {
    await hub.close();
  }
});

test('Redis stopped mid-test: limits go local, no 5xx', async () => {
  const redis = await OwnRedis.start();
  const hub = await TestHub.start({ partners: specs, routes: ROUTES, redisUrl: redis.url });
  const csim = () => hub.call({ as: 'cmpA', to: 'mspA', method: 'POST', path: paths.sendCsimStatus(randomUUID()), body: sendCsimStatusBody() });
  try {
    expect((await csim()).status).toBe(201);
    await redis.kill();
    // the local count starts afresh: four pass, the fifth is refused; never a 5xx
    const during = [];
    for (let i = 0; i < 5; i++) during.push((await csim()).status);
    expect(during).toEqual([201, 201, 201, 201, 429]);
    expect(await hub.metric('aid_gateway_rate_limit_local_fallbacks_total')).toBeGreaterThan(0);
    // the operator is told what went unchecked, and why
    expect(hub.logLines().some((l) => l.msg === 'request id not checked: state store unavailable' && typeof l.err === 'string' && l.err !== '')).toBe(true);
  } finally {
    await hub.close();
  }
});

test('an outbound limit delays calls to the partner instead of failing them, up to half their time', async () => {
  const hub = await TestHub.start({ partners: specs, routes: ROUTES });
  slowLane.reset();
  try {
    // 5 per second, one at a time: four calls at once are spread out, and all succeed
    const answers = await Promise.all(Array.from({ length: 4 }, () => requestCode(hub, 'cmpA', 'mspSlow')));
    expect(answers.map((a) => a.status)).toEqual([200, 200, 200, 200]);
    expect(slowLane.received.length).toBe(4);
    expect(await hub.metric('aid_gateway_outbound_rate_limit_delay_seconds_count', {})).toBe(4);
    expect(await hub.metric('aid_gateway_outbound_rate_limit_delay_seconds_sum', {})).toBeGreaterThan(0);
    // a queue longer than half of a call's 3 s budget is refused at once, with Retry-After
    const burst = await Promise.all(Array.from({ length: 20 }, () => requestCode(hub, 'cmpA', 'mspSlow')));
    const busy = burst.filter((a) => a.status === 503);
    expect(busy.length).toBeGreaterThan(0);
    expect(busy[0].body).toEqual({ code: '90', error: expect.stringContaining('rate limit') });
    expect(burst.every((a) => a.status === 200 || a.status === 503)).toBe(true);
  } finally {
    await hub.close();
  }
});

test('idempotent operations are retried after a failure; Request Activation Code never is', async () => {
  // a breaker that does not open within this test: the failures here are the retries' own
  const patient = specs.map((p) => (p.id === 'mspA' ? { ...p, extra: { upstream: { url: msp.url, breaker: { volumeThreshold: 100 } } } } : p));
  const hub = await TestHub.start({
    partners: patient,
    routes: { defaults: { tokenBinding: 'off', retries: { attempts: 2, baseDelayMs: 10 } }, routes: [{ from: '*', to: '*' }] },
  });
  try {
    msp.reset();
    let calls = 0;
    msp.answer(() => (++calls < 3 ? { status: 503, body: { code: '90', error: 'busy' } } : undefined));
    const status = await hub.call({ as: 'cmpA', to: 'mspA', method: 'GET', path: paths.requestProfileStatus(randomUUID()) });
    expect(status.status).toBe(200);
    expect(msp.received.length).toBe(3);
    expect(await hub.metric('aid_gateway_upstream_retries_total', { operation: 'requestProfileStatus' })).toBe(2);

    msp.reset();
    msp.answer(() => ({ status: 503, body: { code: '90', error: 'busy' } }));
    const invalidate = await hub.call({ as: 'cmpA', to: 'mspA', method: 'DELETE', path: paths.requestInvalidateFederatedID(randomUUID()) });
    // 503 is no status of Request Invalidate MSP Token (Annex B.2): the last answer is the hub's 502
    expect(invalidate.status).toBe(502);
    expect(invalidate.body.code).toBe('90');
    expect(msp.received.length).toBe(3);

    msp.reset();
    msp.answer(() => ({ status: 500, body: { code: '90', error: 'boom' } }));
    expect((await requestCode(hub, 'cmpA')).status).toBe(500);
    expect((await hub.call({ as: 'cmpA', to: 'mspA', method: 'POST', path: paths.sendCsimStatus(randomUUID()), body: sendCsimStatusBody() })).status).toBe(500);
    expect(msp.received.length).toBe(2);
  } finally {
    msp.reset();
    await hub.close();
  }
});
