/**
 * Every transition of an activation request, and of the outbox, survives a store call whose answer
 * was lost (it ran, the hub never heard: a timeout, a failover, a connection reset) and one that
 * failed before it ran. Each path is walked once to number its store calls, then once per call and
 * fault, over the real Redis store (test/support/faultyStore.ts), with partners that try a 503
 * again after its Retry-After, with the same message and CMP-request-id. After each walk the CMP
 * has heard of the request exactly once (AID.02 7.7.2: after a 201, "when the activation code is
 * available" it is delivered with Send activation code, and "if an error occurs during processing"
 * the error description is), the outbox is empty, and no request is left bridged or pending.
 */
import { randomUUID } from 'node:crypto';
import { createClient } from 'redis';
import { FakePartner, type Received, type Reply } from '../support/fakePartner';
import { FaultPlan, faultyStore, type Fault } from '../support/faultyStore';
import { paths, requestActivationCodeBody, sendCsimStatusBody, sendMspTokenBody, submitActivationCodeBody } from '../support/messages';
import { REDIS_URL } from '../support/redis';
import { TestHub, type Answer, type CallOptions } from '../support/testHub';
import { waitFor } from '../support/waitFor';

const BUDGET_MS = 100;
const BRIDGE_MS = 300;
const CODE = { iccid: '8949000000000000001', activationCode: '1$smdp.example.com$LOST-ANSWERS', profileType: 'personal', swappedIccid: null };

const plan = new FaultPlan();
let hub: TestHub;
let msp: FakePartner;
let cmp: FakePartner;
let redis: ReturnType<typeof createClient>;
let token: string;
/** how the MSP answers each activationCodeRequestID */
const mspReplies = new Map<string, Reply>();

beforeAll(async () => {
  [msp, cmp] = await Promise.all([FakePartner.start(), FakePartner.start()]);
  msp.answer((req) => {
    const id = (req.body as { activationCodeRequestID?: string } | undefined)?.activationCodeRequestID;
    return req.path.startsWith('/v1/activation-code-requests/') && id ? mspReplies.get(id) : undefined;
  });
  hub = await TestHub.start({
    partners: [
      // an MSP past the bridge's deadline in walk after walk is no failing partner here: its breaker stays shut
      {
        id: 'mspA',
        role: 'msp',
        apiKey: 'key-mspA',
        upstreamUrl: msp.url,
        extra: { upstream: { url: msp.url, auth: { apiKey: 'hub-key-at-mspA' }, breaker: { volumeThreshold: 1000000 } } },
      },
      { id: 'cmpA', role: 'cmp', apiKey: 'key-cmpA', upstreamUrl: cmp.url },
    ],
    routes: {
      // no other instance claims what this one took: a read whose answer was lost, this worker
      // takes back itself on its next round (a failover must not hold deliveries for the claim time)
      settings: { outboxPollMs: 20, outboxRetryBaseMs: 50, outboxRetryMaxMs: 200, outboxClaimIdleMs: 3600000 },
      routes: [
        { from: 'cmpA', to: 'mspA', timeoutMs: BUDGET_MS, bridgeTimeoutMs: BRIDGE_MS, storeAndForward: true },
        { from: 'mspA', to: 'cmpA' },
      ],
    },
    wrapStore: (store) => faultyStore(store, plan),
  });
  redis = createClient({ url: REDIS_URL });
  await redis.connect();
  token = randomUUID();
  expect((await patiently({ as: 'mspA', to: 'cmpA', method: 'POST', path: paths.sendMspToken(), body: sendMspTokenBody(token) })).status).toBe(201);
});

afterAll(async () => {
  await redis?.close();
  await hub?.close();
  await Promise.all([msp?.close(), cmp?.close()]);
});

/** a partner's call, made again after a 503 (same message, same CMP-request-id) */
async function patiently(options: CallOptions): Promise<Answer> {
  const requestId = randomUUID();
  for (let attempt = 0; ; attempt++) {
    const answer = await hub.call({ ...options, headers: { 'cmp-request-id': requestId, ...options.headers } });
    if (answer.status !== 503 || attempt === 60) return answer;
    await new Promise((r) => setTimeout(r, 200));
  }
}

const requestCode = (requestId: string) =>
  patiently({ as: 'cmpA', to: 'mspA', method: 'POST', path: paths.requestActivationCode(token), body: requestActivationCodeBody(requestId) });

