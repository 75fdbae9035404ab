/**
 * The edge (src/edge.ts) serves an AID.02 operation itself and leaves the rest to Koa. An
 * operation must be answered the same by either: the same request is sent with its path (the edge
 * serves it) and in absolute form (RFC 9112 3.2.2: a server MUST accept it; the edge leaves it to
 * Koa), and the two answers are compared header by header and byte by byte.
 */
import { randomUUID } from 'node:crypto';
import { OperationPaths, buildRouter } from '../../src/edge/router';
import { ICCID, paths, requestActivationCodeBody, sendCsimStatusBody } from '../support/messages';
import { rawExchange } from '../support/rawHttp';
import { startWorld, type World } from '../support/testHub';

let world: World;
let token: string;

beforeAll(async () => {
  world = await startWorld({ routes: { routes: [{ from: '*', to: '*', tokenBinding: 'learn' }] } });
  token = await world.onboard('mspA', 'cmpA');
});
afterAll(() => world.close());
beforeEach(() => Object.values(world.partners).forEach((p) => p.reset()));

interface Parsed {
  readonly status: string;
  readonly headers: Record<string, string>;
  readonly body: string;
}

/** one request on its own connection; `absolute` sends the request target in absolute form */
async function send(method: string, path: string, headers: Record<string, string>, body: string | undefined, absolute: boolean): Promise<Parsed> {
  const target = absolute ? `${world.hub.url}${path}` : path;
  const lines = [`${method} ${target} HTTP/1.1`, `host: 127.0.0.1`, 'connection: close', 'cmp-request-id: ' + randomUUID(), 'correlation-id: ' + randomUUID()];
  for (const [name, value] of Object.entries(headers)) lines.push(`${name}: ${value}`);
  if (body !== undefined) lines.push('content-type: application/json', `content-length: ${Buffer.byteLength(body)}`);
  const { text } = await rawExchange(world.hub.url, [`${lines.join('\r\n')}\r\n\r\n${body ?? ''}`]);
  const [head, ...rest] = text.split('\r\n\r\n');
  const [status, ...fields] = head.split('\r\n');
  const parsed: Record<string, string> = {};
  for (const field of fields) {
    const colon = field.indexOf(':');
    parsed[field.slice(0, colon).toLowerCase()] = field.slice(colon + 1).trim();
  }
  // the date is the only field that may differ between two answers to the same request
  delete parsed.date;
  return { status, headers: parsed, body: rest.join('\r\n\r\n') };
}

async function bothWays(method: string, path: string, headers: Record<string, string>, body?: () => string): Promise<Parsed> {
  const viaEdge = await send(method, path, headers, body?.(), false);
  const viaKoa = await send(method, path, headers, body?.(), true);
  expect(viaEdge).toEqual(viaKoa);
  return viaEdge;
}

const asCmpA = { 'api-key': 'key-cmpA', 'client-id': 'cmpA', 'target-id': 'mspA' };

test('a partner answer with a JSON body: status, every header and the body alike', async () => {
  const answer = await bothWays('GET', paths.requestProfileStatus(token, ICCID), asCmpA);
  expect(answer.status).toBe('HTTP/1.1 200 OK');
  expect(answer.headers['content-type']).toBe('application/json; charset=utf-8');
  expect(Number(answer.headers['content-length'])).toBe(Buffer.byteLength(answer.body));
  expect(JSON.parse(answer.body)).toHaveProperty('profiles');
});

test('a partner answer without a body (201): no Content-Type, Content-Length 0', async () => {
  const answer = await bothWays('POST', paths.sendCsimStatus(token), asCmpA, () => JSON.stringify(sendCsimStatusBody()));
  expect(answer.status).toBe('HTTP/1.1 201 Created');
  expect(answer.headers['content-type']).toBeUndefined();
  expect(answer.headers['content-length']).toBe('0');
  expect(answer.body).toBe('');
});

test('a partner answer typed by the partner: the type passed on, with the charset the MIME database gives it', async () => {
  world.partners.mspA.answer(() => ({
    status: 200,
    raw: JSON.stringify({ profiles: [{ iccid: ICCID, status: 'enabled' }] }),
    contentType: 'application/json',
  }));
  const answer = await bothWays('GET', paths.requestProfileStatus(token, ICCID), asCmpA);
  expect(answer.headers['content-type']).toBe('application/json; charset=utf-8');
});

test("the hub's own refusal (a wrong credential, 401 with the AID.02 error body): alike", async () => {
  const answer = await bothWays('POST', paths.requestActivationCode(token), { ...asCmpA, 'api-key': 'not-the-key' }, () =>
    JSON.stringify(requestActivationCodeBody()),
  );
  expect(answer.status).toBe('HTTP/1.1 401 Unauthorized');
  expect(answer.headers['content-type']).toBe('application/json; charset=utf-8');
  expect(JSON.parse(answer.body)).toHaveProperty('code');
});

test('a body over the limit: 413 and the connection closed, alike', async () => {
  const answer = await bothWays('POST', paths.sendCsimStatus(token), asCmpA, () => JSON.stringify({ ...sendCsimStatusBody(), padding: 'x'.repeat(200_000) }));
  expect(answer.status).toBe('HTTP/1.1 413 Payload Too Large');
  expect(answer.headers.connection).toBe('close');
});

test('a dialect route on an AID.02 path is refused when the runtime is built: the edge would serve the path before the route is asked', () => {
  const handlers = new Map([['sendCsimStatus' as const, async () => undefined]]);
  const operationPaths = new OperationPaths(
    { all: [{ id: 'sendCsimStatus', pathTemplate: '/v1/statuses/{msp_token}', operation: { method: 'post' } }] } as never,
    handlers,
  );
  const route = { path: '/v1/statuses/:anything', name: 'shadowing', handle: async () => undefined };
  expect(() => buildRouter({} as never, operationPaths, [route])).toThrow(/shadowing/);
  expect(() => buildRouter({} as never, operationPaths, [{ ...route, path: '/telcoapi/:partner/events' }])).not.toThrow();
});
