/** The switches npm run bench uses to show what a feature costs: each does what it says, and only that. */
import { randomUUID } from 'node:crypto';
import { switchedOff } from '../../src/measurementSwitches';
import { notifyMspTokenInvalidBody, paths, requestActivationCodeBody } from '../support/messages';
import { startWorld, type World } from '../support/testHub';

test('the variable names features; an unknown one is an error', () => {
  expect([...switchedOff(undefined)]).toEqual([]);
  expect([...switchedOff(' requestValidation , metrics ')]).toEqual(['requestValidation', 'metrics']);
  expect(() => switchedOff('requestValidation,auth')).toThrow(/unknown feature auth/);
});

describe.each([
  ['nothing switched off', [] as const],
  ['request validation and metrics switched off', ['requestValidation', 'metrics'] as const],
])('%s', (_what, off) => {
  let world: World;
  beforeAll(async () => {
    world = await startWorld({ switchedOff: new Set(off) });
  });
  afterAll(() => world.close());

  test('a request with a non-UUID activationCodeRequestID reaches the MSP only without validation', async () => {
    const answer = await world.hub.call({
      as: 'cmpA',
      to: 'mspA',
      method: 'POST',
      path: paths.requestActivationCode(randomUUID()),
      body: { ...requestActivationCodeBody(), activationCodeRequestID: 'not-a-uuid' },
    });
    expect(answer.status).toBe(off.length > 0 ? 200 : 422);
    expect(world.partners.mspA.received).toHaveLength(off.length > 0 ? 1 : 0);
  });

  // AID.02 5.1: CMP-request-id and correlation-id are required; the hub keys a request's state on
  // them, so one without them never reaches a partner, validation or not. Notify MSP Token Invalid
  // documents 400 as its client error (most operations 422)
  test.each([['CMP-request-id'], ['correlation-id']])("a request without its %s is refused with the operation's client error, naming it", async (header) => {
    const answer = await world.hub.call({
      as: 'mspA',
      to: 'cmpA',
      method: 'POST',
      path: paths.notifyMspTokenInvalid(randomUUID()),
      body: notifyMspTokenInvalidBody(),
      omit: [header],
    });
    expect(answer.status).toBe(400);
    expect(answer.body.code).toBe('91');
    expect(String(answer.body.error).toLowerCase()).toContain(`header ${header.toLowerCase()} is required`);
    expect(world.partners.cmpA.received).toHaveLength(0);
  });

  test('requests are counted only with metrics', async () => {
    await world.hub.call({ as: 'cmpA', to: 'mspA', method: 'POST', path: paths.requestActivationCode(randomUUID()), body: requestActivationCodeBody() });
    const counted = await world.hub.metric('aid_gateway_requests_total');
    if (off.length > 0) expect(counted).toBe(0);
    else expect(counted).toBeGreaterThan(0);
  });
});
