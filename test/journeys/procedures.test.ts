/**
 * Activation journeys, AID.02 chapter 4 procedure by procedure, on both stores: each test walks its
 * procedure through the real hub between partners that are real HTTP servers on 127.0.0.1, then
 * reads the journey back from the admin listener and checks its events. The last test of each
 * store reads everything the store holds of journeys and finds no forbidden value in it.
 */
import { randomUUID } from 'node:crypto';
import { createClient } from 'redis';
import { digest } from '../../src/config/credentials';
import type { JourneyEvent as Event } from '../../src/journeys/event';
import { ACTIVATION_CODE } from '../support/fakePartner';
import {
  ACCOUNT_ID,
  EID,
  ICCID,
  IV,
  PHONE,
  notifyMspTokenInvalidBody,
  paths,
  requestActivationCodeBody,
  sendCsimStatusBody,
  sendProfileInformationBody,
  submitActivationCodeBody,
  updateSubscriptionInfoBody,
} from '../support/messages';
import { REDIS_URL } from '../support/redis';
import { basicHeader, request, startWorld, type World } from '../support/testHub';
import { waitFor } from '../support/waitFor';

jest.setTimeout(30000);

const ADMIN = { username: 'ops', passwordDigest: digest('ops-secret') };
const asOps = { authorization: basicHeader('ops', 'ops-secret') };

/** the fields an event may have: none for an activation code, a phone number, an iv, a credential or an account id */
const EVENT_FIELDS = new Set([
  'id',
  'at',
  'instance',
  'operation',
  'from',
  'to',
  'outcome',
  'status',
  'code',
  'latencyMs',
  'traceId',
  'requestId',
  'iccid',
  'eid',
  'vehicle',
  'detail',
  'stage',
]);

