/**
 * Store and forward through the outbox: nothing accepted is lost when the partner is down, when a
 * hub instance is killed while delivering, or when Redis restarts; what cannot be delivered within
 * the horizon goes to the dead letters, which the command line lists and replays.
 */
import { spawn, spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createClient } from 'redis';
import { PendingActivations } from '../../src/activation/pendingActivations';
import type { DialectAnswer, DialectCall, DialectInstance } from '../../src/dialects/dialect';
import { JourneyRecorder } from '../../src/journeys/recorder';
import { createLogger } from '../../src/log';
import { OutboxWorker } from '../../src/outbox/deliveryWorker';
import { dialectEvent, dialectTask } from '../../src/state/deliveries';
import type { PendingActivation } from '../../src/state/ledger';
import { pendingActivation } from '../support/stores';
import { FakePartner } from '../support/fakePartner';
import { FaultPlan, faultyStore } from '../support/faultyStore';
import { paths, sendCsimStatusBody } from '../support/messages';
import { REDIS_URL, uniquePrefix, deleteKeys } from '../support/redis';
import { restartablePort } from '../support/ports';
import { OwnRedis } from '../support/redisServer';
import { request, TestHub, writeConfig, type PartnerSpec } from '../support/testHub';
import { waitFor } from '../support/waitFor';

const MAIN = path.join(__dirname, '../../dist/src/main.js');
const SETTINGS = { outboxPollMs: 50, outboxRetryBaseMs: 100, outboxRetryMaxMs: 400, outboxClaimIdleMs: 1000 };
const ROUTES = { settings: SETTINGS, defaults: { tokenBinding: 'off' }, routes: [{ from: 'cmpA', to: 'mspA', storeAndForward: true }] };

// a breaker that soon lets a probe through again: these tests wait for partners to come back
const specsFor = (mspUrl: string): PartnerSpec[] => [
  { id: 'cmpA', role: 'cmp', apiKey: 'key-cmpA', upstreamUrl: 'http://127.0.0.1:1' },
  { id: 'mspA', role: 'msp', apiKey: 'key-mspA', upstreamUrl: mspUrl, extra: { upstream: { url: mspUrl, breaker: { resetTimeoutMs: 100 } } } },
];

const statusPath = (id: string) => paths.sendCsimStatus(id);
const deliveries = (msp: FakePartner) => msp.received.filter((r) => r.path.startsWith('/v1/statuses/')).map((r) => String(r.headers['cmp-request-id']));
const deliveredIds = (msp: FakePartner) => new Set(deliveries(msp));

async function sendStatuses(hubUrl: string, count: number): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < count; i++) {
    const id = randomUUID();
    const answer = await request(`${hubUrl}${statusPath(randomUUID())}`, {
      method: 'POST',
      headers: {
        'api-key': 'key-cmpA',
        'client-id': 'cmpA',
        'target-id': 'mspA',
        'CMP-request-id': id,
        'correlation-id': randomUUID(),
        'content-type': 'application/json',
      },
      body: JSON.stringify(sendCsimStatusBody('deleted')),
    });
    expect(answer.status).toBe(201);
    ids.push(id);
  }
  return ids;
}

test('store and forward: 201 at once while the MSP is down; delivered with the original ids when it is back', async () => {
  const port = await restartablePort();
  const hub = await TestHub.start({ partners: specsFor(`http://127.0.0.1:${port}`), routes: ROUTES });
  try {
    const correlationId = randomUUID();
    const answer = await hub.call({
      as: 'cmpA',
      to: 'mspA',
      method: 'POST',
      path: statusPath(randomUUID()),
      body: sendCsimStatusBody(),
      headers: { 'correlation-id': correlationId, 'CMP-request-id': '11111111-2222-4333-8444-555555555555' },
    });
    expect(answer.status).toBe(201);
    expect(answer.text).toBe('');
    await new Promise((r) => setTimeout(r, 500));
    const back = await FakePartner.start(port);
    try {
      await waitFor(() => back.received.length > 0);
      expect(back.received[0].headers['cmp-request-id']).toBe('11111111-2222-4333-8444-555555555555');
      expect(back.received[0].headers['correlation-id']).toBe(correlationId);
      expect(back.received[0].body).toEqual(sendCsimStatusBody());
      await waitFor(async () => {
        const depth = await hub.hub.store.outbox.depth();
        return depth.waiting === 0 && depth.ready === 0;
      });
      // accepted once, stored once, delivered once
      expect(back.received).toHaveLength(1);
    } finally {
      await back.close();
    }
  } finally {
    await hub.close();
  }
});

