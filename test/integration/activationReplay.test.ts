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
import { freePort } from '../support/ports';
import { TestHub } from '../support/testHub';
import { waitFor } from '../support/waitFor';

const BUDGET_MS = 300;
const plan = new FaultPlan();
let hub: TestHub;
let msp: FakePartner;
let cmp: FakePartner;
let token: string;
/** a token of mspDown's, an MSP no one listens for, whose breaker opens after three failures */
let downToken: string;
const DOWN_BREAKER = { volumeThreshold: 3, errorThresholdPercentage: 50, windowMs: 60000, resetTimeoutMs: 60000 };

beforeAll(async () => {
  [msp, cmp] = await Promise.all([FakePartner.start(), FakePartner.start()]);
  const downUrl = `http://127.0.0.1:${await freePort()}`;
  hub = await TestHub.start({
    partners: [
      // an MSP made to time out here is no failing partner: its breaker stays shut
      {
        id: 'mspA',
        role: 'msp',
        apiKey: 'key-mspA',
        upstreamUrl: msp.url,
        extra: { upstream: { url: msp.url, auth: { apiKey: 'hub-key-at-mspA' }, breaker: { volumeThreshold: 1000000 } } },
      },
      {
        id: 'mspDown',
        role: 'msp',
        apiKey: 'key-mspDown',
        upstreamUrl: downUrl,
        extra: { upstream: { url: downUrl, auth: { apiKey: 'hub-key-at-mspDown' }, breaker: DOWN_BREAKER } },
      },
      { id: 'cmpA', role: 'cmp', apiKey: 'key-cmpA', upstreamUrl: cmp.url },
    ],
    routes: {
      // strict: a token the MSP has not sent through the hub is refused (the claim test below)
      defaults: { timeoutMs: BUDGET_MS, bridge: false, retries: { attempts: 0 }, tokenBinding: 'strict' },
      routes: [
        { from: 'cmpA', to: 'mspA' },
        { from: 'cmpA', to: 'mspDown' },
        { from: 'mspA', to: 'cmpA' },
        { from: 'mspDown', to: 'cmpA' },
      ],
    },
    wrapStore: (store) => faultyStore(store, plan),
  });
  token = randomUUID();
  expect((await hub.call({ as: 'mspA', to: 'cmpA', method: 'POST', path: paths.sendMspToken(), body: sendMspTokenBody(token) })).status).toBe(201);
  downToken = randomUUID();
  expect((await hub.call({ as: 'mspDown', to: 'cmpA', method: 'POST', path: paths.sendMspToken(), body: sendMspTokenBody(downToken) })).status).toBe(201);
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

const requestCode = (requestId: string) =>
  hub.call({ as: 'cmpA', to: 'mspA', method: 'POST', path: paths.requestActivationCode(token), body: requestActivationCodeBody(requestId) });

test('an MSP that did not answer in time may still deliver the code: its Send Activation Code reaches the CMP (AID.02 7.7.2: "When the activation code is available, the MSP uses the CMP\'s API "Send activation code"")', async () => {
  msp.answer(() => ({ status: 201, delayMs: BUDGET_MS * 3 }));
  const requestId = randomUUID();
  expect((await requestCode(requestId)).status).toBe(504);
  const delivery = await hub.call({
    as: 'mspA',
    to: 'cmpA',
    method: 'POST',
    path: paths.submitActivationCode(token),
    body: submitActivationCodeBody(requestId),
  });
  expect(delivery.status).toBe(200);
  expect(cmp.received.filter((r) => r.path.startsWith('/cesim/msp/v1/activation-codes/'))).toHaveLength(1);
  // the CMP never got a 201 for it: held until the hold ran out, and the log says so
  // (docs/architecture.md: "at most 5 s; then it goes all the same, and the log says so")
  expect(hub.logLines()).toContainEqual(
    expect.objectContaining({ msg: 'the 201 of this request was not seen sent; Send Activation Code delivered all the same', holdMs: 5000 }),
  );
});

test('an MSP whose answer is no AID.02 answer may have taken the request too: its delivery still matches (AID.02 7.7.2)', async () => {
  msp.answer(() => ({ status: 500, raw: '<html>Internal error</html>', contentType: 'text/html' }));
  const requestId = randomUUID();
  expect((await requestCode(requestId)).status).toBe(502);
  const delivery = await hub.call({
    as: 'mspA',
    to: 'cmpA',
    method: 'POST',
    path: paths.submitActivationCode(token),
    body: submitActivationCodeBody(requestId),
  });
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

test('a retry that loses the store while it waits gets 503 code 90 naming the step, and is not left waiting (AID.02 5.5: 90 "Internal Server Error")', async () => {
  plan.arm(0, 'before', (name) => name !== 'ledger.finishActivation');
  const requestId = randomUUID();
  expect((await requestCode(requestId)).status).toBe(200);
  // the retry's checks read the claim in flight; its next look at the claim fails
  plan.arm(0, 'before', (name) => name !== 'ledger.claimActivation');
  const retry = await requestCode(requestId);
  expect(plan.hit).toBe('before ledger.claimActivation');
  expect(retry.status).toBe(503);
  expect(retry.body).toEqual({ code: '90', error: expect.stringContaining('claim activation request') });
  expect(msp.received).toHaveLength(1);
});

test('a request the MSP was never sent (its breaker open) is not kept: a delivery for it is refused with code 30 (AID.02 5.5: 30 "The specified request ID was not found")', async () => {
  for (let i = 0; i < DOWN_BREAKER.volumeThreshold; i++) {
    expect(
      (await hub.call({ as: 'cmpA', to: 'mspDown', method: 'POST', path: paths.requestActivationCode(downToken), body: requestActivationCodeBody() })).status,
    ).toBe(502);
  }
  const requestId = randomUUID();
  const cutOff = await hub.call({
    as: 'cmpA',
    to: 'mspDown',
    method: 'POST',
    path: paths.requestActivationCode(downToken),
    body: requestActivationCodeBody(requestId),
  });
  expect(cutOff.status).toBe(503);
  expect(cutOff.body.error).toContain('circuit breaker is open');
  const delivery = await hub.call({
    as: 'mspDown',
    to: 'cmpA',
    method: 'POST',
    path: paths.submitActivationCode(downToken),
    body: submitActivationCodeBody(requestId),
  });
  expect(delivery.status).toBe(422);
  expect(delivery.body.code).toBe('30');
});

test('a request refused before the MSP was asked leaves no claim behind: once its token is known, the same request goes through (AID.02 5.5: 20 "The msp_token was not found")', async () => {
  const early = randomUUID();
  const requestId = randomUUID();
  const ask = () => hub.call({ as: 'cmpA', to: 'mspA', method: 'POST', path: paths.requestActivationCode(early), body: requestActivationCodeBody(requestId) });
  const refused = await ask();
  expect(refused.status).toBe(404);
  expect(refused.body.code).toBe('20');
  expect((await hub.call({ as: 'mspA', to: 'cmpA', method: 'POST', path: paths.sendMspToken(), body: sendMspTokenBody(early) })).status).toBe(201);
  expect((await ask()).status).toBe(200);
  expect(msp.received.filter((r) => r.path.startsWith('/v1/activation-code-requests/'))).toHaveLength(1);
});

test('another request reusing a pending activationCodeRequestID is refused with code 39 and takes nothing from the first: its code is still delivered (AID.02 5.5: 39 "Other request ID error"; 7.7.2)', async () => {
  msp.answer((req) => (req.path.startsWith('/v1/activation-code-requests/') ? { status: 201 } : undefined));
  const requestId = randomUUID();
  expect((await requestCode(requestId)).status).toBe(201);
  plan.reset();
  const other = await hub.call({
    as: 'cmpA',
    to: 'mspA',
    method: 'POST',
    path: paths.requestActivationCode(token),
    body: { ...requestActivationCodeBody(requestId), deviceType: 'smartphone' },
  });
  expect(other.status).toBe(422);
  expect(other.body.code).toBe('39');
  // the entry is the first request's: the refused one claimed nothing, so it releases nothing
  // (rateLimitsAndChecks.ts, releaseUnused): no release is sent for it (the first's own mark of its
  // 201 may still be on its way)
  expect(plan.calls).not.toContain('ledger.finishActivation');
  const delivery = await hub.call({
    as: 'mspA',
    to: 'cmpA',
    method: 'POST',
    path: paths.submitActivationCode(token),
    body: submitActivationCodeBody(requestId),
  });
  expect(delivery.status).toBe(200);
});

test('a replayed answer is marked as one on its access line', async () => {
  const requestId = randomUUID();
  const first = await requestCode(requestId);
  const retry = await requestCode(requestId);
  expect(retry.text).toBe(first.text);
  const lines = hub
    .logLines()
    .filter((l) => l.msg === 'request' && l.operation === 'requestActivationCode' && l.requestId === retry.sent?.headers['cmp-request-id']);
  expect(lines.map((l) => l.replayed)).toEqual([true]);
});

// the partner has answered (or the request was refused before it was asked), so a ledger write that
// fails leaves the answer as it is; the log line names the write, so that an operator knows which
// activation request was left as it was (errors/storeCalls.ts)
describe('a ledger write that fails after the answer names its step', () => {
  const failedSteps = () =>
    hub
      .logLines()
      .filter((line) => line.msg === 'state bookkeeping failed after the partner answered')
      .map((line) => line.step);

  const failNext = (call: string) => plan.arm(0, 'before', (name) => name !== call);

  const expectStep = async (call: string, step: string, send: () => Promise<{ status: number }>, status: number) => {
    const before = failedSteps().length;
    failNext(call);
    expect((await send()).status).toBe(status);
    // the mark of a 201 is written once the answer has left
    await waitFor(() => failedSteps().length > before);
    expect(plan.hit).toBe(`before ${call}`);
    expect(failedSteps().slice(before)).toEqual([step]);
  };

  test('refused before the MSP was asked (its token not found): release activation request', async () => {
    const unknown = () =>
      hub.call({ as: 'cmpA', to: 'mspA', method: 'POST', path: paths.requestActivationCode(randomUUID()), body: requestActivationCodeBody() });
    await expectStep('ledger.finishActivation', 'release activation request', unknown, 404);
  });

  test('refused by the MSP: release activation request', async () => {
    msp.answer(() => ({ status: 422, body: { code: '49', error: 'Other activation code error' } }));
    await expectStep('ledger.finishActivation', 'release activation request', () => requestCode(randomUUID()), 422);
  });

  test('the MSP did not answer in time: keep activation request', async () => {
    msp.answer(() => ({ status: 201, delayMs: BUDGET_MS * 3 }));
    await expectStep('ledger.finishActivation', 'keep activation request', () => requestCode(randomUUID()), 504);
  });

  test('answered 200: keep activation answer', async () => {
    await expectStep('ledger.finishActivation', 'keep activation answer', () => requestCode(randomUUID()), 200);
  });

  test('answered 201: mark 201 sent', async () => {
    msp.answer(() => ({ status: 201 }));
    await expectStep('ledger.markPendingAnswered', 'mark 201 sent', () => requestCode(randomUUID()), 201);
  });

  test('Send Activation Code delivered: consume pending activation', async () => {
    msp.answer((req) => (req.path.startsWith('/v1/activation-code-requests/') ? { status: 201 } : undefined));
    const requestId = randomUUID();
    expect((await requestCode(requestId)).status).toBe(201);
    const deliver = () =>
      hub.call({ as: 'mspA', to: 'cmpA', method: 'POST', path: paths.submitActivationCode(token), body: submitActivationCodeBody(requestId) });
    await expectStep('ledger.consumePending', 'consume pending activation', deliver, 200);
  });
});
