/**
 * AID.02 chapter 4, procedure by procedure, through the real hub between two MSPs and two CMPs that
 * are real HTTP servers on 127.0.0.1, with the state in real Redis.
 */
import { randomUUID } from 'node:crypto';
import { ACTIVATION_CODE } from '../support/fakePartner';
import {
  ACCOUNT_ID,
  EID,
  ICCID,
  notifyMspTokenInvalidBody,
  paths,
  requestActivationCodeBody,
  sendCsimStatusBody,
  sendMspTokenBody,
  sendProfileInformationBody,
  submitActivationCodeBody,
  updateSubscriptionInfoBody,
} from '../support/messages';
import { startWorld, type World } from '../support/testHub';

let world: World;

beforeAll(async () => {
  world = await startWorld();
});
afterAll(() => world.close());
beforeEach(() => Object.values(world.partners).forEach((p) => p.reset()));

async function onboard(msp: 'mspA' | 'mspB', cmp: 'cmpA' | 'cmpB'): Promise<string> {
  const token = randomUUID();
  const answer = await world.hub.call({ as: msp, to: cmp, method: 'POST', path: paths.sendMspToken(), body: sendMspTokenBody(token) });
  expect(answer.status).toBe(201);
  return token;
}

describe('4.1 / 4.2 onboarding (Send MSP Token)', () => {
  test('the CMP receives the token, the account id and the body byte for byte, with the AID.02 headers', async () => {
    const token = randomUUID();
    const raw = JSON.stringify(sendMspTokenBody(token), null, 2);
    const answer = await world.hub.call({
      as: 'mspA',
      to: 'cmpA',
      method: 'POST',
      path: paths.sendMspToken(),
      raw,
      headers: { 'CMP-request-id': 'd534080b-9794-4351-88e7-8af9e079ca1e', 'correlation-id': '77096b5d-0f42-4c35-9102-3b3a8d7d57e7' },
    });
    expect(answer.status).toBe(201);
    expect(answer.text).toBe('');
    const [got] = world.partners.cmpA.received;
    expect(got.method).toBe('POST');
    expect(got.path).toBe(`/cesim/msp/v1/users/${ACCOUNT_ID}`);
    expect(got.raw).toBe(raw);
    expect(got.headers['client-id']).toBe('mspA');
    expect(got.headers['target-id']).toBe('cmpA');
    expect(got.headers['cmp-request-id']).toBe('d534080b-9794-4351-88e7-8af9e079ca1e');
    expect(got.headers['correlation-id']).toBe('77096b5d-0f42-4c35-9102-3b3a8d7d57e7');
  });

  test("the hub presents its own credential at the CMP, never the MSP's", async () => {
    await onboard('mspA', 'cmpA');
    const [got] = world.partners.cmpA.received;
    expect(got.headers['api-key']).toBe('hub-key-at-cmpA');
    expect(JSON.stringify(got.headers)).not.toContain('key-mspA');
  });

  test('an MSP that cannot issue a token sends the error with nulls, and the CMP gets it', async () => {
    const body = { msp_token: null, phoneNumber: null, subscriptionType: null, error: '1000: Customer not eligible', iv: null };
    const answer = await world.hub.call({ as: 'mspB', to: 'cmpB', method: 'POST', path: paths.sendMspToken(), body });
    expect(answer.status).toBe(201);
    expect(world.partners.cmpB.received[0].body).toEqual(body);
  });

  test('a CMP refusing the account id (422) is passed through unchanged', async () => {
    world.partners.cmpA.answer(() => ({ status: 422, body: { code: '12', error: 'The account ID has an invalid signature' } }));
    const answer = await world.hub.call({ as: 'mspA', to: 'cmpA', method: 'POST', path: paths.sendMspToken(), body: sendMspTokenBody(randomUUID()) });
    expect(answer.status).toBe(422);
    expect(answer.body).toEqual({ code: '12', error: 'The account ID has an invalid signature' });
  });
});

