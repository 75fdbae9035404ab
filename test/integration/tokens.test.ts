/**
 * msp_token bindings (AID.02 4.1-4.4, 7.3, 7.4, 7.9): a token issued by one MSP to one CMP is
 * "not found" between any other pair; the policies strict | learn | off for tokens never seen.
 */
import { randomUUID } from 'node:crypto';
import { paths, requestActivationCodeBody, sendCsimStatusBody, sendMspTokenBody, sendProfileInformationBody } from '../support/messages';
import { FaultPlan, faultyStore } from '../support/faultyStore';
import { startWorld, type World } from '../support/testHub';
import { waitFor } from '../support/waitFor';

let world: World;
/** unarmed but for the tests of a binding write that fails */
const plan = new FaultPlan();

beforeAll(async () => {
  world = await startWorld({
    wrapStore: (store) => faultyStore(store, plan),
    routes: {
      routes: [
        { from: '*', to: '*', tokenBinding: 'learn' },
        { from: 'cmpB', to: 'mspB', tokenBinding: 'strict' },
        { from: 'cmpA', to: 'mspB', tokenBinding: 'off' },
      ],
    },
  });
});
afterAll(() => world.close());
beforeEach(() => {
  Object.values(world.partners).forEach((p) => p.reset());
  plan.reset();
});

const onboard = (msp: string, cmp: string, token?: string) => world.onboard(msp, cmp, token);

const requestCode = (cmp: string, msp: string, token: string) =>
  world.hub.call({ as: cmp, to: msp, method: 'POST', path: paths.requestActivationCode(token), body: requestActivationCodeBody() });