/** one path through the state machine; what the CMP (or the MSP) heard of it is counted after */
interface Walk {
  readonly name: string;
  /** drives the partners; the sync answers that carried a code */
  run(requestId: string): Promise<number>;
  /** the deliveries that tell of this walk: Send Activation Code at the CMP, CSIM status at the MSP */
  delivered(requestId: string): Received[];
}

const codesAtCmp = (requestId: string) =>
  cmp.received.filter(
    (r) => r.path === paths.submitActivationCode(token) && (r.body as { activationCodeRequestID?: string }).activationCodeRequestID === requestId,
  );

const activation = (name: string, reply: Reply, then?: (requestId: string) => Promise<void>): Walk => ({
  name,
  delivered: codesAtCmp,
  async run(requestId) {
    mspReplies.set(requestId, reply);
    const answer = await requestCode(requestId);
    expect([200, 201]).toContain(answer.status);
    if (answer.status === 201) await then?.(requestId);
    return answer.status === 200 && answer.body.activationCode ? 1 : 0;
  },
});

const WALKS: readonly Walk[] = [
  activation('sync 200', { status: 200, body: CODE }),
  activation("201, then the MSP's Send Activation Code", { status: 201 }, async (requestId) => {
    const sent = await patiently({
      as: 'mspA',
      to: 'cmpA',
      method: 'POST',
      path: paths.submitActivationCode(token),
      body: submitActivationCodeBody(requestId),
    });
    expect(sent.status).toBe(200);
  }),
  activation("bridged, the MSP's late answer", { status: 200, body: CODE, delayMs: BUDGET_MS + 100 }),
  activation("bridged, the MSP past the bridge's deadline", { status: 200, body: CODE, delayMs: BRIDGE_MS + 1500 }),
  {
    name: 'outbox delivery (Send CSIM Status, 201 stored and will be processed)',
    delivered: (requestId) => msp.received.filter((r) => r.path === paths.sendCsimStatus(token) && (r.body as { iccid?: string }).iccid === requestId),
    async run(requestId) {
      expect(
        (await patiently({ as: 'cmpA', to: 'mspA', method: 'POST', path: paths.sendCsimStatus(token), body: sendCsimStatusBody('enabled', requestId) })).status,
      ).toBe(201);
      return 0;
    },
  },
];

/** the outbox empty (the bridge's deadline entry come due and handled) and nothing taken */
async function quiet(): Promise<void> {
  const prefix = hub.keyPrefix as string;
  await waitFor(
    async () => {
      // both read in one step: a delivery moved from waiting to ready between two reads would be missed
      const [ready, waiting] = await redis.multi().xLen(`${prefix}outbox`).zCard(`${prefix}outbox:waiting`).exec();
      return Number(ready) === 0 && Number(waiting) === 0;
    },
    15000,
    50,
  );
}

interface Outcome {
  readonly fault: string;
  /** sync codes and deliveries by their distinct CMP-request-ids: exactly one */
  readonly heard: number;
  /** deliveries as they arrived: more than `heard` only when a delivery could not be acked */
  readonly arrived: number;
  /** the request's entry, when it is still waiting for something */
  readonly left?: string;
}

async function walk(w: Walk): Promise<Outcome> {
  const requestId = randomUUID();
  const sync = await w.run(requestId);
  await quiet();
  const delivered = w.delivered(requestId);
  const ids = new Set(delivered.map((r) => r.headers['cmp-request-id']));
  const raw = await redis.get(`${hub.keyPrefix}act:cmpA ${requestId}`);
  const entry = raw === null ? undefined : (JSON.parse(raw) as { state: string; settled?: boolean });
  const waiting = entry && !entry.settled && (entry.state === 'bridged' || entry.state === 'pending') ? entry.state : undefined;
  return { fault: plan.hit ?? 'none', heard: sync + ids.size, arrived: sync + delivered.length, left: waiting };
}

