/**
 * Message framing at the partner listeners (issue 29.2, 29.3): a request whose body length cannot be
 * known one way only is refused before anything is dispatched, and every answer the listener writes
 * itself carries the AID.02 body. Raw sockets, since a well-behaved client cannot send these.
 */
import { randomUUID } from 'node:crypto';
import { paths, sendCsimStatusBody } from '../support/messages';
import { errorBodies, rawExchange, statusLines } from '../support/rawHttp';
import { startWorld, type World } from '../support/testHub';

let world: World;

beforeAll(async () => {
  world = await startWorld();
});
afterAll(() => world.close());

/** the head of an AID.02 request from cmpA to mspA, with `extra` header lines */
function head(requestLine: string, extra: readonly string[], host: readonly string[] = ['Host: hub']): string {
  return [
    requestLine,
    ...host,
    'api-key: key-cmpA',
    'client-id: cmpA',
    'target-id: mspA',
    `CMP-request-id: ${randomUUID()}`,
    `correlation-id: ${randomUUID()}`,
    ...extra,
    '',
    '',
  ].join('\r\n');
}

const profileStatus = () => `GET ${paths.requestProfileStatus(randomUUID())} HTTP/1.1`;
const csimStatus = () => `POST ${paths.sendCsimStatus(randomUUID())} HTTP/1.1`;
const MALFORMED = { code: '91', error: 'Invalid request syntax: the HTTP request is malformed' };
const NOT_CHUNKED = { code: '91', error: `${MALFORMED.error}: a Transfer-Encoding other than a single chunked` };
/** well under the hub's 5 s header timeout and 15 s request timeout: an answer by then came at once */
const AT_ONCE_MS = 2500;

/** what reached any partner */
const forwarded = () => Object.values(world.partners).flatMap((p) => p.received).length;

beforeEach(() => Object.values(world.partners).forEach((p) => p.reset()));

describe('RFC 9112 6.1/6.3: a request whose Transfer-Encoding is not exactly `chunked` cannot be framed: 400, closed, nothing dispatched', () => {
  test.each([
    ['GET, transfer-encoding: xchunked, no Content-Length', () => head(profileStatus(), ['transfer-encoding: xchunked'])],
    ['GET, transfer-encoding: gzip, no Content-Length', () => head(profileStatus(), ['transfer-encoding: gzip'])],
    [
      'POST, transfer-encoding: xchunked, a body',
      () => `${head(csimStatus(), ['content-type: application/json', 'transfer-encoding: xchunked'])}{"iccid":"89049032123451234512"}`,
    ],
    ['POST, transfer-encoding: gzip, a body', () => `${head(csimStatus(), ['content-type: application/json', 'transfer-encoding: gzip'])}{}`],
  ])('%s', async (_what, bytes) => {
    const { text, closed } = await rawExchange(world.hub.url, [bytes()], AT_ONCE_MS);
    expect(statusLines(text)).toEqual([400]);
    expect(errorBodies(text)).toEqual([NOT_CHUNKED]);
    expect(closed).toBe(true);
    expect(forwarded()).toBe(0);
  });

  test('transfer-encoding: identity, chunked: refused, and the request hidden after the body is not served', async () => {
    const hidden = head(profileStatus(), []);
    const body = `${hidden.length.toString(16)}\r\n${hidden}\r\n0\r\n\r\n`;
    const smuggler = `${head(csimStatus(), ['content-type: application/json', 'transfer-encoding: identity, chunked'])}${body}`;
    const { text, closed } = await rawExchange(world.hub.url, [smuggler, hidden], AT_ONCE_MS);
    expect(statusLines(text)).toEqual([400]);
    expect(errorBodies(text)).toEqual([NOT_CHUNKED]);
    expect(closed).toBe(true);
    expect(forwarded()).toBe(0);
  });

  test('a chunk size of FFFFFFFFFFFFFFFFFFFFF: 400 and closed at once', async () => {
    const bytes = `${head(csimStatus(), ['content-type: application/json', 'transfer-encoding: chunked'])}FFFFFFFFFFFFFFFFFFFFF\r\n{}`;
    const { text, closed } = await rawExchange(world.hub.url, [bytes], AT_ONCE_MS);
    expect(statusLines(text)).toEqual([400]);
    expect(errorBodies(text)).toEqual([MALFORMED]);
    expect(closed).toBe(true);
    expect(forwarded()).toBe(0);
  });

  test('chunks ended by a bare LF (RFC 9112 7.1 chunk = chunk-size CRLF chunk-data CRLF): 400 and closed at once', async () => {
    const bytes = `${head(csimStatus(), ['content-type: application/json', 'transfer-encoding: chunked'])}2\n{}\n0\n\n`;
    const { text, closed } = await rawExchange(world.hub.url, [bytes], AT_ONCE_MS);
    expect(statusLines(text)).toEqual([400]);
    expect(errorBodies(text)).toEqual([MALFORMED]);
    expect(closed).toBe(true);
    expect(forwarded()).toBe(0);
  });

  test('a single `chunked` is served as ever', async () => {
    const body = JSON.stringify(sendCsimStatusBody());
    const bytes = `${head(csimStatus(), ['content-type: application/json', 'transfer-encoding: chunked', 'connection: close'])}${body.length.toString(16)}\r\n${body}\r\n0\r\n\r\n`;
    const { text } = await rawExchange(world.hub.url, [bytes], AT_ONCE_MS);
    expect(statusLines(text)).toEqual([201]);
    expect(JSON.parse(world.partners.mspA.received[0].raw)).toEqual(sendCsimStatusBody());
  });
});

describe('protocol refusals carry the AID.02 body (29.3)', () => {
  test('an HTTP/1.1 request without Host (RFC 9112 3.2 "MUST respond with a 400"): 400 code 91, closed', async () => {
    const { text, closed } = await rawExchange(world.hub.url, [head(profileStatus(), [], [])], AT_ONCE_MS);
    expect(statusLines(text)).toEqual([400]);
    expect(errorBodies(text)).toEqual([{ code: '91', error: 'Invalid request syntax: the HTTP request is malformed: Host is required once' }]);
    expect(closed).toBe(true);
    expect(forwarded()).toBe(0);
  });

  test('two Host lines (RFC 9112 3.2: "more than one Host header field line"): 400 code 91, nothing dispatched', async () => {
    const { text } = await rawExchange(world.hub.url, [head(profileStatus(), [], ['Host: hub', 'Host: other'])], AT_ONCE_MS);
    expect(statusLines(text)).toEqual([400]);
    expect(errorBodies(text)[0].code).toBe('91');
    expect(forwarded()).toBe(0);
  });

  test('CONNECT: 405 code 205 with the AID.02 body, closed', async () => {
    const { text, closed } = await rawExchange(world.hub.url, ['CONNECT partner.example:443 HTTP/1.1\r\nHost: partner.example:443\r\n\r\n'], AT_ONCE_MS);
    expect(statusLines(text)).toEqual([405]);
    expect(errorBodies(text)).toEqual([{ code: '205', error: 'The method is not allowed on this path' }]);
    expect(closed).toBe(true);
  });

  test('an Upgrade request is answered as a plain request, never switched', async () => {
    const { text } = await rawExchange(world.hub.url, [head(profileStatus(), ['connection: upgrade', 'upgrade: websocket'])], AT_ONCE_MS);
    expect(statusLines(text)).toEqual([200]);
  });
});
