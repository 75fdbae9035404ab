/**
 * Redis going away under a running hub: requests that need state get a clear 503 with code 90 and
 * Retry-After instead of hanging or a 500; when Redis is back, the hub serves again by itself.
 */
import { randomUUID } from 'node:crypto';
import { FakePartner } from '../support/fakePartner';
import { paths, requestActivationCodeBody } from '../support/messages';
import { OwnRedis } from '../support/redisServer';
import { TestHub } from '../support/testHub';

let redis: OwnRedis;
let msp: FakePartner;
let hub: TestHub;

beforeAll(async () => {
  redis = await OwnRedis.start();
  msp = await FakePartner.start();
  hub = await TestHub.start({
    partners: [
      { id: 'cmpA', role: 'cmp', apiKey: 'key-cmpA', upstreamUrl: 'http://127.0.0.1:1' },
      { id: 'mspA', role: 'msp', apiKey: 'key-mspA', upstreamUrl: msp.url },
    ],
    redisUrl: redis.url,
  });
});

afterAll(async () => {
  await hub.close();
  await msp.close();
  await redis.kill();
});

const requestCode = () =>
  hub.call({ as: 'cmpA', to: 'mspA', method: 'POST', path: paths.requestActivationCode(randomUUID()), body: requestActivationCodeBody() });

test('Redis killed: 503 code 90 with Retry-After, the partner not called; Redis back: served again', async () => {
  expect((await requestCode()).status).toBe(200);
  const calls = msp.received.length;

  await redis.kill();
  const during = await requestCode();
  expect(during.status).toBe(503);
  expect(during.body).toEqual({ code: '90', error: expect.stringContaining('state store is unavailable') });
  expect(during.headers.get('retry-after')).toBe('1');
  expect(msp.received.length).toBe(calls);
  expect(await hub.metric('aid_gateway_store_errors_total')).toBeGreaterThan(0);
  // a request whose token's binding cannot be read is refused alike, naming the step
  const bound = await hub.call({ as: 'cmpA', to: 'mspA', method: 'GET', path: paths.requestProfileStatus(randomUUID()) });
  expect(bound.status).toBe(503);
  expect(bound.body).toEqual({ code: '90', error: expect.stringContaining('request checks') });
  expect(msp.received.length).toBe(calls);
  // a wrong credential is still refused; the operator is told its failure went uncounted
  const wrongKey = await hub.call({
    as: 'cmpA',
    to: 'mspA',
    method: 'POST',
    path: paths.requestActivationCode(randomUUID()),
    body: requestActivationCodeBody(),
    headers: { 'api-key': 'not-the-key' },
  });
  expect(wrongKey.status).toBe(401);
  expect(hub.logLines().some((l) => l.msg === 'failed login not counted: state store unavailable' && typeof l.err === 'string' && l.err !== '')).toBe(true);

  await redis.startAgain();
  const deadline = Date.now() + 10000;
  let after = await requestCode();
  while (after.status !== 200 && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 100));
    after = await requestCode();
  }
  expect(after.status).toBe(200);
});
