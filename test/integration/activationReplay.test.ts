/**
 * How a Request Activation Code that did not end cleanly is kept (pipeline/idempotency.ts): an MSP
 * that never answered may still deliver the code, so the request stays open to its delivery; a call
 * whose end the store never heard is not made twice while its claim holds; a replay is marked as
 * one. Over the real Redis store, with one store call made to fail where a test arms it
 * (test/support/faultyStore.ts).
 */
import { randomUUID } from 'node:crypto';
import { FakePartner } from '../support/fakePartner';
import { FaultPlan, faultyStore } from '../support/faultyStore';
import { paths, requestActivationCodeBody, sendMspTokenBody, submitActivationCodeBody } from '../support/messages';
import { TestHub } from '../support/testHub';

const BUDGET_MS = 300;
const plan = new FaultPlan();
let hub: TestHub;
let msp: FakePartner;
let cmp: FakePartner;
let token: string;

beforeAll(async () => {
  [msp, cmp] = await Promise.all([FakePartner.start(), FakePartner.start()]);
  hub = await TestHub.start({
    partners: [
      // an MSP made to time out here is no failing partner: its breaker stays shut
      { id: 'mspA', role: 'msp', apiKey: 'key-mspA', upstreamUrl: msp.url, extra: { upstream: { url: msp.url, auth: { apiKey: 'hub-key-at-mspA' }, breaker: { volumeThreshold: 1000000 } } } },
      { id: 'cmpA', role: 'cmp', apiKey: 'key-cmpA', upstreamUrl: cmp.url },
    ],
    routes: { routes: [{ from: 'cmpA', to: 'mspA', timeoutMs: BUDGET_MS, bridge: false, retries: { attempts: 0 } }, { from: 'mspA', to: 'cmpA' }] },
    wrapStore: (store) => faultyStore(store, plan),
  });
  token = randomUUID();
  expect((await hub.call({ as: 'mspA', to: 'cmpA', method: 'POST', path: paths.sendMspToken(), body: sendMspTokenBody(token) })).status).toBe(201);
});

afterAll(async () => {
  await hub?.close();
  await Promise.all([msp?.close(), cmp?.close()]);
});

beforeEach(() => {
  plan.reset();
  msp.reset();
  cmp.reset();
});

const requestCode = (requestId: string) => hub.call({ as: 'cmpA', to: 'mspA', method: 'POST', path: paths.requestActivationCode(token), body: requestActivationCodeBody(requestId) });

test('an MSP that did not answer in time may still deliver the code: its Send Activation Code reaches the CMP (AID.02 7.7.2: "When the activation code is available, the MSP uses the CMP\'s API "Send activation code"")', async () => {
  msp.answer(() => ({ status: 201, delayMs: BUDGET_MS * 3 }));
  const requestId = randomUUID();
  expect((await requestCode(requestId)).status).toBe(504);
  const delivery = await hub.call({ as: 'mspA', to: 'cmpA', method: 'POST', path: paths.submitActivationCode(token), body: submitActivationCodeBody(requestId) });
  expect(delivery.status).toBe(200);
  expect(cmp.received.filter((r) => r.path.startsWith('/cesim/msp/v1/activation-codes/'))).toHaveLength(1);
});

test('an MSP whose answer is no AID.02 answer may have taken the request too: its delivery still matches (AID.02 7.7.2)', async () => {
  msp.answer(() => ({ status: 500, raw: '<html>Internal error</html>', contentType: 'text/html' }));
  const requestId = randomUUID();
  expect((await requestCode(requestId)).status).toBe(502);
  const delivery = await hub.call({ as: 'mspA', to: 'cmpA', method: 'POST', path: paths.submitActivationCode(token), body: submitActivationCodeBody(requestId) });
  expect(delivery.status).toBe(200);
});

test('a retry while the first call\'s end was never kept waits no longer than the budget: 503 code 90 with Retry-After, the MSP not asked twice (AID.02 5.5: 90 "Internal Server Error"; RFC 9110 10.2.3)', async () => {
  // the call's outcome is lost: its entry stays in flight until its claim runs out
  plan.arm(0, 'before', (name) => name !== 'ledger.finishActivation');
  const requestId = randomUUID();
  expect((await requestCode(requestId)).status).toBe(200);
  expect(plan.hit).toBe('before ledger.finishActivation');
  const retry = await requestCode(requestId);
  expect(retry.status).toBe(503);
  expect(retry.body.code).toBe('90');
  expect(retry.headers.get('retry-after')).toBe('1');
  expect(msp.received).toHaveLength(1);
});

test('a replayed answer is marked as one on its access line', async () => {
  const requestId = randomUUID();
  const first = await requestCode(requestId);
  const retry = await requestCode(requestId);
  expect(retry.text).toBe(first.text);
  const lines = hub.logLines().filter((l) => l.msg === 'request' && l.operation === 'requestActivationCode' && l.requestId === retry.sent?.headers['cmp-request-id']);
  expect(lines.map((l) => l.replayed)).toEqual([true]);
});
