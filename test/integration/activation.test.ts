/**
 * Asynchronous activation codes (AID.02 7.7.2) and idempotent retries: pending requests are matched
 * and consumed once, across hub instances sharing one Redis; a retried request never reaches the
 * MSP twice.
 */
import { randomUUID } from 'node:crypto';
import { createClient } from 'redis';
import { paths, requestActivationCodeBody, sendMspTokenBody, submitActivationCodeBody } from '../support/messages';
import { REDIS_URL } from '../support/redis';
import { startWorld, TestHub, type PartnerSpec, type World } from '../support/testHub';

let world: World;

beforeAll(async () => {
  world = await startWorld();
});
afterAll(() => world.close());
beforeEach(() => Object.values(world.partners).forEach((p) => p.reset()));

async function onboard(msp: string, cmp: string): Promise<string> {
  const token = randomUUID();
  await world.hub.call({ as: msp, to: cmp, method: 'POST', path: paths.sendMspToken(), body: sendMspTokenBody(token) });
  return token;
}

async function pendingRequest(hub: TestHub, msp: 'mspA' | 'mspB', cmp: string, token: string): Promise<string> {
  world.partners[msp].answer((req) => (req.path.startsWith('/v1/activation-code-requests/') ? { status: 201 } : undefined));
  const requestId = randomUUID();
  const answer = await hub.call({ as: cmp, to: msp, method: 'POST', path: paths.requestActivationCode(token), body: requestActivationCodeBody(requestId) });
  expect(answer.status).toBe(201);
  return requestId;
}

const deliver = (hub: TestHub, msp: string, cmp: string, token: string, requestId: string | null) =>
  hub.call({ as: msp, to: cmp, method: 'POST', path: paths.submitActivationCode(token), body: submitActivationCodeBody(requestId) });