describe.each(WALKS.map((w) => [w.name, w] as const))('%s', (_name, w) => {
  test('with the answer of each store call lost, and with each failing before it ran: the CMP hears once, nothing is left waiting', async () => {
    plan.reset();
    const clean = await walk(w);
    expect(clean).toEqual({ fault: 'none', heard: 1, arrived: 1, left: undefined });
    const calls = [...plan.calls];
    const outcomes: Outcome[] = [];
    for (let index = 0; index < calls.length; index++) {
      for (const fault of ['lost', 'before'] as Fault[]) {
        plan.arm(index, fault);
        const outcome = await walk(w);
        // a walk may make a call fewer than the first (the worker's reads fall differently): a
        // fault armed past its last call finds none
        if (outcome.fault === 'none' && index >= plan.calls.length) continue;
        outcomes.push(outcome.fault === 'none' ? { ...outcome, fault: `none (${fault} on call ${index} of ${plan.calls.length})` } : outcome);
      }
    }
    plan.reset();
    process.stdout.write(`${w.name}: ${calls.length} store calls (${calls.join(', ')}); ${outcomes.length} walks with a fault\n`);
    for (const outcome of outcomes) {
      expect({ fault: outcome.fault, heard: outcome.heard }).toEqual({ fault: outcome.fault, heard: 1 });
      // the one transition that leaves a request matchable when it fails before it ran: the
      // MSP's delivery has reached the CMP, its record is ended by the entry's TTL
      if (outcome.fault !== 'before ledger.consumePending') expect(outcome).toEqual(expect.objectContaining({ left: undefined }));
      // delivered, not acked: the same delivery again, under the same CMP-request-id
      if (outcome.fault !== 'before outbox.ack') expect(outcome).toEqual(expect.objectContaining({ arrived: 1 }));
    }
    // every numbered call was hit by its fault
    expect(outcomes.filter((o) => o.fault.startsWith('none'))).toEqual([]);
  }, 300000);
});

test('a bridged request whose record could not be written: the CMP gets 503 code 90 naming the step, and its retry is answered (AID.02 5.5: 90 "Internal Server Error")', async () => {
  const requestId = randomUUID();
  mspReplies.set(requestId, { status: 200, body: CODE, delayMs: BUDGET_MS + 100 });
  plan.arm(0, 'before', (name) => name !== 'ledger.bridgeActivation');
  const ask = () => hub.call({ as: 'cmpA', to: 'mspA', method: 'POST', path: paths.requestActivationCode(token), body: requestActivationCodeBody(requestId) });
  const refused = await ask();
  expect(plan.hit).toBe('before ledger.bridgeActivation');
  expect(refused.status).toBe(503);
  expect(refused.body).toEqual({ code: '90', error: expect.stringContaining('record bridged request') });
  plan.reset();
  expect([200, 201]).toContain((await requestCode(requestId)).status);
  await quiet();
});

test("a bridged request whose record's answer was lost still takes the MSP's late outcome: the CMP gets the code, not the deadline's error", async () => {
  const requestId = randomUUID();
  mspReplies.set(requestId, { status: 200, body: CODE, delayMs: BUDGET_MS + 100 });
  // a clean bridged request first numbers the calls up to the bridging
  plan.reset();
  const clean = randomUUID();
  mspReplies.set(clean, { status: 200, body: CODE, delayMs: BUDGET_MS + 100 });
  expect((await requestCode(clean)).status).toBe(201);
  const bridging = plan.calls.indexOf('ledger.bridgeActivation');
  await quiet();
  plan.arm(bridging, 'lost');
  const ask = () => hub.call({ as: 'cmpA', to: 'mspA', method: 'POST', path: paths.requestActivationCode(token), body: requestActivationCodeBody(requestId) });
  expect((await ask()).status).toBe(503);
  expect(plan.hit).toBe('lost ledger.bridgeActivation');
  plan.reset();
  await quiet();
  expect(codesAtCmp(requestId).map((r) => (r.body as { activationCode: string | null }).activationCode)).toEqual([CODE.activationCode]);
});

test('a bridged request whose late outcome could not be queued: the log says so, and the deadline tells the CMP (AID.02 7.7.2: "If an error occurs during processing [...] deliver the error description")', async () => {
  const requestId = randomUUID();
  const expiredBefore = await hub.metric('aid_gateway_activation_bridges_total', { outcome: 'expired' });
  mspReplies.set(requestId, { status: 200, body: CODE, delayMs: BUDGET_MS + 100 });
  plan.arm(0, 'before', (name) => name !== 'ledger.settlePending');
  expect([200, 201]).toContain((await requestCode(requestId)).status);
  await waitFor(() => plan.hit !== undefined);
  expect(plan.hit).toBe('before ledger.settlePending');
  await quiet();
  plan.reset();
  expect(hub.logLines()).toContainEqual(
    expect.objectContaining({
      msg: 'bridged outcome could not be queued; the deadline entry will answer the CMP',
      err: 'injected: ledger.settlePending failed before it ran',
    }),
  );
  expect(codesAtCmp(requestId).map((r) => r.body)).toEqual([
    expect.objectContaining({ activationCode: null, error: '90: The MSP did not answer the activation code request in time' }),
  ]);
  expect(await hub.metric('aid_gateway_activation_bridges_total', { outcome: 'expired' })).toBe(expiredBefore + 1);
});
