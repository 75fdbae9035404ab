/**
 * OpenTelemetry traces, received by a real OTLP/HTTP receiver (test/support/otlpReceiver.ts) and
 * decoded: a SERVER span per request in the caller's trace (W3C Trace Context: the `traceparent`
 * names the caller's span as the parent), a CLIENT span per partner call under it whose id the
 * partner receives, a dialect's platform calls under the partner call, an outbox delivery in a
 * trace of its own linked to the request that stored it; sampling by the caller's decision or a
 * ratio. No span carries a body, a credential, an msp_token, an EID, an ICCID, an activation code
 * or a phone number, nor a concrete path (paths carry msp_tokens and account ids).
 */
import { spawn, spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { FakePartner } from '../support/fakePartner';
import { ACCOUNT_ID, EID, ICCID, IV, PHONE, paths, requestActivationCodeBody, sendCsimStatusBody, sendMspTokenBody } from '../support/messages';
import { freePort } from '../support/ports';
import { OtlpReceiver, SPAN_KIND, type ReceivedSpan } from '../support/otlpReceiver';
import { TelcoWorld, SECRET, TOKEN } from '../support/telcoWorld';
import { ALL_ROUTES, request, startWorld, writeConfig, type World } from '../support/testHub';
import { waitFor } from '../support/waitFor';
import type { TracingSettings } from '../../src/tracing/settings';

const ROUTES = {
  settings: { outboxPollMs: 50 },
  defaults: { tokenBinding: 'off' },
  routes: [
    { from: 'cmpA', to: 'mspA', storeAndForward: true },
    { from: 'cmpA', to: 'mspB', timeoutMs: 300, bridgeTimeoutMs: 5000 },
    { from: '*', to: '*' },
  ],
};

let receiver: OtlpReceiver;
beforeAll(async () => {
  receiver = await OtlpReceiver.start();
});
afterAll(() => receiver.close());

const settings = (service: string, more: Partial<TracingSettings> = {}): TracingSettings => ({
  url: `${receiver.url}/v1/traces`,
  serviceName: service,
  sampler: 'parentbased_always_on',
  ratio: 1,
  exportDelayMs: 20,
  exportTimeoutMs: 10000,
  ...more,
});

const traceparentOf = (traceId: string, spanId: string, flags = '01') => `00-${traceId}-${spanId}-${flags}`;
const hex = (bytes: number) =>
  randomUUID()
    .replace(/-/g, '')
    .padEnd(bytes * 2, 'a')
    .slice(0, bytes * 2);

/** the spans of `service` in `traceId`, once `count` have arrived */
async function spansOf(service: string, traceId: string, count: number): Promise<ReceivedSpan[]> {
  await waitFor(() => receiver.of(service).filter((s) => s.traceId === traceId).length >= count);
  return receiver.of(service).filter((s) => s.traceId === traceId);
}

function only(spans: readonly ReceivedSpan[], kind: number, name?: RegExp): ReceivedSpan {
  const found = spans.filter((s) => s.kind === kind && (name === undefined || name.test(s.name)));
  expect(found).toHaveLength(1);
  return found[0];
}

/** what no span may carry, in any attribute or name, found anywhere in what the exporter sent */
function expectNoneOf(values: Readonly<Record<string, string>>): void {
  const sent = receiver.bodies.join('\n');
  expect(sent.length).toBeGreaterThan(0);
  for (const [name, value] of Object.entries(values)) expect({ name, found: sent.includes(value) }).toEqual({ name, found: false });
}

describe('AID.02 partners', () => {
  let world: World;
  beforeAll(async () => {
    world = await startWorld({ routes: ROUTES, tracing: settings('hub-aid02') });
  });
  afterAll(() => world.close());

  test("a request is a SERVER span in the caller's trace; the partner call a CLIENT span under it, whose id the partner receives", async () => {
    const traceId = hex(16);
    const callerSpan = hex(8);
    const token = randomUUID();
    const answer = await world.hub.call({
      as: 'mspA',
      to: 'cmpA',
      method: 'POST',
      path: paths.sendMspToken(),
      body: sendMspTokenBody(token),
      headers: { traceparent: traceparentOf(traceId, callerSpan) },
    });
    expect(answer.status).toBe(201);

    const spans = await spansOf('hub-aid02', traceId, 2);
    const server = only(spans, SPAN_KIND.server);
    const client = only(spans, SPAN_KIND.client);
    // W3C Trace Context 3.2.2.3: parent-id is the id of the caller's span
    expect(server.parentSpanId).toBe(callerSpan);
    expect(client.parentSpanId).toBe(server.spanId);
    expect(server.name).toBe('POST /cesim/msp/v1/users/{account_id}');
    expect(server.attributes).toMatchObject({
      'aid.operation': 'sendMspToken',
      'aid.caller': 'mspA',
      'aid.target': 'cmpA',
      'aid.dialect': 'aid02',
      'http.request.method': 'POST',
      'http.route': '/cesim/msp/v1/users/{account_id}',
      'http.response.status_code': 201,
    });
    expect(client.attributes).toMatchObject({
      'aid.operation': 'sendMspToken',
      'aid.caller': 'mspA',
      'aid.target': 'cmpA',
      'aid.dialect': 'aid02',
      'http.response.status_code': 201,
    });
    const received = world.partners.cmpA.received.find((r) => r.headers['cmp-request-id'] === answer.sent?.headers['cmp-request-id']);
    expect(received?.headers.traceparent).toBe(traceparentOf(traceId, client.spanId));
    // the log lines of the request carry the trace the spans are in
    expect(world.hub.logLines().some((l) => l.traceId === traceId)).toBe(true);
  });

  test('a request the hub refuses is a SERVER span with its status and no partner call', async () => {
    const traceId = hex(16);
    const answer = await world.hub.call({
      as: 'mspA',
      to: 'cmpA',
      method: 'POST',
      path: paths.sendMspToken(),
      body: sendMspTokenBody(randomUUID()),
      headers: { traceparent: traceparentOf(traceId, hex(8)), 'api-key': 'not-the-key' },
    });
    expect(answer.status).toBe(401);
    const [server] = await spansOf('hub-aid02', traceId, 1);
    expect(server.kind).toBe(SPAN_KIND.server);
    expect(server.attributes['http.response.status_code']).toBe(401);
    expect(server.attributes['aid.caller']).toBeUndefined();
    // give a stray partner call span time to arrive: there is none
    await new Promise((r) => setTimeout(r, 200));
    expect(receiver.of('hub-aid02').filter((s) => s.traceId === traceId)).toHaveLength(1);
  });

  test('an outbox delivery is a trace of its own, linked to the request that stored it (AID.02 7.8: "stored and will be processed")', async () => {
    const traceId = hex(16);
    const requestId = randomUUID();
    const answer = await world.hub.call({
      as: 'cmpA',
      to: 'mspA',
      method: 'POST',
      path: paths.sendCsimStatus(randomUUID()),
      body: sendCsimStatusBody('installed'),
      headers: { traceparent: traceparentOf(traceId, hex(8)), 'cmp-request-id': requestId },
    });
    expect(answer.status).toBe(201);
    const [server] = await spansOf('hub-aid02', traceId, 1);
    expect(server.attributes).toMatchObject({ 'aid.operation': 'sendCsimStatus', 'aid.outcome': 'stored', 'http.response.status_code': 201 });

    await waitFor(() => receiver.of('hub-aid02').some((s) => s.kind === SPAN_KIND.consumer && s.links.some((l) => l.spanId === server.spanId)));
    const delivery = receiver.of('hub-aid02').find((s) => s.kind === SPAN_KIND.consumer && s.links.some((l) => l.spanId === server.spanId)) as ReceivedSpan;
    expect(delivery.traceId).not.toBe(traceId);
    expect(delivery.parentSpanId).toBeUndefined();
    expect(delivery.links).toEqual([{ traceId, spanId: server.spanId }]);
    expect(delivery.attributes).toMatchObject({
      'aid.operation': 'sendCsimStatus',
      'aid.target': 'mspA',
      'aid.delivery.attempt': 1,
      'http.response.status_code': 201,
    });
    const client = only(await spansOf('hub-aid02', delivery.traceId, 2), SPAN_KIND.client);
    expect(client.parentSpanId).toBe(delivery.spanId);
    const received = world.partners.mspA.received.find((r) => r.headers['cmp-request-id'] === requestId);
    expect(received?.headers.traceparent).toBe(traceparentOf(delivery.traceId, client.spanId));
  });

  test('a bridged activation code, delivered by the outbox, is a trace linked to the request that asked for it (AID.02 7.7.2.1)', async () => {
    const code = { iccid: '8949000000000000077', activationCode: '1$smdp.example$LATEMARK', profileType: 'personal', swappedIccid: null };
    world.partners.mspB.answer(() => ({ status: 200, delayMs: 800, body: code }));
    const traceId = hex(16);
    const token = randomUUID();
    const answer = await world.hub.call({
      as: 'cmpA',
      to: 'mspB',
      method: 'POST',
      path: paths.requestActivationCode(token),
      body: requestActivationCodeBody(),
      headers: { traceparent: traceparentOf(traceId, hex(8)) },
    });
    expect(answer.status).toBe(201);
    await waitFor(() => world.partners.cmpA.received.some((r) => r.path === paths.submitActivationCode(token)));
    const linked = () => receiver.of('hub-aid02').find((s) => s.kind === SPAN_KIND.consumer && s.links.some((l) => l.traceId === traceId));
    await waitFor(() => linked() !== undefined);
    const delivery = linked() as ReceivedSpan;
    const request = await spansOf('hub-aid02', traceId, 2);
    expect(request.map((s) => s.spanId)).toContain(delivery.links[0].spanId);
    expect(only(request, SPAN_KIND.server).attributes['aid.outcome']).toBe('bridged');
    expect(delivery.attributes).toMatchObject({ 'aid.operation': 'submitActivationCode', 'aid.target': 'cmpA', 'http.response.status_code': 200 });
    expect(only(await spansOf('hub-aid02', delivery.traceId, 2), SPAN_KIND.client).parentSpanId).toBe(delivery.spanId);
    await new Promise((r) => setTimeout(r, 200));
    expectNoneOf({ token, activationCode: code.activationCode, iccid: code.iccid });
  });

  test('no span carries a body, a credential, an msp_token, an EID, an ICCID, a phone number or a concrete path', async () => {
    const token = randomUUID();
    await world.hub.call({ as: 'mspA', to: 'cmpA', method: 'POST', path: paths.sendMspToken(), body: sendMspTokenBody(token) });
    await world.hub.call({ as: 'cmpA', to: 'mspB', method: 'GET', path: paths.requestProfileStatus(token, ICCID) });
    await world.hub.call({ as: 'cmpA', to: 'mspA', method: 'POST', path: paths.sendCsimStatus(token), body: sendCsimStatusBody() });
    await waitFor(() => receiver.bodies.join('').includes('requestProfileStatus'));
    await waitFor(() => world.partners.mspA.received.some((r) => r.path === paths.sendCsimStatus(token)));
    await new Promise((r) => setTimeout(r, 200));
    expectNoneOf({ token, ACCOUNT_ID, PHONE, IV, EID, ICCID, apiKey: 'key-mspA', cmpKey: 'key-cmpA', password: 'pw-mspB', hubKey: 'hub-key-at-' });
  });
});

describe('sampling', () => {
  let world: World;
  beforeAll(async () => {
    world = await startWorld({ routes: ROUTES, tracing: settings('hub-sampled', { sampler: 'parentbased_traceidratio', ratio: 0 }) });
  });
  afterAll(() => world.close());

  test("parent-based: a caller's sampled trace is exported; a trace the hub starts falls to the ratio (0: none), and the partner hears it is not sampled", async () => {
    const traceId = hex(16);
    await world.hub.call({
      as: 'mspA',
      to: 'cmpA',
      method: 'POST',
      path: paths.sendMspToken(),
      body: sendMspTokenBody(randomUUID()),
      headers: { traceparent: traceparentOf(traceId, hex(8)) },
    });
    await spansOf('hub-sampled', traceId, 2);

    const unsampled = await world.hub.call({ as: 'mspA', to: 'cmpA', method: 'POST', path: paths.sendMspToken(), body: sendMspTokenBody(randomUUID()) });
    const received = world.partners.cmpA.received.find((r) => r.headers['cmp-request-id'] === unsampled.sent?.headers['cmp-request-id']);
    // W3C Trace Context 3.2.2.5: the sampled flag unset passes the decision on
    expect(received?.headers.traceparent).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-00$/);
    const unsampledTrace = String(received?.headers.traceparent).split('-')[1];
    await new Promise((r) => setTimeout(r, 300));
    expect(receiver.of('hub-sampled').filter((s) => s.traceId === unsampledTrace)).toEqual([]);
    expect(receiver.of('hub-sampled')).toHaveLength(2);
  });
});