describe('Send Activation Code matching', () => {
  test('an ID that was never requested is refused with 422 code 30 and not forwarded', async () => {
    const token = await onboard('mspA', 'cmpA');
    const answer = await deliver(world.hub, 'mspA', 'cmpA', token, randomUUID());
    expect(answer.status).toBe(422);
    expect(answer.body).toEqual({ code: '30', error: 'The activationCodeRequestID could not be matched.' });
    expect(world.partners.cmpA.received.filter((r) => r.path.includes('activation-codes'))).toHaveLength(0);
  });

  test('a match is consumed once: the second delivery of the same ID is refused', async () => {
    const token = await onboard('mspA', 'cmpA');
    const requestId = await pendingRequest(world.hub, 'mspA', 'cmpA', token);
    expect((await deliver(world.hub, 'mspA', 'cmpA', token, requestId)).status).toBe(200);
    const again = await deliver(world.hub, 'mspA', 'cmpA', token, requestId);
    expect(again.status).toBe(422);
    expect(again.body.code).toBe('30');
  });

  test('the ID of another token, or the pending request of another CMP, does not match', async () => {
    const token = await onboard('mspA', 'cmpA');
    const requestId = await pendingRequest(world.hub, 'mspA', 'cmpA', token);
    const otherToken = await onboard('mspA', 'cmpA');
    expect((await deliver(world.hub, 'mspA', 'cmpA', otherToken, requestId)).body.code).toBe('30');
    const tokenB = await onboard('mspA', 'cmpB');
    expect((await deliver(world.hub, 'mspA', 'cmpB', tokenB, requestId)).body.code).toBe('30');
    expect((await deliver(world.hub, 'mspA', 'cmpA', token, requestId)).status).toBe(200);
  });

  test('a delivery the CMP could not take stays pending and can be sent again', async () => {
    const token = await onboard('mspB', 'cmpB');
    const requestId = await pendingRequest(world.hub, 'mspB', 'cmpB', token);
    world.partners.cmpB.answer(() => ({ status: 500, body: { code: '90', error: 'Internal Server Error' } }));
    expect((await deliver(world.hub, 'mspB', 'cmpB', token, requestId)).status).toBe(500);
    world.partners.cmpB.reset();
    expect((await deliver(world.hub, 'mspB', 'cmpB', token, requestId)).status).toBe(200);
  });

  test('a delivery racing the 201 matches, and reaches the CMP only after the 201 (7.7.2 Note: "the CMP has the 201 before it gets Send Activation Code")', async () => {
    const holdsRunOut = () => world.hub.logLines().filter((l) => String(l.msg).startsWith('the 201 of this request was not seen sent')).length;
    const holdsBefore = holdsRunOut();
    const token = await onboard('mspB', 'cmpA');
    const requestId = randomUUID();
    let delivery: Promise<{ status: number }> | undefined;
    const order: string[] = [];
    world.partners.cmpA.answer((req) => {
      if (req.path === paths.submitActivationCode(token)) order.push('delivery reached the CMP');
      return undefined;
    });
    world.partners.mspB.answer((req) => {
      if (!req.path.startsWith('/v1/activation-code-requests/')) return undefined;
      // the MSP sends its delivery at once, then answers 201 a moment later
      delivery = deliver(world.hub, 'mspB', 'cmpA', token, requestId);
      return { status: 201, delayMs: 300 };
    });
    const answer = await world.hub.call({
      as: 'cmpA',
      to: 'mspB',
      method: 'POST',
      path: paths.requestActivationCode(token),
      body: requestActivationCodeBody(requestId),
    });
    order.push('201 reached the CMP');
    expect(answer.status).toBe(201);
    expect((await delivery)?.status).toBe(200);
    expect(order).toEqual(['201 reached the CMP', 'delivery reached the CMP']);
    // held until the 201 was sent, not until the hold ran out (docs/architecture.md: "at most 5 s;
    // then it goes all the same, and the log says so")
    expect(holdsRunOut()).toBe(holdsBefore);
  });

  test("correlation: strict refuses a delivery whose correlation-id is not its request's, with 422 code 92 (AID.02 5.1, 5.5 code 92)", async () => {
    const strict = await TestHub.start({
      partners: [
        { id: 'mspA', role: 'msp', apiKey: 'key-mspA', upstreamUrl: world.partners.mspA.url },
        { id: 'cmpA', role: 'cmp', apiKey: 'key-cmpA', upstreamUrl: world.partners.cmpA.url },
      ],
      routes: {
        routes: [
          { from: '*', to: '*' },
          { from: 'mspA', to: 'cmpA', correlation: 'strict' },
        ],
      },
    });
    try {
      world.partners.mspA.answer((req) => (req.path.startsWith('/v1/activation-code-requests/') ? { status: 201 } : undefined));
      const token = randomUUID();
      await strict.call({ as: 'mspA', to: 'cmpA', method: 'POST', path: paths.sendMspToken(), body: sendMspTokenBody(token) });
      const requestId = randomUUID();
      const correlationId = randomUUID();
      const asked = await strict.call({
        as: 'cmpA',
        to: 'mspA',
        method: 'POST',
        path: paths.requestActivationCode(token),
        body: requestActivationCodeBody(requestId),
        headers: { 'correlation-id': correlationId },
      });
      expect(asked.status).toBe(201);
      const stranger = await strict.call({
        as: 'mspA',
        to: 'cmpA',
        method: 'POST',
        path: paths.submitActivationCode(token),
        body: submitActivationCodeBody(requestId),
      });
      expect(stranger.status).toBe(422);
      expect(stranger.body.code).toBe('92');
      const matching = await strict.call({
        as: 'mspA',
        to: 'cmpA',
        method: 'POST',
        path: paths.submitActivationCode(token),
        body: submitActivationCodeBody(requestId),
        headers: { 'correlation-id': correlationId.toUpperCase() },
      });
      expect(matching.status).toBe(200);
    } finally {
      await strict.close();
    }
  });

  test('a synchronous 200 leaves nothing pending: a delivery for it is refused', async () => {
    const token = await onboard('mspA', 'cmpA');
    const requestId = randomUUID();
    expect(
      (await world.hub.call({ as: 'cmpA', to: 'mspA', method: 'POST', path: paths.requestActivationCode(token), body: requestActivationCodeBody(requestId) }))
        .status,
    ).toBe(200);
    expect((await deliver(world.hub, 'mspA', 'cmpA', token, requestId)).body.code).toBe('30');
  });

  test('an MSP slower than the budget that then goes asynchronous delivers itself, once', async () => {
    const token = await onboard('mspA', 'cmpB');
    world.partners.mspA.answer(() => ({ status: 201, delayMs: 3500 }));
    const requestId = randomUUID();
    const bridged = await world.hub.call({
      as: 'cmpB',
      to: 'mspA',
      method: 'POST',
      path: paths.requestActivationCode(token),
      body: requestActivationCodeBody(requestId),
    });
    expect(bridged.status).toBe(201);
    expect((await deliver(world.hub, 'mspA', 'cmpB', token, requestId)).status).toBe(200);
    // the MSP's own late 201 arrives after its delivery: it must not open the request again
    await new Promise((r) => setTimeout(r, 800));
    expect((await deliver(world.hub, 'mspA', 'cmpB', token, requestId)).body.code).toBe('30');
    world.partners.mspA.reset();
  });

  test('an error delivery with a null ID matches when exactly one request of the token is pending', async () => {
    const token = await onboard('mspA', 'cmpB');
    await pendingRequest(world.hub, 'mspA', 'cmpB', token);
    expect((await deliver(world.hub, 'mspA', 'cmpB', token, null)).status).toBe(200);
    await pendingRequest(world.hub, 'mspA', 'cmpB', token);
    await pendingRequest(world.hub, 'mspA', 'cmpB', token);
    const ambiguous = await deliver(world.hub, 'mspA', 'cmpB', token, null);
    expect(ambiguous.status).toBe(422);
    expect(ambiguous.body.error).toContain('2 requests');
  });
});