describe.each(['memory', 'redis'] as const)('%s store', (store) => {
  let world: World;
  const tokens: string[] = [];

  beforeAll(async () => {
    world = await startWorld({
      store,
      adminAuth: ADMIN,
      routes: {
        settings: { outboxPollMs: 50, outboxRetryBaseMs: 100, journeyStuckAwaitingCodeSeconds: 1 },
        routes: [
          // mspB is slow: the hub bridges; cmpB's CSIM statuses are stored and forwarded
          { from: 'cmpB', to: 'mspB', operations: ['requestActivationCode'], timeoutMs: 300, bridgeTimeoutMs: 5000 },
          { from: 'cmpB', to: 'mspB', operations: ['sendCsimStatus'], storeAndForward: true },
          { from: '*', to: '*' },
        ],
      },
    });
  });
  afterAll(() => world.close());
  beforeEach(() => Object.values(world.partners).forEach((p) => p.reset()));

  const admin = (path: string, headers: Record<string, string> = asOps) => request(`${world.hub.hub.adminUrl}${path}`, { headers });

  async function onboard(msp: 'mspA' | 'mspB', cmp: 'cmpA' | 'cmpB'): Promise<string> {
    const token = await world.onboard(msp, cmp);
    tokens.push(token);
    return token;
  }

  async function journey(id: string): Promise<{ mspToken: string; waiting: { stage: string; stuck: boolean; sentence: string } | null; events: Event[] }> {
    const answer = await admin(`/admin/journeys/${encodeURIComponent(id)}`);
    expect(answer.status).toBe(200);
    return answer.body;
  }

  /** the journey once it holds an event of `operation` (deliveries come from the outbox worker) */
  async function journeyWith(token: string, operation: string): Promise<Awaited<ReturnType<typeof journey>>> {
    await waitFor(async () => (await journey(token)).events.some((e) => e.operation === operation));
    return journey(token);
  }

  const rac = (as: string, to: string, token: string, body = requestActivationCodeBody()) =>
    world.hub.call({ as, to, method: 'POST', path: paths.requestActivationCode(token), body });

  test('the journeys are behind the admin credentials', async () => {
    const token = await onboard('mspA', 'cmpA');
    expect((await admin(`/admin/journeys/${token}`, {})).status).toBe(401);
    expect((await admin(`/admin/journeys/${randomUUID()}`)).status).toBe(404);
  });

  test('4.1/4.2 onboarding: Send MSP Token, MSP to CMP', async () => {
    const token = await onboard('mspA', 'cmpA');
    const { events } = await journey(token);
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ operation: 'sendMspToken', from: 'mspA', to: 'cmpA', outcome: 'answered', status: 201, detail: 'user paired' });
    expect(events[0].traceId).toMatch(/^[0-9a-f]{32}$/);
    expect(events[0].latencyMs).toBeGreaterThan(0);
    expect(events[0].instance).not.toBe('');
  });

  test('4.3 car provisioning, synchronous: 200 with the code, then the journey waits for the CSIM status', async () => {
    const token = await onboard('mspA', 'cmpA');
    const requestId = randomUUID();
    expect((await rac('cmpA', 'mspA', token, requestActivationCodeBody(requestId))).status).toBe(200);
    const { events, waiting } = await journey(token);
    expect(events.map((e) => e.operation)).toEqual(['sendMspToken', 'requestActivationCode']);
    // ICCID and EID masked to their last 4 (the fake MSP answers ICCID 8949000000000000001)
    expect(events[1]).toMatchObject({
      from: 'cmpA',
      to: 'mspA',
      outcome: 'answered',
      status: 200,
      requestId,
      iccid: '…0001',
      eid: `…${EID.slice(-4)}`,
      stage: 'awaitingCsimStatus',
      detail: 'activation code sent',
    });
    expect(waiting).toMatchObject({ stage: 'awaitingCsimStatus', stuck: false });
    expect(waiting?.sentence).toMatch(/^activation code sent \d\d:\d\d:\d\d, no Send CSIM Status from cmpA for \d+ s$/);
    // the same journey by its activationCodeRequestID and by the ICCID
    expect((await journey(requestId)).mspToken).toBe(token);
    expect((await journey(ICCID)).mspToken).toBe(tokens.at(-1));
  });

  test('4.3 car provisioning, asynchronous: 201, Send Activation Code, Send CSIM Status installed', async () => {
    const token = await onboard('mspA', 'cmpA');
    const requestId = randomUUID();
    world.partners.mspA.answer((req) => (req.path.startsWith('/v1/activation-code-requests/') ? { status: 201 } : undefined));
    expect((await rac('cmpA', 'mspA', token, requestActivationCodeBody(requestId))).status).toBe(201);
    expect((await journey(token)).waiting?.stage).toBe('awaitingCode');
    expect(
      (await world.hub.call({ as: 'mspA', to: 'cmpA', method: 'POST', path: paths.submitActivationCode(token), body: submitActivationCodeBody(requestId) }))
        .status,
    ).toBe(200);
    expect((await journey(token)).waiting?.stage).toBe('awaitingCsimStatus');
    expect(
      (await world.hub.call({ as: 'cmpA', to: 'mspA', method: 'POST', path: paths.sendCsimStatus(token), body: sendCsimStatusBody('installed') })).status,
    ).toBe(201);
    const { events, waiting } = await journey(token);
    expect(events.slice(1)).toMatchObject([
      { operation: 'requestActivationCode', status: 201, requestId, stage: 'awaitingCode', detail: 'code to follow (Send Activation Code)' },
      {
        operation: 'submitActivationCode',
        from: 'mspA',
        to: 'cmpA',
        status: 200,
        requestId,
        iccid: '…0001',
        stage: 'awaitingCsimStatus',
        detail: 'activation code delivered',
      },
      { operation: 'sendCsimStatus', from: 'cmpA', to: 'mspA', status: 201, iccid: '…0001', detail: 'CSIM installed', stage: 'settled' },
    ]);
    expect(waiting).toBeNull();
  });

  test('4.3 car provisioning, bridged: the hub answers 201, the outbox delivers the late code', async () => {
    const token = await onboard('mspB', 'cmpB');
    world.partners.mspB.answer(() => ({
      status: 200,
      delayMs: 700,
      body: { iccid: '8949000000000000077', activationCode: ACTIVATION_CODE, profileType: 'personal', swappedIccid: null },
    }));
    expect((await rac('cmpB', 'mspB', token)).status).toBe(201);
    const { events } = await journeyWith(token, 'delivery.submitActivationCode');
    expect(events.find((e) => e.operation === 'requestActivationCode')).toMatchObject({ outcome: 'bridged', status: 201, stage: 'awaitingCode' });
    expect(events.find((e) => e.operation === 'delivery.submitActivationCode')).toMatchObject({
      from: 'mspB',
      to: 'cmpB',
      outcome: 'delivered',
      status: 200,
      iccid: '…0077',
      stage: 'awaitingCsimStatus',
    });
  });

  // AID.02 5.5: "21 The msp_token was found but is no longer valid" (the hub refuses Request Activation Code after 7.4)
  test('4.3 a refusal: Request Activation Code on an invalidated token is refused by the hub with code 21', async () => {
    const token = await onboard('mspA', 'cmpA');
    expect(
      (await world.hub.call({ as: 'mspA', to: 'cmpA', method: 'POST', path: paths.notifyMspTokenInvalid(token), body: notifyMspTokenInvalidBody() })).status,
    ).toBe(204);
    expect((await rac('cmpA', 'mspA', token)).status).toBe(404);
    const { events } = await journey(token);
    expect(events.at(-1)).toMatchObject({ operation: 'requestActivationCode', outcome: 'refused by the hub', status: 404, code: '21', stage: 'settled' });
  });

  test('4.3.1 profile swap: the request names the replace candidate, the MSP answers the swapped ICCID', async () => {
    const token = await onboard('mspA', 'cmpA');
    world.partners.mspA.answer(() => ({
      status: 200,
      body: { iccid: '8949000000000000088', activationCode: ACTIVATION_CODE, profileType: 'personal', swappedIccid: ICCID },
    }));
    expect((await rac('cmpA', 'mspA', token, requestActivationCodeBody(randomUUID(), ICCID))).status).toBe(200);
    const { events } = await journey(token);
    expect(events.at(-1)).toMatchObject({ operation: 'requestActivationCode', status: 200, iccid: '…0088', stage: 'awaitingCsimStatus' });
  });

  test('4.4.1 withdraw onboarding via the CMP: Request Invalidate MSP Token settles the journey', async () => {
    const token = await onboard('mspA', 'cmpA');
    await rac('cmpA', 'mspA', token);
    expect((await world.hub.call({ as: 'cmpA', to: 'mspA', method: 'DELETE', path: paths.requestInvalidateFederatedID(token) })).status).toBe(204);
    const { events, waiting } = await journey(token);
    expect(events.at(-1)).toMatchObject({
      operation: 'requestInvalidateFederatedID',
      from: 'cmpA',
      to: 'mspA',
      status: 204,
      detail: 'token invalidated by the CMP',
      stage: 'settled',
    });
    expect(waiting).toBeNull();
  });

  test('4.4.2 withdraw onboarding via the MSP: Notify MSP Token Invalid', async () => {
    const token = await onboard('mspA', 'cmpA');
    expect(
      (await world.hub.call({ as: 'mspA', to: 'cmpA', method: 'POST', path: paths.notifyMspTokenInvalid(token), body: notifyMspTokenInvalidBody() })).status,
    ).toBe(204);
    const { events } = await journey(token);
    expect(events.at(-1)).toMatchObject({ operation: 'notifyMspTokenInvalid', from: 'mspA', to: 'cmpA', status: 204, detail: 'token invalidated by the MSP' });
  });

  test('4.5 delete OP: Send CSIM Status deleted, stored and forwarded through the outbox', async () => {
    const token = await onboard('mspB', 'cmpB');
    expect(
      (await world.hub.call({ as: 'cmpB', to: 'mspB', method: 'POST', path: paths.sendCsimStatus(token), body: sendCsimStatusBody('deleted') })).status,
    ).toBe(201);
    const { events } = await journeyWith(token, 'delivery.sendCsimStatus');
    expect(events.find((e) => e.operation === 'sendCsimStatus')).toMatchObject({
      outcome: 'stored',
      status: 201,
      detail: 'CSIM deleted',
      eid: `…${EID.slice(-4)}`,
    });
    expect(events.find((e) => e.operation === 'delivery.sendCsimStatus')).toMatchObject({
      from: 'cmpB',
      to: 'mspB',
      outcome: 'delivered',
      detail: 'CSIM deleted',
    });
  });

  test('4.5 a stored CSIM status the MSP cannot take yet: retried, then delivered; one it refuses: dead-lettered', async () => {
    const token = await onboard('mspB', 'cmpB');
    let answered = 0;
    world.partners.mspB.answer(() => (answered++ === 0 ? { status: 503 } : undefined));
    expect(
      (await world.hub.call({ as: 'cmpB', to: 'mspB', method: 'POST', path: paths.sendCsimStatus(token), body: sendCsimStatusBody('enabled') })).status,
    ).toBe(201);
    await waitFor(async () => (await journey(token)).events.some((e) => e.operation === 'delivery.sendCsimStatus' && e.outcome === 'delivered'));
    const deliveries = (await journey(token)).events.filter((e) => e.operation === 'delivery.sendCsimStatus');
    expect(deliveries).toMatchObject([{ outcome: 'retried (attempt 1)' }, { outcome: 'delivered', status: 201 }]);
    world.partners.mspB.answer(() => ({ status: 400, body: { code: '91', error: 'Invalid syntax' } }));
    expect(
      (await world.hub.call({ as: 'cmpB', to: 'mspB', method: 'POST', path: paths.sendCsimStatus(token), body: sendCsimStatusBody('disabled') })).status,
    ).toBe(201);
    await waitFor(async () => (await journey(token)).events.some((e) => e.outcome === 'dead-lettered'));
    expect((await journey(token)).events.at(-1)).toMatchObject({
      operation: 'delivery.sendCsimStatus',
      outcome: 'dead-lettered',
      status: 400,
      detail: 'CSIM disabled',
    });
  });

  test('4.6 profile status synchronisation: Request Profile Status, the states without the ICCIDs', async () => {
    const token = await onboard('mspA', 'cmpA');
    expect((await world.hub.call({ as: 'cmpA', to: 'mspA', method: 'GET', path: paths.requestProfileStatus(token) })).status).toBe(200);
    const { events } = await journey(token);
    expect(events.at(-1)).toMatchObject({ operation: 'requestProfileStatus', status: 200, detail: 'profiles: enabled' });
  });

  test('4.7 Send Profile Information and 4.8 Update Subscription Info', async () => {
    const token = await onboard('mspA', 'cmpA');
    expect(
      (await world.hub.call({ as: 'mspA', to: 'cmpA', method: 'POST', path: paths.sendProfileInformation(token), body: sendProfileInformationBody() })).status,
    ).toBe(200);
    expect(
      (await world.hub.call({ as: 'mspA', to: 'cmpA', method: 'PATCH', path: paths.updateSubscriptionInfo(token), body: updateSubscriptionInfoBody() })).status,
    ).toBe(201);
    const { events } = await journey(token);
    expect(events.slice(-2)).toMatchObject([
      { operation: 'sendProfileInformation', from: 'mspA', to: 'cmpA', outcome: 'answered', status: 200 },
      { operation: 'updateSubscriptionInfo', from: 'mspA', to: 'cmpA', outcome: 'answered', status: 201 },
    ]);
  });

  test('stuck: a 201 with no Send Activation Code past the limit is listed, counted and said so', async () => {
    const token = await onboard('mspA', 'cmpA');
    world.partners.mspA.answer(() => ({ status: 201 }));
    expect((await rac('cmpA', 'mspA', token)).status).toBe(201);
    // journeyStuckAwaitingCodeSeconds: 1
    await waitFor(async () => (await journey(token)).waiting?.stuck === true);
    expect((await journey(token)).waiting?.sentence).toMatch(/^201 \d\d:\d\d:\d\d, no Send Activation Code from mspA for \d+ s$/);
    const listed = await admin('/admin/journeys?stuck=1');
    expect(listed.body.journeys).toContainEqual(expect.objectContaining({ mspToken: token, stage: 'awaitingCode' }));
    expect(await world.hub.metric('aid_gateway_stuck_journeys', { stage: 'awaitingCode' })).toBeGreaterThanOrEqual(1);
    expect((await admin('/admin/journeys')).status).toBe(400);
  });

  test('privacy: no activation code, phone number, iv, credential, account id or full EID/ICCID in any stored event', async () => {
    const stored: string[] = [];
    if (store === 'redis') {
      const client = createClient({ url: REDIS_URL });
      await client.connect();
      for await (const keys of client.scanIterator({ MATCH: `${world.hub.keyPrefix}jr*`, COUNT: 500 })) {
        for (const key of keys) {
          const type = await client.type(key);
          if (type === 'list') stored.push(...(await client.lRange(key, 0, -1)));
          else if (type === 'string') stored.push(`${key}=${await client.get(key)}`);
          else stored.push(key, ...(await client.zRange(key, 0, -1)));
        }
      }
      await client.close();
    } else {
      for (const token of tokens) stored.push(JSON.stringify((await world.hub.hub.store.journeys.read(token))?.events));
    }
    const all = stored.join('\n');
    // what was read holds the journeys: the check below reads something
    for (const operation of ['sendMspToken', 'requestActivationCode', 'submitActivationCode', 'sendCsimStatus', 'delivery.submitActivationCode'])
      expect(all).toContain(`"${operation}"`);
    for (const forbidden of [
      ACTIVATION_CODE,
      '1$smdp.example.com',
      PHONE,
      IV,
      ACCOUNT_ID,
      EID,
      ICCID,
      '8949000000000000077',
      'key-mspA',
      'key-cmpA',
      'key-cmpB',
      'pw-mspB',
    ]) {
      expect(all).not.toContain(forbidden);
    }
    for (const token of tokens) {
      for (const event of (await journey(token)).events) for (const field of Object.keys(event)) expect(EVENT_FIELDS).toContain(field);
    }
  });
});