test('store and forward with the MSP up: each request accepted is stored once and delivered once', async () => {
  const msp = await FakePartner.start();
  const hub = await TestHub.start({ partners: specsFor(msp.url), routes: ROUTES });
  try {
    const ids = await sendStatuses(hub.url, 3);
    await waitFor(() => deliveredIds(msp).size === 3);
    await waitFor(async () => (await hub.hub.store.outbox.depth()).ready === 0);
    expect(deliveries(msp).sort()).toEqual([...ids].sort());
    expect(await hub.metric('aid_gateway_outbox_events_total', { event: 'enqueued' })).toBe(3);
    expect(await hub.metric('aid_gateway_outbox_events_total', { event: 'delivered' })).toBe(3);
  } finally {
    await hub.close();
    await msp.close();
  }
});

test('past the horizon a delivery goes to the dead letters; the command line lists and replays them', async () => {
  const msp = await FakePartner.start();
  msp.answer(() => ({ status: 503, body: { code: '90', error: 'down for maintenance' } }));
  const hub = await TestHub.start({ partners: specsFor(msp.url), routes: { ...ROUTES, settings: { ...SETTINGS, outboxHorizonSeconds: 1 } } });
  try {
    const [id] = await sendStatuses(hub.url, 1);
    await waitFor(async () => (await hub.hub.store.outbox.depth()).dead === 1);
    const cli = (args: string[]) =>
      spawnSync(process.execPath, [MAIN, 'outbox', ...args, '--redis-url', REDIS_URL, '--redis-prefix', hub.keyPrefix as string], { encoding: 'utf8' });
    const listed = cli(['dead']);
    expect(listed.status).toBe(0);
    const lines = listed.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines).toEqual([
      expect.objectContaining({ id, target: 'mspA', operation: 'sendCsimStatus', reason: 'not delivered within 1 s; last: the partner answered 503' }),
    ]);
    expect(await hub.metric('aid_gateway_outbox_events_total', { event: 'dead_lettered' })).toBe(1);

    msp.reset();
    const replayed = cli(['replay', '--all']);
    expect(replayed.stdout).toContain('1 dead letters back in the outbox');
    await waitFor(() => deliveredIds(msp).has(id));
    expect(cli(['dead']).stdout.trim()).toBe('');
  } finally {
    await hub.close();
    await msp.close();
  }
});

test('a partner refusing a delivery for good (4xx) sends it to the dead letters at once', async () => {
  const msp = await FakePartner.start();
  msp.answer(() => ({ status: 404, body: { code: '20', error: 'The msp_token was not found' } }));
  const hub = await TestHub.start({ partners: specsFor(msp.url), routes: ROUTES });
  try {
    await sendStatuses(hub.url, 1);
    await waitFor(async () => (await hub.hub.store.outbox.depth()).dead === 1);
    expect(msp.received).toHaveLength(1);
    expect((await hub.hub.store.outbox.listDead(10))[0].reason).toBe('the partner refused it with 404');
  } finally {
    await hub.close();
    await msp.close();
  }
});

