/**
 * Routing errors: unknown target (404, code 93), a target of the wrong role or a route not allowed
 * (403), an operation the caller's role does not call (403), unknown path (404), wrong method (405).
 */
import { randomUUID } from 'node:crypto';
import { paths, requestActivationCodeBody, sendCsimStatusBody, sendMspTokenBody } from '../support/messages';
import { startWorld, type World } from '../support/testHub';

let world: World;

beforeAll(async () => {
  world = await startWorld({
    routes: {
      defaults: { tokenBinding: 'off' },
      routes: [
        { from: '*', to: 'cmpA' },
        { from: 'mspA', to: 'cmpB', operations: ['sendMspToken'] },
        { from: 'cmpA', to: '*' },
        { from: 'cmpB', to: 'mspA', operations: ['sendCsimStatus'] },
      ],
    },
  });
});
afterAll(() => world.close());
beforeEach(() => Object.values(world.partners).forEach((p) => p.reset()));

const nothingForwarded = () => Object.values(world.partners).every((p) => p.received.length === 0);

test('an unknown target-id is 404 with AID.02 code 93, naming it', async () => {
  const answer = await world.hub.call({
    as: 'cmpA',
    to: 'mspZ',
    method: 'POST',
    path: paths.requestActivationCode(randomUUID()),
    body: requestActivationCodeBody(),
  });
  expect(answer.status).toBe(404);
  expect(answer.body).toEqual({ code: '93', error: expect.stringContaining('mspZ') });
  expect(nothingForwarded()).toBe(true);
});

test('an unknown target-id that is not a valid id is not echoed back', async () => {
  const answer = await world.hub.call({
    as: 'cmpA',
    to: '<script>',
    method: 'POST',
    path: paths.requestActivationCode(randomUUID()),
    body: requestActivationCodeBody(),
  });
  expect(answer.body.code).toBe('93');
  expect(answer.body.error).not.toContain('<script>');
});

test('a target of the wrong role (a CMP calling a CMP) is 403', async () => {
  const answer = await world.hub.call({
    as: 'cmpA',
    to: 'cmpB',
    method: 'POST',
    path: paths.requestActivationCode(randomUUID()),
    body: requestActivationCodeBody(),
  });
  expect(answer.status).toBe(403);
  expect(answer.body).toEqual({ code: '203', error: expect.stringContaining('cmpB is a CMP') });
  expect(nothingForwarded()).toBe(true);
});

test('an operation of the other API (an MSP calling the MSP API) is 403', async () => {
  const answer = await world.hub.call({
    as: 'mspA',
    to: 'cmpA',
    method: 'POST',
    path: paths.requestActivationCode(randomUUID()),
    body: requestActivationCodeBody(),
  });
  expect(answer.status).toBe(403);
  expect(answer.body.code).toBe('203');
});

test('a pair with no route is 403', async () => {
  const answer = await world.hub.call({
    as: 'cmpB',
    to: 'mspB',
    method: 'POST',
    path: paths.requestActivationCode(randomUUID()),
    body: requestActivationCodeBody(),
  });
  expect(answer.status).toBe(403);
  expect(answer.body).toEqual({ code: '202', error: expect.stringContaining('cmpB -> mspB') });
  expect(nothingForwarded()).toBe(true);
});

test('a route limited to some operations allows those and refuses the others', async () => {
  const allowed = await world.hub.call({ as: 'cmpB', to: 'mspA', method: 'POST', path: paths.sendCsimStatus(randomUUID()), body: sendCsimStatusBody() });
  expect(allowed.status).toBe(201);
  const refused = await world.hub.call({
    as: 'cmpB',
    to: 'mspA',
    method: 'POST',
    path: paths.requestActivationCode(randomUUID()),
    body: requestActivationCodeBody(),
  });
  expect(refused.status).toBe(403);
  const onboarding = await world.hub.call({ as: 'mspA', to: 'cmpB', method: 'POST', path: paths.sendMspToken(), body: sendMspTokenBody(randomUUID()) });
  expect(onboarding.status).toBe(201);
  const notify = await world.hub.call({ as: 'mspA', to: 'cmpB', method: 'POST', path: paths.notifyMspTokenInvalid(randomUUID()), body: {} });
  expect(notify.status).toBe(403);
});

test('a wildcard route lets every MSP reach cmpA', async () => {
  for (const msp of ['mspA', 'mspB']) {
    const answer = await world.hub.call({ as: msp, to: 'cmpA', method: 'POST', path: paths.sendMspToken(), body: sendMspTokenBody(randomUUID()) });
    expect(answer.status).toBe(201);
  }
});

test('an unknown path is 404 with the AID.02 error body', async () => {
  const answer = await world.hub.call({ as: 'cmpA', to: 'mspA', method: 'GET', path: '/v1/nothing/here' });
  expect(answer.status).toBe(404);
  expect(answer.body).toEqual({ code: '204', error: 'No AID.02 operation has this path' });
});

test('a known path with the wrong method is 405 with Allow', async () => {
  const answer = await world.hub.call({ as: 'cmpA', to: 'mspA', method: 'PUT', path: paths.requestInvalidateFederatedID(randomUUID()) });
  expect(answer.status).toBe(405);
  expect(answer.headers.get('allow')).toBe('DELETE');
  expect(answer.body.code).toBe('205');
});

test('HEAD and OPTIONS are no AID.02 methods: 405 with the Allow of the path, nothing forwarded', async () => {
  const token = randomUUID();
  for (const method of ['HEAD', 'OPTIONS']) {
    const answer = await world.hub.call({ as: 'cmpA', to: 'mspA', method, path: paths.requestProfileStatus(token) });
    expect(answer.status).toBe(405);
    expect(answer.headers.get('allow')).toBe('GET');
  }
  const options = await world.hub.call({ as: 'mspA', to: 'cmpA', method: 'OPTIONS', path: paths.updateSubscriptionInfo(token) });
  expect(options.headers.get('allow')).toBe('PATCH');
  expect(options.body.code).toBe('205');
  expect(nothingForwarded()).toBe(true);
});

test('a method no router knows is 405 on a known path and 404 elsewhere', async () => {
  const known = await world.hub.call({ as: 'cmpA', to: 'mspA', method: 'PROPFIND', path: paths.requestProfileStatus(randomUUID()) });
  expect(known.status).toBe(405);
  expect(known.headers.get('allow')).toBe('GET');
  const unknown = await world.hub.call({ as: 'cmpA', to: 'mspA', method: 'PROPFIND', path: '/v1/nothing/here' });
  expect(unknown.status).toBe(404);
  expect(unknown.body.code).toBe('204');
});

test('paths keep their case: Annex B writes them in lower case', async () => {
  const answer = await world.hub.call({ as: 'cmpA', to: 'mspA', method: 'GET', path: paths.requestProfileStatus(randomUUID()).toUpperCase() });
  expect(answer.status).toBe(404);
  expect(nothingForwarded()).toBe(true);
});

test('the Send MSP Token path takes only POST', async () => {
  const answer = await world.hub.call({ as: 'mspA', to: 'cmpA', method: 'GET', path: paths.sendMspToken() });
  expect(answer.status).toBe(405);
  expect(answer.headers.get('allow')).toBe('POST');
});