describe('a token issued to one pair', () => {
  test('another CMP using it gets 404 code 20, and the MSP never hears of it', async () => {
    const token = await onboard('mspA', 'cmpA');
    const rejections = () => world.hub.metric('aid_gateway_policy_rejections_total', { operation: 'requestActivationCode', kind: 'tokenNotFound' });
    const before = await rejections();
    const answer = await requestCode('cmpB', 'mspA', token);
    expect(await rejections()).toBe(before + 1);
    expect(answer.status).toBe(404);
    expect(answer.body).toEqual({ code: '20', error: 'The msp_token was not found' });
    expect(world.partners.mspA.received).toHaveLength(0);
  });

  // AID.02 7.7 (code 20 "The msp_token was not found"): the token is the pair's, so the CMP it was
  // issued to cannot use it toward an MSP that did not issue it (both routes here learn tokens)
  test('the same CMP sending it to another MSP gets 404 code 20', async () => {
    const token = await onboard('mspB', 'cmpA');
    const answer = await requestCode('cmpA', 'mspA', token);
    expect(answer.status).toBe(404);
    expect(answer.body).toEqual({ code: '20', error: 'The msp_token was not found' });
    expect(world.partners.mspA.received).toHaveLength(0);
  });

  test('every operation with a foreign token is refused the same way', async () => {
    const token = await onboard('mspA', 'cmpA');
    const csim = await world.hub.call({ as: 'cmpB', to: 'mspA', method: 'POST', path: paths.sendCsimStatus(token), body: sendCsimStatusBody() });
    const status = await world.hub.call({ as: 'cmpB', to: 'mspA', method: 'GET', path: paths.requestProfileStatus(token) });
    const info = await world.hub.call({
      as: 'mspB',
      to: 'cmpA',
      method: 'POST',
      path: paths.sendProfileInformation(token),
      body: sendProfileInformationBody(),
    });
    for (const answer of [csim, status, info]) expect(answer.body).toEqual({ code: '20', error: 'The msp_token was not found' });
    expect(world.partners.mspA.received).toHaveLength(0);
    expect(world.partners.cmpA.received.filter((r) => r.path === paths.sendProfileInformation(token))).toHaveLength(0);
  });

  // AID.02 7.10 on {msp_token}, code 20 "The msp_token was not found": a read is refused like a write,
  // so no CMP learns another CMP's profiles
  test("Request Profile Status with another pair's token gets 404 code 20 and the MSP is never asked; the pair's own passes", async () => {
    const token = await onboard('mspA', 'cmpA');
    const foreign = await world.hub.call({ as: 'cmpB', to: 'mspA', method: 'GET', path: paths.requestProfileStatus(token, '8949000000000000001') });
    expect(foreign.status).toBe(404);
    expect(foreign.body).toEqual({ code: '20', error: 'The msp_token was not found' });
    expect(world.partners.mspA.received).toHaveLength(0);
    const own = await world.hub.call({ as: 'cmpA', to: 'mspA', method: 'GET', path: paths.requestProfileStatus(token) });
    expect(own.status).toBe(200);
    expect(world.partners.mspA.received.map((r) => r.path)).toEqual([paths.requestProfileStatus(token)]);
  });

  test('the issuing MSP may send the same token to a second CMP, and both pairs then work', async () => {
    const token = await onboard('mspA', 'cmpA');
    await onboard('mspA', 'cmpB', token);
    expect((await requestCode('cmpA', 'mspA', token)).status).toBe(200);
    expect((await requestCode('cmpB', 'mspA', token)).status).toBe(200);
  });

  test('another MSP sending a token already issued by mspA is refused with 422 code 23', async () => {
    const token = await onboard('mspA', 'cmpA');
    const answer = await world.hub.call({ as: 'mspB', to: 'cmpB', method: 'POST', path: paths.sendMspToken(), body: sendMspTokenBody(token) });
    expect(answer.status).toBe(422);
    expect(answer.body.code).toBe('23');
    expect(world.partners.cmpB.received).toHaveLength(0);
  });

  // code 23 "The msp_token is already assigned to a user": the check before the call cannot see a
  // binding another MSP's call makes while this one waits for its CMP; the binding stays the first
  // answer's, and the log says this one was not recorded
  test('two MSPs sending one token at once: the later answer binds nothing, and the log says so', async () => {
    const token = randomUUID();
    let release = () => {};
    const held = new Promise<undefined>((resolve) => (release = () => resolve(undefined)));
    world.partners.cmpA.answer(() => held);
    const first = world.hub.call({ as: 'mspA', to: 'cmpA', method: 'POST', path: paths.sendMspToken(), body: sendMspTokenBody(token) });
    await waitFor(() => world.partners.cmpA.received.length === 1);
    await onboard('mspB', 'cmpB', token);
    release();
    expect((await first).status).toBe(201);
    await waitFor(() => world.hub.logLines().some((line) => line.msg === 'token already issued by another MSP; binding not recorded'));
    const warned = world.hub.logLines().filter((line) => line.msg === 'token already issued by another MSP; binding not recorded');
    expect(warned).toEqual([expect.objectContaining({ msp: 'mspA', cmp: 'cmpA' })]);
    world.partners.cmpA.reset();
    expect((await requestCode('cmpA', 'mspA', token)).body.code).toBe('20');
    expect((await requestCode('cmpB', 'mspB', token)).status).toBe(200);
  });

  test('a Send MSP Token the CMP refused binds nothing', async () => {
    world.partners.cmpA.answer(() => ({ status: 422, body: { code: '10', error: 'The account ID was not found' } }));
    const token = randomUUID();
    await world.hub.call({ as: 'mspA', to: 'cmpA', method: 'POST', path: paths.sendMspToken(), body: sendMspTokenBody(token) });
    world.partners.cmpA.reset();
    // unbound, so the learn route lets another pair use it
    expect((await requestCode('cmpB', 'mspA', token)).status).toBe(200);
  });
});