// RFC 9110 15.5.9: a client "MAY repeat that request" after 408; RFC 6585 4: 429 asks the client
// to slow down. Neither refuses the delivery for good
test.each([408, 429, 500])('a partner answering %i is asked again, not dead-lettered, and the delivery goes through', async (status) => {
  const msp = await FakePartner.start();
  let calls = 0;
  msp.answer(() => (++calls <= 2 ? { status } : undefined));
  const hub = await TestHub.start({ partners: specsFor(msp.url), routes: ROUTES });
  try {
    const [id] = await sendStatuses(hub.url, 1);
    await waitFor(() => calls === 3);
    await waitFor(async () => (await hub.hub.store.outbox.depth()).ready === 0);
    expect(deliveries(msp)).toEqual([id, id, id]);
    expect((await hub.hub.store.outbox.depth()).dead).toBe(0);
    expect(await hub.metric('aid_gateway_outbox_events_total', { event: 'retried' })).toBe(2);
    expect(await hub.metric('aid_gateway_outbox_events_total', { event: 'delivered' })).toBe(1);
  } finally {
    await hub.close();
    await msp.close();
  }
});

test('a partner\'s Retry-After is waited out before it is asked again, over a shorter backoff (RFC 9110 10.2.3: "how long the user agent ought to wait before making a follow-up request")', async () => {
  const msp = await FakePartner.start();
  let calls = 0;
  msp.answer(() => (++calls === 1 ? { status: 503, headers: { 'retry-after': '3' }, body: { code: '90', error: 'busy' } } : undefined));
  const hub = await TestHub.start({ partners: specsFor(msp.url), routes: ROUTES });
  try {
    await sendStatuses(hub.url, 1);
    await waitFor(() => calls === 1);
    // the backoff alone (100 to 400 ms) would have asked again several times by now
    await new Promise((r) => setTimeout(r, 1500));
    expect(calls).toBe(1);
    await waitFor(() => calls === 2, 10000);
  } finally {
    await hub.close();
    await msp.close();
  }
});

test('a delivery to a partner no longer configured goes to the dead letters, saying so', async () => {
  const port = await restartablePort();
  const hub = await TestHub.start({ partners: specsFor(`http://127.0.0.1:${port}`), routes: ROUTES });
  try {
    await sendStatuses(hub.url, 1);
    hub.writeConfig(
      specsFor(`http://127.0.0.1:${port}`).filter((p) => p.id !== 'mspA'),
      { settings: SETTINGS, defaults: { tokenBinding: 'off' }, routes: [] },
    );
    expect(hub.hub.reload()).toEqual(expect.objectContaining({ ok: true }));
    await waitFor(async () => (await hub.hub.store.outbox.depth()).dead === 1);
    expect((await hub.hub.store.outbox.listDead(10))[0].reason).toBe('partner mspA is no longer configured');
    expect(await hub.metric('aid_gateway_outbox_events_total', { event: 'dead_lettered' })).toBe(1);
  } finally {
    await hub.close();
  }
});

test('a hub instance killed with SIGKILL while delivering: another instance claims and delivers everything', async () => {
  const msp = await FakePartner.start();
  msp.answer(() => ({ status: 201, delayMs: 20000 }));
  const prefix = uniquePrefix();
  const dir = mkdtempSync(path.join(tmpdir(), 'aidgw-outbox-'));
  writeConfig(dir, specsFor(msp.url), ROUTES);
  const child = spawn(
    process.execPath,
    [
      MAIN,
      'start',
      '--config',
      dir,
      '--listen',
      '127.0.0.1:0',
      '--admin-listen',
      '127.0.0.1:0',
      '--workers',
      '1',
      '--redis-url',
      REDIS_URL,
      '--redis-prefix',
      prefix,
    ],
    { env: { PATH: process.env.PATH } },
  );
  let output = '';
  child.stdout.on('data', (d: Buffer) => (output += d.toString()));
  let survivor: TestHub | undefined;
  try {
    await waitFor(() => output.includes('hub started'));
    const url = (JSON.parse(output.split('\n').find((l) => l.includes('hub started')) as string) as { urls: string[] }).urls[0];
    const ids = await sendStatuses(url, 5);
    // the doomed instance has taken all five and is waiting for the slow MSP
    await waitFor(() => deliveredIds(msp).size === 5);
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGKILL');
    await exited;

    msp.reset();
    survivor = await TestHub.start({ partners: specsFor(msp.url), routes: ROUTES, redisKeyPrefix: prefix });
    await waitFor(() => deliveredIds(msp).size === 5);
    await waitFor(async () => (await survivor!.hub.store.outbox.depth()).ready === 0);
    // every call the MSP received, not a set of them: each of the five once, none twice
    expect(deliveries(msp).sort()).toEqual([...ids].sort());
  } finally {
    if (child.exitCode === null) child.kill('SIGKILL');
    await survivor?.close();
    await msp.close();
    await deleteKeys(prefix);
    rmSync(dir, { recursive: true, force: true });
  }
});