describe('idempotent Request Activation Code', () => {
  test('a retry with the same activationCodeRequestID gets the first answer and the MSP sees one request', async () => {
    const token = await onboard('mspA', 'cmpA');
    let n = 0;
    world.partners.mspA.answer(() => ({
      status: 200,
      body: { iccid: `894900000000000000${++n}`, activationCode: `1$smdp.example$CODE${n}`, profileType: 'personal', swappedIccid: null },
    }));
    const body = requestActivationCodeBody();
    const first = await world.hub.call({ as: 'cmpA', to: 'mspA', method: 'POST', path: paths.requestActivationCode(token), body });
    const retry = await world.hub.call({ as: 'cmpA', to: 'mspA', method: 'POST', path: paths.requestActivationCode(token), body });
    expect(retry.status).toBe(200);
    expect(retry.body).toEqual(first.body);
    expect(world.partners.mspA.received).toHaveLength(1);
  });

  test("a retry gets the MSP's answer byte for byte, as the first call did", async () => {
    const token = await onboard('mspA', 'cmpA');
    const raw = '{ "iccid": "8949000000000000051",  "activationCode": "1$smdp.example$BYTES", "profileType": "personal", "swappedIccid": null }';
    world.partners.mspA.answer(() => ({ status: 200, raw }));
    const body = requestActivationCodeBody();
    const first = await world.hub.call({ as: 'cmpA', to: 'mspA', method: 'POST', path: paths.requestActivationCode(token), body });
    const retry = await world.hub.call({ as: 'cmpA', to: 'mspA', method: 'POST', path: paths.requestActivationCode(token), body });
    expect(first.text).toBe(raw);
    expect(retry.text).toBe(raw);
    // and typed as the first was: JSON (RFC 9110 8.3: the Content-Type tells the CMP how to read it)
    expect(retry.headers.get('content-type')).toBe(first.headers.get('content-type'));
    expect(world.partners.mspA.received).toHaveLength(1);
  });

  test("a member the answer's schema does not document is not kept for a replay", async () => {
    const token = await onboard('mspA', 'cmpA');
    world.partners.mspA.answer(() => ({
      status: 200,
      body: { iccid: '8949000000000000052', activationCode: '1$smdp.example$KEPT', profileType: 'personal', swappedIccid: null, vendorNote: 'not AID.02' },
    }));
    const body = requestActivationCodeBody();
    const first = await world.hub.call({ as: 'cmpA', to: 'mspA', method: 'POST', path: paths.requestActivationCode(token), body });
    const retry = await world.hub.call({ as: 'cmpA', to: 'mspA', method: 'POST', path: paths.requestActivationCode(token), body });
    expect(first.body.vendorNote).toBe('not AID.02');
    expect(retry.body).toEqual({ iccid: '8949000000000000052', activationCode: '1$smdp.example$KEPT', profileType: 'personal', swappedIccid: null });
    expect(world.partners.mspA.received).toHaveLength(1);
  });

  test('concurrent retries of a slow request reach the MSP once and all get its answer', async () => {
    const token = await onboard('mspB', 'cmpA');
    world.partners.mspB.answer(() => ({
      status: 200,
      delayMs: 300,
      body: { iccid: '8949000000000000042', activationCode: '1$smdp.example$ONCE', profileType: 'personal', swappedIccid: null },
    }));
    const body = requestActivationCodeBody();
    const answers = await Promise.all(
      Array.from({ length: 5 }, () => world.hub.call({ as: 'cmpA', to: 'mspB', method: 'POST', path: paths.requestActivationCode(token), body })),
    );
    expect(answers.map((a) => a.status)).toEqual([200, 200, 200, 200, 200]);
    expect(new Set(answers.map((a) => a.text)).size).toBe(1);
    expect(world.partners.mspB.received).toHaveLength(1);
  });

  test('an async 201 is replayed too, and records one pending request', async () => {
    const token = await onboard('mspA', 'cmpB');
    world.partners.mspA.answer(() => ({ status: 201 }));
    const body = requestActivationCodeBody();
    const first = await world.hub.call({ as: 'cmpB', to: 'mspA', method: 'POST', path: paths.requestActivationCode(token), body });
    const retry = await world.hub.call({ as: 'cmpB', to: 'mspA', method: 'POST', path: paths.requestActivationCode(token), body });
    expect([first.status, retry.status]).toEqual([201, 201]);
    expect(world.partners.mspA.received).toHaveLength(1);
  });

  test('a refusal is not replayed: the retry asks the MSP again', async () => {
    const token = await onboard('mspA', 'cmpA');
    world.partners.mspA.answer(() => ({ status: 422, body: { code: '49', error: 'Other activation code error' } }));
    const body = requestActivationCodeBody();
    await world.hub.call({ as: 'cmpA', to: 'mspA', method: 'POST', path: paths.requestActivationCode(token), body });
    world.partners.mspA.reset();
    const retry = await world.hub.call({ as: 'cmpA', to: 'mspA', method: 'POST', path: paths.requestActivationCode(token), body });
    expect(retry.status).toBe(200);
    expect(world.partners.mspA.received).toHaveLength(1);
  });

  // docs/architecture.md, Idempotency: what is kept for the replay is "at most 4 KiB"; an answer
  // larger is not kept, so a retry reaches the MSP again, and the log says why (a refusal is simply
  // not kept: "A refusal or failure is not replayed")
  test('an answer too large to keep is not replayed: the log says so, and the retry asks the MSP again', async () => {
    const token = await onboard('mspA', 'cmpA');
    const tooLarge = () => world.hub.logLines().filter((l) => l.msg === 'the answer is too large to keep for a replay; a retry will reach the MSP again');
    const before = tooLarge().length;
    world.partners.mspA.answer(() => ({ status: 422, body: { code: '49', error: 'Other activation code error' } }));
    expect(
      (await world.hub.call({ as: 'cmpA', to: 'mspA', method: 'POST', path: paths.requestActivationCode(token), body: requestActivationCodeBody() })).status,
    ).toBe(422);
    world.partners.mspA.answer(() => ({
      status: 200,
      body: { iccid: '8949000000000000053', activationCode: `1$smdp.example$${'A'.repeat(5000)}`, profileType: 'personal', swappedIccid: null },
    }));
    const body = requestActivationCodeBody();
    const first = await world.hub.call({ as: 'cmpA', to: 'mspA', method: 'POST', path: paths.requestActivationCode(token), body });
    const retry = await world.hub.call({ as: 'cmpA', to: 'mspA', method: 'POST', path: paths.requestActivationCode(token), body });
    expect([first.status, retry.status]).toEqual([200, 200]);
    expect(world.partners.mspA.received).toHaveLength(3);
    expect(tooLarge().slice(before)).toEqual([expect.objectContaining({ status: 200 }), expect.objectContaining({ status: 200 })]);
  });

  test('the same activationCodeRequestID with a different request is refused with code 39, named (AID.02 5.5: 39 "Other request ID error")', async () => {
    const token = await onboard('mspA', 'cmpA');
    const requestId = randomUUID();
    await world.hub.call({ as: 'cmpA', to: 'mspA', method: 'POST', path: paths.requestActivationCode(token), body: requestActivationCodeBody(requestId) });
    const other = await world.hub.call({
      as: 'cmpA',
      to: 'mspA',
      method: 'POST',
      path: paths.requestActivationCode(token),
      body: { ...requestActivationCodeBody(requestId), eid: '89049032000001000000000831934999' },
    });
    expect(other.status).toBe(422);
    expect(other.body.code).toBe('39');
    // which id was reused: the CMP-request-id of this call is new
    expect(other.body.error).toContain('activationCodeRequestID');
  });
});