describe('tokens the hub has never seen', () => {
  test('strict: refused with code 20', async () => {
    const answer = await requestCode('cmpB', 'mspB', randomUUID());
    expect(answer.status).toBe(404);
    expect(answer.body.error).toContain('no record');
    expect(world.partners.mspB.received).toHaveLength(0);
  });

  test('learn: passed and learnt per pair of the MSP that issued it; another MSP is refused (code 20)', async () => {
    // issue 18: a user federated with several CMPs before the hub existed is not locked to the
    // first CMP that called
    const token = randomUUID();
    expect((await requestCode('cmpA', 'mspA', token)).status).toBe(200);
    expect((await requestCode('cmpB', 'mspA', token)).status).toBe(200);
    expect((await requestCode('cmpB', 'mspA', token)).status).toBe(200);
    expect((await requestCode('cmpB', 'mspB', token)).body.code).toBe('20');
  });

  // the learn policy binds the pair it saw use the token; AID.02 7.5 on {msp_token}: any other MSP
  // using it gets code 20, even on a route that learns
  test('learn: the pair that used it first is bound; another MSP on a learning route is then refused (code 20)', async () => {
    const token = randomUUID();
    expect((await requestCode('cmpA', 'mspA', token)).status).toBe(200);
    const other = await world.hub.call({
      as: 'mspB',
      to: 'cmpA',
      method: 'POST',
      path: paths.sendProfileInformation(token),
      body: sendProfileInformationBody(),
    });
    expect(other.status).toBe(404);
    expect(other.body).toEqual({ code: '20', error: 'The msp_token was not found' });
    expect(world.partners.cmpA.received).toHaveLength(0);
  });

  test('learn never widens a token the hub saw issued: Send MSP Token to cmpA, cmpB is refused (code 20)', async () => {
    const token = await onboard('mspA', 'cmpA');
    expect((await requestCode('cmpB', 'mspA', token)).body.code).toBe('20');
  });

  test('a binding lives as long as it is used (4.4.1 [5] "the MSP token SHALL NOT be removed")', async () => {
    const short = await startWorld({ routes: { settings: { tokenBindingTtlSeconds: 2 }, routes: [{ from: '*', to: '*', tokenBinding: 'strict' }] } });
    try {
      const token = await short.onboard('mspA', 'cmpA');
      for (let i = 0; i < 3; i++) {
        await new Promise((r) => setTimeout(r, 1100));
        expect((await short.hub.call({ as: 'cmpA', to: 'mspA', method: 'POST', path: paths.sendCsimStatus(token), body: sendCsimStatusBody() })).status).toBe(
          201,
        );
      }
    } finally {
      await short.close();
    }
  });

  test('learn: a failed call teaches nothing', async () => {
    const token = randomUUID();
    world.partners.mspA.answer(() => ({ status: 404, body: { code: '20', error: 'The msp_token was not found' } }));
    expect((await requestCode('cmpA', 'mspA', token)).status).toBe(404);
    world.partners.mspA.reset();
    expect((await requestCode('cmpB', 'mspA', token)).status).toBe(200);
  });

  test('off: passed, and nothing is learnt', async () => {
    const token = randomUUID();
    expect((await requestCode('cmpA', 'mspB', token)).status).toBe(200);
    expect((await requestCode('cmpB', 'mspA', token)).status).toBe(200);
  });
});

// the partner has answered, so a binding write that fails leaves the answer as it is; the log line
// names the write, so that an operator knows which binding is missing (errors/storeCalls.ts)
describe('a binding write that fails after the answer', () => {
  const failedSteps = () =>
    world.hub
      .logLines()
      .filter((line) => line.msg === 'state bookkeeping failed after the partner answered')
      .map((line) => line.step);

  const failNext = (call: string) => plan.arm(0, 'before', (name) => name !== call);

  test.each([
    [
      'Send MSP Token answered 201: bind token',
      'bindings.bind',
      'bind token',
      () => world.hub.call({ as: 'mspA', to: 'cmpA', method: 'POST', path: paths.sendMspToken(), body: sendMspTokenBody(randomUUID()) }),
      201,
    ],
    ['a token learnt from use, answered 200: learn token', 'bindings.bind', 'learn token', () => requestCode('cmpA', 'mspA', randomUUID()), 200],
  ])('%s', async (_, call, step, send, status) => {
    const before = failedSteps().length;
    failNext(call);
    expect((await send()).status).toBe(status);
    expect(plan.hit).toBe(`before ${call}`);
    await waitFor(() => failedSteps().length > before);
    expect(failedSteps().slice(before)).toEqual([step]);
  });

  test('Request Invalidate MSP Token answered 204: invalidate token', async () => {
    const token = await onboard('mspA', 'cmpA');
    const before = failedSteps().length;
    failNext('bindings.invalidate');
    expect((await world.hub.call({ as: 'cmpA', to: 'mspA', method: 'DELETE', path: paths.requestInvalidateFederatedID(token) })).status).toBe(204);
    expect(plan.hit).toBe('before bindings.invalidate');
    await waitFor(() => failedSteps().length > before);
    expect(failedSteps().slice(before)).toEqual(['invalidate token']);
  });
});