test('Redis restarted (append-only file) while deliveries wait: nothing accepted is lost', async () => {
  const redis = await OwnRedis.start({ persistent: true });
  const port = await restartablePort();
  const hub = await TestHub.start({ partners: specsFor(`http://127.0.0.1:${port}`), routes: ROUTES, redisUrl: redis.url });
  let back: FakePartner | undefined;
  try {
    const ids = await sendStatuses(hub.url, 10);
    await new Promise((r) => setTimeout(r, 300));
    await redis.kill();
    await redis.startAgain();
    back = await FakePartner.start(port);
    const msp2 = back;
    await waitFor(() => deliveredIds(msp2).size === 10, 20000);
    expect([...deliveredIds(msp2)].sort()).toEqual([...ids].sort());
  } finally {
    await hub.close();
    await back?.close();
    await redis.remove();
  }
});

describe('a worker whose store call failed takes back what it had taken itself', () => {
  // the rounds are driven by the test (the hub's own loop stopped), over a store that loses the
  // answer of a chosen call; no other instance claims anything within the test
  const plan = new FaultPlan();
  let msp: FakePartner;
  let hub: TestHub;

  beforeEach(async () => {
    plan.reset();
    msp = await FakePartner.start();
    hub = await TestHub.start({
      partners: specsFor(msp.url),
      routes: { ...ROUTES, settings: { ...SETTINGS, outboxClaimIdleMs: 3600000 } },
      wrapStore: (store) => faultyStore(store, plan),
    });
    await hub.hub.worker.stop();
  });

  afterEach(async () => {
    await hub.close();
    await msp.close();
  });

  test('reads whose answers were lost: everything they took is delivered on the next rounds, once, though it is more than a round holds', async () => {
    const ids = await sendStatuses(hub.url, 25);
    // a round reads ten; the first round's read ran, its answer lost: those ten are the worker's
    plan.arm(0, 'lost');
    await expect(hub.hub.worker.pass()).rejects.toThrow();
    expect(plan.hit).toBe('lost outbox.receive');
    // the next round reads those ten back (call 0), then reads ten more, and loses that answer too
    plan.arm(1, 'lost');
    await expect(hub.hub.worker.pass()).rejects.toThrow();
    expect(plan.hit).toBe('lost outbox.receive');
    expect(msp.received).toHaveLength(0);
    plan.reset();
    // twenty of its own unseen, five still ready: ten of its own and the five, then the other ten
    for (let round = 0; round < 3; round++) await hub.hub.worker.pass();
    expect(deliveries(msp).sort()).toEqual([...ids].sort());
    expect(await hub.hub.store.outbox.depth()).toEqual(expect.objectContaining({ ready: 0, waiting: 0, dead: 0 }));
  });

  test('a delivery whose next attempt could not be queued is taken back on the next round, under the same CMP-request-id', async () => {
    let calls = 0;
    msp.answer(() => (++calls === 1 ? { status: 503, body: { code: '90', error: 'busy' } } : undefined));
    const [id] = await sendStatuses(hub.url, 1);
    // call 0: the read that takes it; call 1: its next attempt queued after the 503, failing before it ran
    plan.arm(1, 'before');
    await expect(hub.hub.worker.pass()).rejects.toThrow();
    expect(plan.hit).toBe('before outbox.retryLater');
    plan.reset();
    await hub.hub.worker.pass();
    expect(deliveries(msp)).toEqual([id, id]);
    expect(await hub.hub.store.outbox.depth()).toEqual(expect.objectContaining({ ready: 0, waiting: 0, dead: 0 }));
  });

  test("only what it took itself: another instance's deliveries under way are not taken twice", async () => {
    msp.answer(() => ({ status: 201, delayMs: 1000 }));
    const other = await TestHub.start({ partners: specsFor(msp.url), routes: ROUTES, redisKeyPrefix: hub.keyPrefix });
    try {
      await other.hub.worker.stop();
      const ids = await sendStatuses(hub.url, 2);
      // the other instance takes both and waits for the slow MSP
      const otherRound = other.hub.worker.pass();
      await waitFor(() => msp.received.length === 2);
      ids.push(...(await sendStatuses(hub.url, 1)));
      // this one takes the third, the read's answer lost; its next round takes back its own
      plan.arm(0, 'lost');
      await expect(hub.hub.worker.pass()).rejects.toThrow();
      expect(plan.hit).toBe('lost outbox.receive');
      plan.reset();
      await hub.hub.worker.pass();
      await otherRound;
      expect(deliveries(msp).sort()).toEqual([...ids].sort());
    } finally {
      await other.close();
    }
  });
});