test('a collector that is away is logged, and the requests are served as ever', async () => {
  const away = await freePort();
  const world = await startWorld({ tracing: settings('hub-away', { url: `http://127.0.0.1:${away}/v1/traces`, exportTimeoutMs: 500 }) });
  try {
    const answer = await world.hub.call({ as: 'mspA', to: 'cmpA', method: 'POST', path: paths.sendMspToken(), body: sendMspTokenBody(randomUUID()) });
    expect(answer.status).toBe(201);
    await waitFor(() => world.hub.logLines().some((l) => l.msg === 'traces not exported: the collector did not take them'));
  } finally {
    await world.close();
  }
});

describe('the command line', () => {
  const MAIN = path.join(__dirname, '../../dist/src/main.js');
  beforeAll(() => {
    if (!existsSync(MAIN)) expect(spawnSync('npx', ['tsc', '-p', 'tsconfig.json'], { cwd: path.join(__dirname, '../..') }).status).toBe(0);
  });

  test('start --otlp-endpoint exports under $OTEL_SERVICE_NAME; SIGTERM sends what is held', async () => {
    const msp = await FakePartner.start();
    const dir = mkdtempSync(path.join(tmpdir(), 'aidgw-tracing-'));
    writeConfig(
      dir,
      [
        { id: 'cmpA', role: 'cmp', apiKey: 'key-cmpA', upstreamUrl: 'http://127.0.0.1:1' },
        { id: 'mspA', role: 'msp', apiKey: 'key-mspA', upstreamUrl: msp.url },
      ],
      ALL_ROUTES,
    );
    const args = [MAIN, 'start', '--config', dir, '--listen', '127.0.0.1:0', '--admin-listen', 'off', '--otlp-endpoint', receiver.url];
    // a batch delay longer than the test: the spans arrive because the hub sends them when it stops
    const child = spawn(process.execPath, args, { env: { PATH: process.env.PATH, OTEL_SERVICE_NAME: 'hub-cli', OTEL_BSP_SCHEDULE_DELAY: '600000' } });
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    try {
      await waitFor(() => output.includes('hub started'));
      expect(output).toContain('exporting traces over OTLP/HTTP');
      const url = (JSON.parse(output.split('\n').find((l) => l.includes('hub started')) as string) as { urls: string[] }).urls[0];
      const traceId = hex(16);
      const answer = await request(`${url}${paths.requestActivationCode(randomUUID())}`, {
        method: 'POST',
        headers: {
          'api-key': 'key-cmpA',
          'client-id': 'cmpA',
          'target-id': 'mspA',
          'CMP-request-id': randomUUID(),
          'correlation-id': randomUUID(),
          'content-type': 'application/json',
          traceparent: traceparentOf(traceId, hex(8)),
        },
        body: JSON.stringify(requestActivationCodeBody()),
      });
      expect(answer.status).toBe(200);
      expect(receiver.of('hub-cli')).toEqual([]);
      const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
      child.kill('SIGTERM');
      expect(await exited).toBe(0);
      expect(
        receiver
          .of('hub-cli')
          .filter((s) => s.traceId === traceId)
          .map((s) => s.kind)
          .sort(),
      ).toEqual([SPAN_KIND.server, SPAN_KIND.client]);
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
      await msp.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('a wrong setting stops the start with its name (exit 2)', () => {
    const main = (args: string[], env: NodeJS.ProcessEnv = {}) =>
      spawnSync(process.execPath, [MAIN, 'start', '--config', path.join(__dirname, '../..'), '--listen', '127.0.0.1:0', '--admin-listen', 'off', ...args], {
        encoding: 'utf8',
        env: { PATH: process.env.PATH, ...env },
        timeout: 20000,
      });
    const scheme = main(['--otlp-endpoint', 'grpc://collector:4317']);
    expect(scheme.status).toBe(2);
    expect(scheme.stderr).toContain('--otlp-endpoint takes an http:// or https:// URL');
    const sampler = main([], { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:4318', OTEL_TRACES_SAMPLER: 'sometimes' });
    expect(sampler.status).toBe(2);
    expect(sampler.stderr).toContain('$OTEL_TRACES_SAMPLER "sometimes" is no sampler');
  });
});

describe('a dialect', () => {
  let world: TelcoWorld;
  beforeAll(async () => {
    world = await TelcoWorld.start({ tracing: settings('hub-telcoapi') });
  });
  afterAll(() => world.close());

  test("the platform calls of a dialect are CLIENT spans under its partner call; none carries an EID, ICCID, activation code or the platform's token", async () => {
    const token = await world.onboard();
    const traceId = hex(16);
    const eid = '89049032000001000000000831934057';
    const answer = await world.hub.call({
      as: 'cmpA',
      to: 'opt',
      method: 'POST',
      path: paths.requestActivationCode(token),
      body: { profileType: 'personal', deviceType: 'tcu', eid, activationCodeRequestID: randomUUID(), replaceIccid: null },
      headers: { traceparent: traceparentOf(traceId, hex(8)) },
    });
    expect(answer.status).toBe(200);

    // spans go out in batches as they end: the request's own ends last
    await waitFor(() => receiver.of('hub-telcoapi').some((s) => s.traceId === traceId && s.kind === SPAN_KIND.server));
    const spans = receiver.of('hub-telcoapi').filter((s) => s.traceId === traceId);
    const server = only(spans, SPAN_KIND.server);
    const call = only(spans, SPAN_KIND.client, /^call /);
    expect(call.parentSpanId).toBe(server.spanId);
    expect(call.attributes).toMatchObject({
      'aid.operation': 'requestActivationCode',
      'aid.caller': 'cmpA',
      'aid.target': 'opt',
      'aid.dialect': 'telcoapi',
      'http.response.status_code': 200,
    });
    expect(server.attributes).toMatchObject({ 'aid.dialect': 'telcoapi', 'http.route': '/v1/activation-code-requests/{msp_token}' });
    const platform = spans.filter((s) => s.kind === SPAN_KIND.client && s.parentSpanId === call.spanId);
    expect(platform.length).toBeGreaterThan(0);
    for (const span of platform) {
      expect(span.attributes).toMatchObject({
        'aid.target': 'opt',
        'aid.platform.operation': expect.any(String),
        'server.address': '127.0.0.1',
        'http.request.method': expect.any(String),
      });
      expect(span.attributes['http.response.status_code']).toEqual(expect.any(Number));
    }

    await new Promise((r) => setTimeout(r, 200));
    expectNoneOf({ token, eid, iccid: answer.body.iccid, activationCode: answer.body.activationCode, bearer: TOKEN, secret: SECRET, key: 'key-cmpA' });
  });
});
