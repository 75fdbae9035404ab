/**
 * The listeners under hostile clients (issue 10.5, 10.10, 10.11): what Node's HTTP parser refuses
 * is answered in the AID.02 body after the answers ahead of it, a client that leaves mid-body is a
 * client abort, connections are capped in all and per address, and an idle one is closed.
 */
import { randomUUID } from 'node:crypto';
import net from 'node:net';
import { paths } from '../support/messages';
import { errorBodies, rawExchange, statusLines } from '../support/rawHttp';
import { startWorld, type World } from '../support/testHub';
import { waitFor } from '../support/waitFor';

let world: World;

beforeAll(async () => {
  world = await startWorld({ connectionLimits: { maxConnections: 50, maxConnectionsPerAddress: 4 } });
});
afterAll(() => world.close());

/** the head of an AID.02 request from cmpA to mspA as bytes, with `extra` header lines */
function head(requestLine: string, extra: readonly string[] = []): string {
  return [
    requestLine,
    'Host: hub',
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

/** a complete, valid AID.02 request as bytes */
function profileStatusRequest(): string {
  return head(`GET ${paths.requestProfileStatus(randomUUID())} HTTP/1.1`);
}

describe("requests Node's parser refuses get the AID.02 error body (10.5)", () => {
  test('a malformed request line or header: 400 code 91', async () => {
    for (const bytes of [
      'GARBAGE\r\n\r\n',
      'GET / HTTP/1.1\r\nHost: x\r\nBad Header\r\n\r\n',
      'POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n',
    ]) {
      const { text, closed } = await rawExchange(world.hub.url, [bytes]);
      expect(statusLines(text)).toEqual([400]);
      expect(errorBodies(text)).toEqual([{ code: '91', error: 'Invalid request syntax: the HTTP request is malformed' }]);
      expect(closed).toBe(true);
    }
  });

  test('headers beyond the limit: 431 code 91', async () => {
    const { text } = await rawExchange(world.hub.url, [`GET / HTTP/1.1\r\nHost: x\r\nx-padding: ${'a'.repeat(20000)}\r\n\r\n`]);
    expect(statusLines(text)).toEqual([431]);
    expect(errorBodies(text)[0].code).toBe('91');
  });

  test('a malformed request pipelined after two good ones: both answers come first, then the error', async () => {
    const { text, closed } = await rawExchange(world.hub.url, [profileStatusRequest() + profileStatusRequest() + 'GARBAGE\r\n\r\n']);
    expect(statusLines(text)).toEqual([200, 200, 400]);
    expect(closed).toBe(true);
  });

  test('a connection that sends nothing is answered 408 and closed', async () => {
    const { text, closed } = await rawExchange(world.hub.url, [], 20000);
    expect(closed).toBe(true);
    expect(statusLines(text)).toEqual([408]);
    expect(errorBodies(text)[0].code).toBe('91');
  });
});

test('a client that leaves in the middle of its body is a client abort, not a hub error (10.10)', async () => {
  const aborted = () => world.hub.metric('aid_gateway_requests_total', { status_class: 'aborted' });
  const before = { aborted: await aborted(), failed: await world.hub.metric('aid_gateway_requests_total', { status_class: '5xx' }) };
  const socket = net.connect({ host: '127.0.0.1', port: Number(new URL(world.hub.url).port) });
  await new Promise((resolve) => socket.once('connect', resolve));
  socket.write(`${head(`POST ${paths.sendCsimStatus(randomUUID())} HTTP/1.1`, ['content-type: application/json', 'content-length: 1000'])}{"iccid":`);
  await new Promise((resolve) => setTimeout(resolve, 100));
  socket.destroy();
  await waitFor(async () => (await aborted()) === before.aborted + 1);
  expect(await world.hub.metric('aid_gateway_requests_total', { status_class: '5xx' })).toBe(before.failed);
  expect(world.hub.logLines().filter((l) => l.msg === 'internal error')).toEqual([]);
});

test('connections are capped per source address; another address still gets in (10.11)', async () => {
  const port = Number(new URL(world.hub.url).port);
  const held = await Promise.all(
    Array.from(
      { length: 4 },
      () =>
        new Promise<net.Socket>((resolve) => {
          const s = net.connect({ host: '127.0.0.1', port }, () => resolve(s));
        }),
    ),
  );
  try {
    const { text: refusedText, closed } = await rawExchange(world.hub.url, [profileStatusRequest()], 5000, '127.0.0.1');
    expect(closed).toBe(true);
    expect(refusedText).toBe('');
    const other = await rawExchange(world.hub.url, [profileStatusRequest().replace('\r\n\r\n', '\r\nconnection: close\r\n\r\n')], 5000, '127.0.0.2');
    expect(statusLines(other.text)).toEqual([200]);
  } finally {
    held.forEach((s) => s.destroy());
  }
});