test('the loop of a worker whose round failed logs the failure and goes on', async () => {
  const plan = new FaultPlan();
  const msp = await FakePartner.start();
  const hub = await TestHub.start({
    partners: specsFor(msp.url),
    routes: { ...ROUTES, settings: { ...SETTINGS, outboxClaimIdleMs: 3600000 } },
    wrapStore: (store) => faultyStore(store, plan),
  });
  try {
    // a first delivery numbers the store calls: the request's, then the worker's read that takes it
    plan.reset();
    const [first] = await sendStatuses(hub.url, 1);
    await waitFor(() => deliveries(msp).includes(first));
    plan.arm(plan.calls.indexOf('outbox.receive'), 'lost');
    const [id] = await sendStatuses(hub.url, 1);
    await waitFor(() => deliveries(msp).includes(id));
    expect(plan.hit).toBe('lost outbox.receive');
    expect(hub.logLines()).toContainEqual(expect.objectContaining({ msg: 'outbox pass failed; retrying', err: expect.stringContaining('outbox.receive') }));
  } finally {
    await hub.close();
    await msp.close();
  }
});

test('a hub that stops waits for the delivery under way (delivered and acknowledged, not left for another instance to claim), and its worker runs no more rounds', async () => {
  const msp = await FakePartner.start();
  msp.answer(() => ({ status: 201, delayMs: 1000 }));
  const prefix = uniquePrefix();
  const hub = await TestHub.start({ partners: specsFor(msp.url), routes: ROUTES, redisKeyPrefix: prefix });
  const redis = createClient({ url: REDIS_URL });
  try {
    const [id] = await sendStatuses(hub.url, 1);
    await waitFor(() => msp.received.length === 1);
    await hub.close();
    expect(deliveries(msp)).toEqual([id]);
    // and its worker has stopped: no round runs over the closed store (several poll times later)
    const linesAtClose = hub.logs.length;
    await new Promise((r) => setTimeout(r, 10 * SETTINGS.outboxPollMs));
    expect(hub.logLines().slice(linesAtClose)).toEqual([]);
    await redis.connect();
    expect(await redis.xLen(`${prefix}outbox`)).toBe(0);
    expect(await redis.zCard(`${prefix}outbox:waiting`)).toBe(0);
  } finally {
    await redis.close().catch(() => undefined);
    await msp.close();
    await deleteKeys(prefix);
  }
});

