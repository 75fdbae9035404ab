/**
 * Issue 29.1: no refusal of an inbound route escapes as a 500. Every route the hub serves besides
 * the AID.02 operations (the touchpoint directory and broker, the ES2+ progress callback, the
 * TelcoAPI webhook, the admin listener) is sent malformed, doubled, oversized and unauthenticated
 * requests on the example configuration (which has a partner of every dialect). The touchpoints and
 * the admin listener refuse in the AID.02 body {code, error} (or the broker's page with the code);
 * the callback and the webhook answer in their own protocol's terms (docs/dialects/es2plus.md,
 * docs/dialects/telcoapi.md).
 */
import { Hub } from '../../src/server/hub';
import { configuredDigest } from '../../src/config/credentials';
import { PROJECT_ROOT } from '../../src/version';
import { createLogger } from '../../src/log';
import { freePort } from '../support/ports';
import { basicHeader, request } from '../support/testHub';

let hub: Hub;
const logs: string[] = [];

beforeAll(async () => {
  const env: NodeJS.ProcessEnv = {};
  for (const name of ['MSP_ALPHA_URL', 'MSP_BETA_URL', 'MSP_GAMMA_URL', 'MSP_DELTA_URL', 'CMP_ONE_URL', 'CMP_TWO_URL', 'CMP_FLEET_URL'])
    env[name] = `http://127.0.0.1:${await freePort()}`;
  hub = await Hub.start({
    configDir: PROJECT_ROOT,
    listen: { host: '127.0.0.1', port: 0 },
    log: createLogger({ level: 'debug', destination: { write: (line: string) => void logs.push(line) } }),
    env,
    admin: { listen: { host: '127.0.0.1', port: 0 }, auth: { username: 'ops', passwordDigest: configuredDigest('ops-pw') } },
  });
});
afterAll(() => hub.close());

const ID = 'eyJhbGciOiJIUzI1NiJ9.eyJleHAiOjQxMDI0NDQ4MDAsInNpZCI6IngifQ.c2ln';
const BACK = encodeURIComponent('https://cmpone.example/back');

/** [what, method, path, headers, body] */
const PARTNER_ROUTES: [string, string, string, Record<string, string>, string?][] = [
  ["the issue's request: login, client_id twice", 'GET', `/touchpoints/mspAlpha/login?client_id=cmpOne&client_id=cmpTwo&redirect_uri=${BACK}&id=${ID}`, {}],
  ["the issue's request: return, client_id twice", 'GET', `/touchpoints/mspAlpha/return?client_id=cmpOne&client_id=cmpTwo&redirect_uri=${BACK}&id=${ID}`, {}],
  ['login, a partner id that is not percent-encoding', 'GET', '/touchpoints/%ZZ/login?client_id=cmpOne', {}],
  ['return, a partner id of an encoded slash and NUL', 'GET', '/touchpoints/%2F%00/return?client_id=cmpOne', {}],
  ['login, a query that is not percent-encoding', 'GET', '/touchpoints/mspAlpha/login?client_id=%ZZ&redirect_uri=%E0%A4%A&id=%', {}],
  ['login, every parameter twice', 'GET', `/touchpoints/mspAlpha/login?client_id=cmpOne&redirect_uri=${BACK}&redirect_uri=${BACK}&id=${ID}&id=${ID}`, {}],
  ['return, code and error twice', 'GET', `/touchpoints/cmpOne/return?client_id=mspAlpha&redirect_uri=${BACK}&code=100&code=101&error=a&error=b`, {}],
  ['the directory, client-id twice', 'GET', '/touchpoints', { 'client-id': 'cmpOne, cmpTwo', 'api-key': 'demo-key-cmp-one' }],
  ['the directory, no client-id', 'GET', '/touchpoints', {}],
  ['the directory, a POST', 'POST', '/touchpoints', { 'content-type': 'application/json' }, '{}'],
  ['the ES2+ callback, no credential', 'POST', '/gsma/rsp2/es2plus/handleDownloadProgressInfo', { 'content-type': 'application/json' }, '{}'],
  ['the ES2+ callback, a GET', 'GET', '/gsma/rsp2/es2plus/handleDownloadProgressInfo', {}],
  [
    'the ES2+ callback, a body that is no JSON',
    'POST',
    '/gsma/rsp2/es2plus/handleDownloadProgressInfo',
    { 'content-type': 'application/json', authorization: basicHeader('x', 'y') },
    '{"header":',
  ],
  ['the TelcoAPI webhook, no signature', 'POST', '/telcoapi/mspDelta/events', { 'content-type': 'application/json' }, '{}'],
  ['the TelcoAPI webhook, a partner id that is not percent-encoding', 'POST', '/telcoapi/%ZZ/events', { 'content-type': 'application/json' }, '{}'],
  [
    'the TelcoAPI webhook, a signature header twice',
    'POST',
    '/telcoapi/mspDelta/events',
    { 'content-type': 'application/json', 'x-signature': 't=1,v1=aa, t=2,v1=bb' },
    '{}',
  ],
  ['the TelcoAPI webhook, a GET', 'GET', '/telcoapi/mspDelta/events', {}],
  ['an unknown path that is not percent-encoding', 'GET', '/%ZZ/%', {}],
];

// one argument per row, so that jest does not take a row's missing body for a `done` callback
test.each(PARTNER_ROUTES.map((row) => [row[0], row] as const))(
  '%s: refused, never a 5xx, the AID.02 code given',
  async (_what, [, method, path, headers, body]) => {
    const answer = await request(`${hub.url}${path}`, { method, headers, body, redirect: 'manual' });
    expect(answer.status).toBeGreaterThanOrEqual(400);
    expect(answer.status).toBeLessThan(500);
    if (path.startsWith('/touchpoints/')) expect(answer.text).toMatch(/<span id="code">[0-9]+<\/span>/);
    else if (path.startsWith('/telcoapi/')) expect(answer.body).toEqual(expect.objectContaining({ error: expect.any(String), message: expect.any(String) }));
    else if (path.startsWith('/gsma/')) expect(answer.body.header.functionExecutionStatus.status).toBe('Failed');
    else expect(answer.body).toEqual({ code: expect.stringMatching(/^[0-9]+$/), error: expect.any(String) });
  },
);

test.each([
  ['no credential', 'GET', '/metrics', {}, 401, '201'],
  ['a malformed basic credential', 'GET', '/admin/partners', { authorization: 'Basic %%%' }, 401, '201'],
  ['an unknown path', 'GET', '/admin/nothing', {}, 404, '204'],
  ['a path that is not percent-encoding', 'GET', '/%ZZ', {}, 404, '204'],
  ['another method', 'POST', '/healthz', {}, 405, '205'],
])('the admin listener, %s: %s refused in the AID.02 body', async (_what, method, path, headers, status, code) => {
  const answer = await request(`${hub.adminUrl}${path}`, { method, headers });
  expect(answer.status).toBe(status);
  expect(answer.body).toEqual({ code, error: expect.any(String) });
});

test('none of them was an internal error', () => {
  expect(logs.map((l) => JSON.parse(l) as { msg: string }).filter((l) => /internal error/.test(l.msg))).toEqual([]);
});
