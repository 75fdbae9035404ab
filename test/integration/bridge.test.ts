/**
 * The sync-to-async bridge: an MSP slower than the CMP's budget gets the CMP a 201 at once, and
 * later exactly one Send Activation Code with the same activationCodeRequestID: the code, or the
 * error. Deliveries wait out a CMP that is down.
 */
import { randomUUID } from 'node:crypto';
import { FakePartner, type Received } from '../support/fakePartner';
import { paths, requestActivationCodeBody, sendMspTokenBody, submitActivationCodeBody } from '../support/messages';
import { restartablePort } from '../support/ports';
import { TestHub, type PartnerSpec } from '../support/testHub';
import { waitFor } from '../support/waitFor';

const BUDGET_MS = 300;
const BRIDGE_MS = 1500;

let hub: TestHub;
let msp: FakePartner;
let cmp: FakePartner;
let specs: PartnerSpec[];

beforeAll(async () => {
  // the CMP goes down and comes back on its port in one test
  [msp, cmp] = await Promise.all([FakePartner.start(), FakePartner.start(await restartablePort())]);
  specs = [
    { id: 'mspA', role: 'msp', apiKey: 'key-mspA', upstreamUrl: msp.url },
    // a breaker that soon lets a probe through again: the CMP comes back in one test
    {
      id: 'cmpA',
      role: 'cmp',
      apiKey: 'key-cmpA',
      upstreamUrl: cmp.url,
      extra: { upstream: { url: cmp.url, auth: { apiKey: 'hub-key-at-cmpA' }, breaker: { resetTimeoutMs: 100 } } },
    },
  ];
  hub = await TestHub.start({
    partners: specs,
    routes: {
      settings: { outboxPollMs: 50, outboxRetryBaseMs: 100, outboxRetryMaxMs: 400 },
      routes: [
        { from: 'cmpA', to: 'mspA', timeoutMs: BUDGET_MS, bridgeTimeoutMs: BRIDGE_MS },
        { from: 'mspA', to: 'cmpA' },
      ],
    },
  });
});

afterAll(async () => {
  await hub.close();
  await Promise.all([msp.close(), cmp.close()]);
});

beforeEach(() => [msp, cmp].forEach((p) => p.reset()));

async function onboard(): Promise<string> {
  const token = randomUUID();
  expect((await hub.call({ as: 'mspA', to: 'cmpA', method: 'POST', path: paths.sendMspToken(), body: sendMspTokenBody(token) })).status).toBe(201);
  cmp.reset();
  return token;
}

const deliveriesAt = (partner: FakePartner): Received[] => partner.received.filter((r) => r.path.startsWith('/cesim/msp/v1/activation-codes/'));

/** until the bridge's deadline entry has come due and been handled: nothing more may arrive */
const pastTheDeadline = () => new Promise((r) => setTimeout(r, BRIDGE_MS + 1500));

async function requestSlowly(token: string, requestId: string, correlationId: string) {
  return hub.call({
    as: 'cmpA',
    to: 'mspA',
    method: 'POST',
    path: paths.requestActivationCode(token),
    body: requestActivationCodeBody(requestId),
    headers: { 'correlation-id': correlationId },
  });
}