describe('CMP-request-id', () => {
  test('reused with a different request is refused with code 39; reused with the same request passes', async () => {
    const token = await onboard('mspA', 'cmpA');
    const ids = { 'CMP-request-id': randomUUID() };
    const statusPath = paths.requestProfileStatus(token);
    expect((await world.hub.call({ as: 'cmpA', to: 'mspA', method: 'GET', path: statusPath, headers: ids })).status).toBe(200);
    expect((await world.hub.call({ as: 'cmpA', to: 'mspA', method: 'GET', path: statusPath, headers: ids })).status).toBe(200);
    const other = await world.hub.call({ as: 'cmpA', to: 'mspA', method: 'GET', path: paths.requestProfileStatus(token, '8949000000000000001'), headers: ids });
    expect(other.status).toBe(422);
    expect(other.body).toEqual({ code: '39', error: expect.stringContaining('CMP-request-id') });
  });

  test('the same id from two different partners is two requests', async () => {
    const ids = { 'CMP-request-id': randomUUID() };
    const a = await world.hub.call({ as: 'mspA', to: 'cmpA', method: 'POST', path: paths.sendMspToken(), body: sendMspTokenBody(randomUUID()), headers: ids });
    const b = await world.hub.call({ as: 'mspB', to: 'cmpA', method: 'POST', path: paths.sendMspToken(), body: sendMspTokenBody(randomUUID()), headers: ids });
    expect([a.status, b.status]).toEqual([201, 201]);
  });
});