test('a partner that cannot be reached until the horizon: the dead letter says what the last attempt met', async () => {
  const port = await restartablePort();
  const hub = await TestHub.start({
    partners: specsFor(`http://127.0.0.1:${port}`),
    routes: { ...ROUTES, settings: { ...SETTINGS, outboxHorizonSeconds: 1 } },
  });
  try {
    await sendStatuses(hub.url, 1);
    await waitFor(async () => (await hub.hub.store.outbox.depth()).dead === 1);
    const [dead] = await hub.hub.store.outbox.listDead(10);
    // the breaker opens after repeated failures: the last attempt met one or the other
    expect(dead.reason).toMatch(/^not delivered within 1 s; last: (connection refused|its circuit breaker is open after repeated failures)$/);
    // each attempt after the first counted, once
    expect(dead.delivery.attempts).toBeGreaterThan(0);
    expect(dead.delivery.attempts).toBe(await hub.metric('aid_gateway_outbox_events_total', { event: 'retried' }));
  } finally {
    await hub.close();
  }
});

describe("a dialect's own deliveries, as its instance receives them", () => {
  // a worker of the test's own over the hub's Redis outbox (the hub's stopped), whose target's
  // dialect is one that records each call and answers as the test says
  let hub: TestHub;
  let worker: OutboxWorker;
  let activations: PendingActivations;
  let journeys: JourneyRecorder;
  let calls: DialectCall[];
  let answer: (call: DialectCall) => DialectAnswer;
  const lines: Record<string, unknown>[] = [];
  const dialect: DialectInstance = {
    call: (call) => {
      calls.push(call);
      return Promise.resolve(answer(call));
    },
  };
  const answered = (status: number, retryAfter?: string): DialectAnswer => ({ status, retryAfter, body: Buffer.alloc(0), durationMs: 1 });

  beforeEach(async () => {
    calls = [];
    lines.length = 0;
    answer = () => answered(204);
    hub = await TestHub.start({ partners: specsFor('http://127.0.0.1:1'), routes: ROUTES });
    await hub.hub.worker.stop();
    const log = createLogger({ level: 'debug', destination: { write: (line: string) => void lines.push(JSON.parse(line) as Record<string, unknown>) } });
    const { store, metrics, config } = hub.hub;
    activations = new PendingActivations(store.ledger, metrics, () => config.settings);
    journeys = new JourneyRecorder(store.journeys, () => config.settings);
    worker = new OutboxWorker(store.outbox, activations, () => ({ config: hub.hub.config, dialectFor: () => dialect }), log, metrics, undefined, journeys);
  });

  afterEach(() => hub.close());

  /** an activation request the hub answered 201 itself (bridged), its deadline entry due at once */
  async function bridged(): Promise<PendingActivation> {
    const pending = pendingActivation({ claimId: randomUUID() });
    expect(await activations.claim(pending, 'fingerprint', 60000)).toEqual({ state: 'claimed' });
    return activations.bridge(pending, Date.now());
  }

  const sendActivationCodeOf = (pending: PendingActivation, body: Record<string, unknown>) =>
    expect.objectContaining({
      operation: 'submitActivationCode',
      caller: 'mspA',
      target: 'cmpA',
      method: 'POST',
      path: `/cesim/msp/v1/activation-codes/${pending.mspToken}`,
      headers: expect.objectContaining({
        'client-id': 'mspA',
        'target-id': 'cmpA',
        'correlation-id': pending.correlationId,
        'content-type': 'application/json',
      }),
      json: body,
    });

  // AID.02 7.7.2: after the 201, "If an error occurs during processing, the MSP uses the CMP's API
  // "Send activation code" to deliver the error description to the CMP"; the hub does so for an MSP
  // that never answered its bridged request
  test("a bridged request's deadline come with nothing settled: the CMP is sent the error, every other field null, once", async () => {
    const pending = await bridged();
    for (let round = 0; round < 3; round++) await worker.pass();
    expect(calls).toEqual([
      sendActivationCodeOf(pending, {
        activationCode: null,
        profileType: null,
        activationCodeRequestID: pending.requestId,
        error: '90: The MSP did not answer the activation code request in time',
        iccid: null,
        swappedIccid: null,
      }),
    ]);
    // its CMP-request-id is the delivery's own, the same on every attempt
    expect(calls[0].headers['cmp-request-id']).toMatch(/^[0-9a-f-]{36}$/);
    expect(await hub.hub.store.outbox.depth()).toEqual(expect.objectContaining({ ready: 0, waiting: 0 }));
  });

  /** what the journey of `token` tells of its deliveries */
  async function deliverySteps(token: string): Promise<Record<string, unknown>[]> {
    await journeys.journeys.flush();
    const events = (await journeys.journeys.read(token))?.events ?? [];
    return events
      .filter((e) => e.operation.startsWith('delivery.'))
      .map(({ operation, from, to, outcome, status, code, requestId, detail, stage }) => ({
        operation,
        from,
        to,
        outcome,
        status,
        code,
        requestId,
        detail,
        stage,
      }));
  }

  test("the journey tells of a bridged request's error delivered: no code, the error's code, and nothing more awaited", async () => {
    const pending = await bridged();
    for (let round = 0; round < 3; round++) await worker.pass();
    expect(await deliverySteps(pending.mspToken)).toEqual([
      {
        operation: 'delivery.submitActivationCode',
        from: 'mspA',
        to: 'cmpA',
        outcome: 'delivered',
        status: 204,
        code: '90',
        requestId: pending.requestId,
        detail: 'no code: error delivered',
        stage: 'settled',
      },
    ]);
  });

  test("the journey tells of a Send CSIM Status tried again, delivered or refused for good: the attempt, the status, the partner's status", async () => {
    const token = randomUUID();
    const statusTo = (status: string) => hub.call({ as: 'cmpA', to: 'mspA', method: 'POST', path: statusPath(token), body: sendCsimStatusBody(status) });
    const replies = [answered(503), answered(201), answered(404)];
    answer = () => replies.shift() as DialectAnswer;
    expect((await statusTo('deleted')).status).toBe(201);
    await worker.pass();
    await hub.hub.store.outbox.promoteDue(Date.now() + 60000);
    await worker.pass();
    expect((await statusTo('enabled')).status).toBe(201);
    await worker.pass();
    expect(await deliverySteps(token)).toEqual([
      expect.objectContaining({
        operation: 'delivery.sendCsimStatus',
        from: 'cmpA',
        to: 'mspA',
        outcome: 'retried (attempt 1)',
        status: undefined,
        detail: 'CSIM deleted',
        stage: undefined,
      }),
      expect.objectContaining({ operation: 'delivery.sendCsimStatus', outcome: 'delivered', status: 201, detail: 'CSIM deleted', stage: 'settled' }),
      expect.objectContaining({ operation: 'delivery.sendCsimStatus', outcome: 'dead-lettered', status: 404, detail: 'CSIM enabled', stage: undefined }),
    ]);
  });

  test("a bridged request's late code: the CMP is sent it, the ICCIDs it did not name as null, and the deadline sends nothing more", async () => {
    const pending = await bridged();
    await activations.answeredLate({ ...pending, bridged: true }, { code: { activationCode: '1$smdp.example$LATE', profileType: 'personal' } });
    for (let round = 0; round < 3; round++) await worker.pass();
    expect(calls).toEqual([
      sendActivationCodeOf(pending, {
        activationCode: '1$smdp.example$LATE',
        profileType: 'personal',
        activationCodeRequestID: pending.requestId,
        error: null,
        iccid: null,
        swappedIccid: null,
      }),
    ]);
    // and the journey: the code delivered, its CSIM status awaited next
    expect(await deliverySteps(pending.mspToken)).toEqual([
      expect.objectContaining({
        operation: 'delivery.submitActivationCode',
        outcome: 'delivered',
        code: undefined,
        detail: 'activation code delivered',
        stage: 'awaitingCsimStatus',
      }),
    ]);
  });

  test('an event reaches its instance as the JSON it was queued as, under its own id, from the hub itself; once done, the log says so', async () => {
    const id = randomUUID();
    await hub.hub.store.outbox.enqueue(dialectEvent('mspA', id, { event: 'profileInstalled', iccid: '8949000000000000001' }));
    await worker.pass();
    expect(calls).toEqual([
      expect.objectContaining({
        operation: 'dialectEvent',
        caller: '',
        target: 'mspA',
        method: 'POST',
        path: '',
        params: {},
        headers: { 'content-type': 'application/json', 'event-id': id },
        json: { event: 'profileInstalled', iccid: '8949000000000000001' },
      }),
    ]);
    expect(lines).toContainEqual(
      expect.objectContaining({ msg: 'outbox delivery done', delivery: id, target: 'mspA', operation: 'dialectEvent', attempts: 1 }),
    );
    expect((await hub.hub.store.outbox.depth()).ready).toBe(0);
  });

  test('a task scheduled twice under its id is queued once; tasks without one are each their own', async () => {
    await hub.hub.store.outbox.enqueue(dialectTask('mspA', { task: 'a' }, 'task-a'));
    await hub.hub.store.outbox.enqueue(dialectTask('mspA', { task: 'a' }, 'task-a'));
    await hub.hub.store.outbox.enqueue(dialectTask('mspA', { task: 'b' }));
    await hub.hub.store.outbox.enqueue(dialectTask('mspA', { task: 'b' }));
    await worker.pass();
    expect(calls[0]).toEqual(expect.objectContaining({ target: 'mspA', method: 'POST', path: '', headers: { 'content-type': 'application/json' } }));
    expect(calls.map((c) => [c.operation, c.json])).toEqual([
      ['dialectTask', { task: 'a' }],
      ['dialectTask', { task: 'b' }],
      ['dialectTask', { task: 'b' }],
    ]);
  });

  test('a task that asks to be looked at again later (a Retry-After) is no failure: retried, and logged as waiting, not as failed', async () => {
    answer = () => answered(503, '1');
    const task = dialectTask('mspA', { task: 'vehicle action under way' });
    await hub.hub.store.outbox.enqueue(task);
    await worker.pass();
    expect(calls).toHaveLength(1);
    expect(await hub.hub.store.outbox.depth()).toEqual(expect.objectContaining({ ready: 0, waiting: 1 }));
    expect(lines).toContainEqual(expect.objectContaining({ msg: 'dialect task waits; looked at again later', delivery: task.id, target: 'mspA', attempts: 1 }));
    expect(lines.filter((l) => l.level === 40 || l.level === 50)).toEqual([]);
  });

  test('an event its partner answers 503 with a Retry-After is a failure all the same: retried and logged as failed', async () => {
    answer = () => answered(503, '1');
    const id = randomUUID();
    await hub.hub.store.outbox.enqueue(dialectEvent('mspA', id, { event: 'x' }));
    await worker.pass();
    expect(lines).toContainEqual(
      expect.objectContaining({ msg: 'outbox delivery failed; will retry', delivery: id, target: 'mspA', attempts: 1, failure: 'the partner answered 503' }),
    );
  });

  test("an event whose instance failed in the hub (a dialect's own error) is tried again, and the log says where it failed", async () => {
    answer = () => {
      throw new Error('the fleet store is away');
    };
    const id = randomUUID();
    await hub.hub.store.outbox.enqueue(dialectEvent('mspA', id, { event: 'x' }));
    await worker.pass();
    expect(await hub.hub.store.outbox.depth()).toEqual(expect.objectContaining({ ready: 0, waiting: 1, dead: 0 }));
    expect(lines).toContainEqual(
      expect.objectContaining({ msg: 'outbox delivery failed in the hub', delivery: id, target: 'mspA', err: 'the fleet store is away' }),
    );
    expect(lines).toContainEqual(
      expect.objectContaining({ msg: 'outbox delivery failed; will retry', delivery: id, target: 'mspA', attempts: 1, failure: 'the fleet store is away' }),
    );
  });
});