test('slow MSP: 201 within the budget, then exactly one Send Activation Code with the code', async () => {
  const token = await onboard();
  const enqueuedBefore = await hub.metric('aid_gateway_outbox_events_total', { target: 'cmpA', event: 'enqueued' });
  const turnaroundsBefore = await hub.metric('aid_gateway_activation_turnaround_seconds_count', { msp: 'mspA', mode: 'bridged' });
  const turnaroundBefore = await hub.metric('aid_gateway_activation_turnaround_seconds_sum', { msp: 'mspA', mode: 'bridged' });
  const code = { iccid: '8949000000000000077', activationCode: '1$smdp.example$LATE', profileType: 'personal', swappedIccid: null };
  msp.answer(() => ({ status: 200, delayMs: 700, body: code }));
  const requestId = randomUUID();
  const correlationId = randomUUID();
  const answer = await requestSlowly(token, requestId, correlationId);
  expect(answer.status).toBe(201);
  expect(answer.text).toBe('');

  await waitFor(() => deliveriesAt(cmp).length > 0);
  const [delivery] = deliveriesAt(cmp);
  expect(delivery.path).toBe(paths.submitActivationCode(token));
  expect(delivery.body).toEqual({
    activationCode: code.activationCode,
    profileType: 'personal',
    activationCodeRequestID: requestId,
    error: null,
    iccid: code.iccid,
    swappedIccid: null,
  });
  expect(delivery.headers['client-id']).toBe('mspA');
  expect(delivery.headers['target-id']).toBe('cmpA');
  expect(delivery.headers['correlation-id']).toBe(correlationId);
  expect(delivery.headers['api-key']).toBe('hub-key-at-cmpA');

  await pastTheDeadline();
  expect(deliveriesAt(cmp)).toHaveLength(1);
  expect(await hub.metric('aid_gateway_activation_bridges_total', { outcome: 'code' })).toBe(1);
  // what operators see of it: the line that says the CMP was answered 201, the delivery queued,
  // the request's turnaround (in seconds: this one took a few, not thousands)
  expect(hub.logLines()).toContainEqual(
    expect.objectContaining({ msg: 'MSP slower than the budget: answered 201, the outcome follows', msp: 'mspA', budgetMs: BUDGET_MS }),
  );
  expect(await hub.metric('aid_gateway_outbox_events_total', { target: 'cmpA', event: 'enqueued' })).toBe(enqueuedBefore + 1);
  expect(await hub.metric('aid_gateway_activation_turnaround_seconds_count', { msp: 'mspA', mode: 'bridged' })).toBe(turnaroundsBefore + 1);
  const turnaround = (await hub.metric('aid_gateway_activation_turnaround_seconds_sum', { msp: 'mspA', mode: 'bridged' })) - turnaroundBefore;
  expect(turnaround).toBeGreaterThan(0);
  expect(turnaround).toBeLessThan(600);
});

test('a retry of the bridged request gets the same 201 and asks the MSP nothing more', async () => {
  const token = await onboard();
  msp.answer(() => ({ status: 200, delayMs: 700, body: { iccid: '1', activationCode: '1$a$b', profileType: 'personal', swappedIccid: null } }));
  const requestId = randomUUID();
  const correlationId = randomUUID();
  expect((await requestSlowly(token, requestId, correlationId)).status).toBe(201);
  expect((await requestSlowly(token, requestId, correlationId)).status).toBe(201);
  await waitFor(() => deliveriesAt(cmp).length > 0);
  expect(msp.received).toHaveLength(1);
});

test('failing MSP: one Send Activation Code with error set and the other fields null', async () => {
  const token = await onboard();
  const errorsBefore = await hub.metric('aid_gateway_activation_bridges_total', { outcome: 'error' });
  msp.answer(() => ({ status: 422, delayMs: 600, body: { code: '49', error: 'Other activation code error' } }));
  const requestId = randomUUID();
  expect((await requestSlowly(token, requestId, randomUUID())).status).toBe(201);
  await waitFor(() => deliveriesAt(cmp).length > 0);
  expect(deliveriesAt(cmp)[0].body).toEqual({
    activationCode: null,
    profileType: null,
    activationCodeRequestID: requestId,
    error: '49: Other activation code error',
    iccid: null,
    swappedIccid: null,
  });
  await pastTheDeadline();
  expect(deliveriesAt(cmp)).toHaveLength(1);
  expect(await hub.metric('aid_gateway_activation_bridges_total', { outcome: 'error' })).toBe(errorsBefore + 1);
});

test('an MSP that never answers: one Send Activation Code with the error, after the bridge timeout', async () => {
  const token = await onboard();
  msp.answer(() => ({ status: 200, delayMs: 10000, body: {} }));
  const requestId = randomUUID();
  expect((await requestSlowly(token, requestId, randomUUID())).status).toBe(201);
  await waitFor(() => deliveriesAt(cmp).length > 0);
  const [delivery] = deliveriesAt(cmp);
  expect(delivery.body).toEqual(
    expect.objectContaining({ activationCodeRequestID: requestId, activationCode: null, error: expect.stringMatching(/^90: The MSP could not be reached: /) }),
  );
  await pastTheDeadline();
  expect(deliveriesAt(cmp)).toHaveLength(1);
});