describe('two hub instances on one Redis', () => {
  test('the 201 passes through instance A, the Send Activation Code lands on instance B and matches', async () => {
    const specs: PartnerSpec[] = [
      { id: 'mspA', role: 'msp', apiKey: 'key-mspA', upstreamUrl: world.partners.mspA.url },
      { id: 'cmpA', role: 'cmp', apiKey: 'key-cmpA', upstreamUrl: world.partners.cmpA.url },
      { id: 'cmpB', role: 'cmp', apiKey: 'key-cmpB', upstreamUrl: world.partners.cmpB.url },
    ];
    const sharedPrefix = world.hub.keyPrefix as string;
    const second = await TestHub.start({ partners: specs, redisKeyPrefix: sharedPrefix });
    try {
      const token = await onboard('mspA', 'cmpA');
      const requestId = await pendingRequest(world.hub, 'mspA', 'cmpA', token);
      const onB = await deliver(second, 'mspA', 'cmpA', token, requestId);
      expect(onB.status).toBe(200);
      const againOnA = await deliver(world.hub, 'mspA', 'cmpA', token, requestId);
      expect(againOnA.body.code).toBe('30');
      // the binding recorded by A's Send MSP Token refuses a foreign pair on B as well
      const foreign = await second.call({
        as: 'cmpB',
        to: 'mspA',
        method: 'POST',
        path: paths.requestActivationCode(token),
        body: requestActivationCodeBody(),
      });
      expect(foreign.body.code).toBe('20');
    } finally {
      await second.close();
    }
  });
});

// docs/operating/security.md, State bounds: "Every key has a TTL: [...] replays 7 days
// (`replayTtlSeconds`), pending requests 72 h"
describe('how long an activation request is kept', () => {
  test('answered 200, for the replay time; answered 201, as long as its delivery may come (longer than a replay here)', async () => {
    const REPLAY = 1000;
    const PENDING = 5000;
    const specs: PartnerSpec[] = [
      { id: 'mspA', role: 'msp', apiKey: 'key-mspA', upstreamUrl: world.partners.mspA.url },
      { id: 'cmpA', role: 'cmp', apiKey: 'key-cmpA', upstreamUrl: world.partners.cmpA.url },
    ];
    const hub = await TestHub.start({
      partners: specs,
      routes: { settings: { replayTtlSeconds: REPLAY, pendingActivationTtlSeconds: PENDING }, routes: [{ from: '*', to: '*' }] },
    });
    const redis = createClient({ url: REDIS_URL });
    await redis.connect();
    try {
      const token = randomUUID();
      await hub.call({ as: 'mspA', to: 'cmpA', method: 'POST', path: paths.sendMspToken(), body: sendMspTokenBody(token) });
      const ttlOf = (requestId: string) => redis.ttl(`${hub.keyPrefix}act:cmpA ${requestId}`);
      const answered = randomUUID();
      const sync = await hub.call({
        as: 'cmpA',
        to: 'mspA',
        method: 'POST',
        path: paths.requestActivationCode(token),
        body: requestActivationCodeBody(answered),
      });
      expect(sync.status).toBe(200);
      const pending = await pendingRequest(hub, 'mspA', 'cmpA', token);
      // a few seconds of the test's own time at most have passed since each was written
      expect(await ttlOf(answered)).toBeGreaterThan(REPLAY - 60);
      expect(await ttlOf(answered)).toBeLessThanOrEqual(REPLAY);
      expect(await ttlOf(pending)).toBeGreaterThan(PENDING - 60);
      expect(await ttlOf(pending)).toBeLessThanOrEqual(PENDING);
    } finally {
      world.partners.mspA.reset();
      await redis.close();
      await hub.close();
    }
  });
});