describe('4.3 car provisioning', () => {
  test('synchronous: 200 with the activation code, straight from the MSP', async () => {
    const token = await onboard('mspA', 'cmpA');
    const answer = await world.hub.call({
      as: 'cmpA',
      to: 'mspA',
      method: 'POST',
      path: paths.requestActivationCode(token),
      body: requestActivationCodeBody(),
    });
    expect(answer.status).toBe(200);
    expect(answer.body).toEqual({ iccid: '8949000000000000001', activationCode: ACTIVATION_CODE, profileType: 'personal', swappedIccid: null });
    expect(world.partners.mspA.received[0].headers['api-key']).toBe('hub-key-at-mspA');
  });

  test("asynchronous: 201, then the MSP's Send Activation Code reaches the CMP", async () => {
    const token = await onboard('mspB', 'cmpB');
    world.partners.mspB.answer(() => ({ status: 201 }));
    const requestId = randomUUID();
    const first = await world.hub.call({
      as: 'cmpB',
      to: 'mspB',
      method: 'POST',
      path: paths.requestActivationCode(token),
      body: requestActivationCodeBody(requestId),
    });
    expect(first.status).toBe(201);
    expect(first.text).toBe('');

    const delivery = await world.hub.call({
      as: 'mspB',
      to: 'cmpB',
      method: 'POST',
      path: paths.submitActivationCode(token),
      body: submitActivationCodeBody(requestId),
    });
    expect(delivery.status).toBe(200);
    const got = world.partners.cmpB.received.find((r) => r.path === paths.submitActivationCode(token));
    expect(got?.body).toEqual(submitActivationCodeBody(requestId));
  });

  test('asynchronous failure: the MSP delivers the error with nulls, matched by the pending request', async () => {
    const token = await onboard('mspA', 'cmpB');
    world.partners.mspA.answer(() => ({ status: 201 }));
    const requestId = randomUUID();
    await world.hub.call({ as: 'cmpB', to: 'mspA', method: 'POST', path: paths.requestActivationCode(token), body: requestActivationCodeBody(requestId) });
    const failure = {
      activationCode: null,
      profileType: null,
      activationCodeRequestID: requestId,
      error: '1000: Customer not eligible',
      iccid: null,
      swappedIccid: null,
    };
    const delivery = await world.hub.call({ as: 'mspA', to: 'cmpB', method: 'POST', path: paths.submitActivationCode(token), body: failure });
    expect(delivery.status).toBe(200);
    expect(world.partners.cmpB.received.at(-1)?.body).toEqual(failure);
  });

  test('an MSP that cannot create a code (422) or finds the EID invalid (423) is passed through', async () => {
    const token = await onboard('mspA', 'cmpA');
    world.partners.mspA.answer(() => ({ status: 423, body: { code: '91', error: 'Invalid eid' } }));
    const invalidEid = await world.hub.call({
      as: 'cmpA',
      to: 'mspA',
      method: 'POST',
      path: paths.requestActivationCode(token),
      body: requestActivationCodeBody(),
    });
    expect(invalidEid.status).toBe(423);
    expect(invalidEid.body).toEqual({ code: '91', error: 'Invalid eid' });
    world.partners.mspA.answer(() => ({ status: 422, body: { code: '49', error: 'Other activation code error' } }));
    const noCode = await world.hub.call({
      as: 'cmpA',
      to: 'mspA',
      method: 'POST',
      path: paths.requestActivationCode(token),
      body: requestActivationCodeBody(),
    });
    expect(noCode.status).toBe(422);
    expect(noCode.body.code).toBe('49');
  });
});

describe('4.3.1 profile swap', () => {
  test('replaceIccid reaches the MSP; swappedIccid null comes back when no swap was needed', async () => {
    const token = await onboard('mspA', 'cmpA');
    const body = requestActivationCodeBody(randomUUID(), '8949000000000000009');
    const answer = await world.hub.call({ as: 'cmpA', to: 'mspA', method: 'POST', path: paths.requestActivationCode(token), body });
    expect(answer.status).toBe(200);
    expect(answer.body.swappedIccid).toBeNull();
    expect(world.partners.mspA.received[0].body).toEqual(body);
  });

  test('swappedIccid set by the MSP reaches the CMP', async () => {
    const token = await onboard('mspA', 'cmpA');
    world.partners.mspA.answer(() => ({
      status: 200,
      body: { iccid: '8949000000000000010', activationCode: ACTIVATION_CODE, profileType: 'personal', swappedIccid: '8949000000000000009' },
    }));
    const answer = await world.hub.call({
      as: 'cmpA',
      to: 'mspA',
      method: 'POST',
      path: paths.requestActivationCode(token),
      body: requestActivationCodeBody(randomUUID(), '8949000000000000009'),
    });
    expect(answer.status).toBe(200);
    expect(answer.body.swappedIccid).toBe('8949000000000000009');
  });
});