// AID.02 7.7.2: "If an error occurs during processing, the MSP uses the CMP's API "Send activation
// code" to deliver the error description to the CMP": what the hub tells the CMP for an MSP that
// answered late without a code
test.each([
  ['a 200 without an activation code', { status: 200, body: { iccid: '8949000000000000079' } }, '90: The MSP answered without an activation code'],
  [
    'a 200 with an activation code but no profile type',
    { status: 200, body: { activationCode: '1$smdp.example$HALF' } },
    '90: The MSP answered without an activation code',
  ],
  ['a 200 with a profile type but no activation code', { status: 200, body: { profileType: 'personal' } }, '90: The MSP answered without an activation code'],
  ['a 503 that is no AID.02 error body', { status: 503, raw: '<html>maintenance</html>', contentType: 'text/html' }, '90: The MSP answered 503'],
  ['a 422 with a code but no error text', { status: 422, body: { code: '49' } }, '90: The MSP answered 422'],
  ['a 422 with an error text but no code', { status: 422, body: { error: 'Other activation code error' } }, '90: The MSP answered 422'],
  // AID.02 7.7.1: the code comes with a 200; another status is no code whatever its body holds
  [
    'a 202 whose body looks like a code',
    { status: 202, body: { activationCode: '1$smdp.example$NOT200', profileType: 'personal' } },
    '90: The MSP answered 202',
  ],
])("a slow MSP's late %s reaches the CMP as one Send Activation Code with the error described (AID.02 7.7.2)", async (_what, reply, error) => {
  const token = await onboard();
  msp.answer(() => ({ ...reply, delayMs: 600 }));
  const requestId = randomUUID();
  expect((await requestSlowly(token, requestId, randomUUID())).status).toBe(201);
  await waitFor(() => deliveriesAt(cmp).length > 0);
  expect(deliveriesAt(cmp)[0].body).toEqual({
    activationCode: null,
    profileType: null,
    activationCodeRequestID: requestId,
    error,
    iccid: null,
    swappedIccid: null,
  });
});

test('a slow MSP that goes asynchronous itself (a late 201) delivers its own code, once; the hub tells the CMP nothing of its own (AID.02 7.7.2: "When the activation code is available, the MSP uses the CMP\'s API "Send activation code"")', async () => {
  const token = await onboard();
  const asyncBefore = await hub.metric('aid_gateway_activation_bridges_total', { outcome: 'msp_async' });
  const holdsRunOut = () => hub.logLines().filter((l) => String(l.msg).startsWith('the 201 of this request was not seen sent')).length;
  const holdsBefore = holdsRunOut();
  msp.answer(() => ({ status: 201, delayMs: 600 }));
  const requestId = randomUUID();
  expect((await requestSlowly(token, requestId, randomUUID())).status).toBe(201);
  await waitFor(async () => (await hub.metric('aid_gateway_activation_bridges_total', { outcome: 'msp_async' })) === asyncBefore + 1);
  const delivery = await hub.call({
    as: 'mspA',
    to: 'cmpA',
    method: 'POST',
    path: paths.submitActivationCode(token),
    body: submitActivationCodeBody(requestId),
  });
  expect(delivery.status).toBe(200);
  // the CMP had the hub's 201 before the MSP went asynchronous: its delivery is not held for it
  // (AID.02 7.7.2 Note: "the CMP has the 201 before it gets Send Activation Code")
  expect(holdsRunOut()).toBe(holdsBefore);
  await pastTheDeadline();
  expect(deliveriesAt(cmp).map((d) => (d.body as { activationCode: string | null }).activationCode)).toEqual([
    submitActivationCodeBody(requestId).activationCode,
  ]);
});

test('an MSP within the budget is answered directly, nothing bridged', async () => {
  const token = await onboard();
  const answer = await requestSlowly(token, randomUUID(), randomUUID());
  expect(answer.status).toBe(200);
  await new Promise((r) => setTimeout(r, 300));
  expect(deliveriesAt(cmp)).toHaveLength(0);
});

test('the CMP is down when the delivery is due: delivered after it comes back, with the same ids', async () => {
  const token = await onboard();
  const port = cmp.port;
  await cmp.close();
  msp.answer(() => ({
    status: 200,
    delayMs: 500,
    body: { iccid: '8949000000000000078', activationCode: '1$a$DOWN', profileType: 'personal', swappedIccid: null },
  }));
  const requestId = randomUUID();
  expect((await requestSlowly(token, requestId, randomUUID())).status).toBe(201);
  await waitFor(() => false, 1200).catch(() => undefined);
  expect(await hub.metric('aid_gateway_outbox_events_total', { event: 'retried' })).toBeGreaterThan(0);
  cmp = await FakePartner.start(port);
  await waitFor(() => deliveriesAt(cmp).length > 0);
  expect(deliveriesAt(cmp)[0].body).toEqual(expect.objectContaining({ activationCodeRequestID: requestId, activationCode: '1$a$DOWN' }));
});