describe('4.4 withdraw onboarding', () => {
  test('via the CMP touchpoint: Request Invalidate MSP Token, then CSIM deletions still pass, new codes do not', async () => {
    const token = await onboard('mspA', 'cmpA');
    const invalidate = await world.hub.call({ as: 'cmpA', to: 'mspA', method: 'DELETE', path: paths.requestInvalidateFederatedID(token) });
    expect(invalidate.status).toBe(204);
    expect(world.partners.mspA.received.at(-1)?.method).toBe('DELETE');

    const deleted = await world.hub.call({ as: 'cmpA', to: 'mspA', method: 'POST', path: paths.sendCsimStatus(token), body: sendCsimStatusBody('deleted') });
    expect(deleted.status).toBe(201);

    const calls = world.partners.mspA.received.length;
    const refused = await world.hub.call({
      as: 'cmpA',
      to: 'mspA',
      method: 'POST',
      path: paths.requestActivationCode(token),
      body: requestActivationCodeBody(),
    });
    expect(refused.status).toBe(404);
    expect(refused.body).toEqual({ code: '21', error: 'The msp_token was found but is no longer valid' });
    expect(world.partners.mspA.received.length).toBe(calls);
  });

  test('via the MSP touchpoint: Notify MSP Token Invalid, then CSIM deletions still pass, new codes do not', async () => {
    const token = await onboard('mspB', 'cmpA');
    const notify = await world.hub.call({
      as: 'mspB',
      to: 'cmpA',
      method: 'POST',
      path: paths.notifyMspTokenInvalid(token),
      body: notifyMspTokenInvalidBody(),
    });
    expect(notify.status).toBe(204);
    expect(world.partners.cmpA.received.at(-1)?.body).toEqual(notifyMspTokenInvalidBody());

    const deleted = await world.hub.call({ as: 'cmpA', to: 'mspB', method: 'POST', path: paths.sendCsimStatus(token), body: sendCsimStatusBody('deleted') });
    expect(deleted.status).toBe(201);
    const refused = await world.hub.call({
      as: 'cmpA',
      to: 'mspB',
      method: 'POST',
      path: paths.requestActivationCode(token),
      body: requestActivationCodeBody(),
    });
    expect(refused.body.code).toBe('21');
  });

  test('a failed invalidation (the partner says 404) leaves the token usable', async () => {
    const token = await onboard('mspA', 'cmpB');
    world.partners.mspA.answer((req) => (req.method === 'DELETE' ? { status: 404, body: { code: '20', error: 'The msp_token was not found' } } : undefined));
    const invalidate = await world.hub.call({ as: 'cmpB', to: 'mspA', method: 'DELETE', path: paths.requestInvalidateFederatedID(token) });
    expect(invalidate.status).toBe(404);
    const code = await world.hub.call({ as: 'cmpB', to: 'mspA', method: 'POST', path: paths.requestActivationCode(token), body: requestActivationCodeBody() });
    expect(code.status).toBe(200);
  });
});

describe('4.5 delete operational profile (Send CSIM Status)', () => {
  test.each(['deleted', 'enabled', 'disabled', 'installed', 'installation_failed'])('status %s reaches the MSP and 201 comes back', async (status) => {
    const token = await onboard('mspB', 'cmpB');
    const answer = await world.hub.call({ as: 'cmpB', to: 'mspB', method: 'POST', path: paths.sendCsimStatus(token), body: sendCsimStatusBody(status) });
    expect(answer.status).toBe(201);
    expect(world.partners.mspB.received[0].body).toEqual({ iccid: ICCID, eid: EID, status });
  });
});

describe('4.6 profile status synchronisation', () => {
  test('all profiles of the token', async () => {
    const token = await onboard('mspA', 'cmpA');
    const answer = await world.hub.call({ as: 'cmpA', to: 'mspA', method: 'GET', path: paths.requestProfileStatus(token) });
    expect(answer.status).toBe(200);
    expect(answer.body).toEqual({ profiles: [{ iccid: '8949000000000000001', status: 'enabled' }] });
    expect(world.partners.mspA.received[0].query).toBe('');
  });

  test('one profile, by iccid in the query', async () => {
    const token = await onboard('mspA', 'cmpA');
    const answer = await world.hub.call({ as: 'cmpA', to: 'mspA', method: 'GET', path: paths.requestProfileStatus(token, ICCID) });
    expect(answer.status).toBe(200);
    expect(world.partners.mspA.received[0].query).toBe(`iccid=${ICCID}`);
  });
});

describe('4.7 / 4.8 information from the MSP', () => {
  test('Send Profile Information reaches the CMP (200)', async () => {
    const token = await onboard('mspA', 'cmpB');
    const answer = await world.hub.call({
      as: 'mspA',
      to: 'cmpB',
      method: 'POST',
      path: paths.sendProfileInformation(token),
      body: sendProfileInformationBody(),
    });
    expect(answer.status).toBe(200);
    expect(world.partners.cmpB.received.at(-1)?.body).toEqual(sendProfileInformationBody());
  });

  test('Update Subscription Info reaches the CMP with PATCH (201)', async () => {
    const token = await onboard('mspB', 'cmpB');
    const answer = await world.hub.call({
      as: 'mspB',
      to: 'cmpB',
      method: 'PATCH',
      path: paths.updateSubscriptionInfo(token),
      body: updateSubscriptionInfoBody(),
    });
    expect(answer.status).toBe(201);
    const got = world.partners.cmpB.received.at(-1);
    expect(got?.method).toBe('PATCH');
    expect(got?.body).toEqual(updateSubscriptionInfoBody());
  });
});
