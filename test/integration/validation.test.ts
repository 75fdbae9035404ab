/**
 * A request that does not conform to the AID.02 OpenAPI documents never leaves the hub: every
 * required header, every required body field missing, mistyped or null, malformed JSON, wrong
 * content type, oversize bodies. The field lists come from the spec files, so a field added there
 * is tested here.
 */
import { randomUUID } from 'node:crypto';
import { connect } from 'node:net';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { load as parse } from 'js-yaml';
import { OPERATION_CASES, paths, submitActivationCodeBody, type OperationCase } from '../support/messages';
import { startWorld, type World } from '../support/testHub';

let world: World;
const token = randomUUID();

beforeAll(async () => {
  world = await startWorld();
  // the token is issued to (mspA, cmpA), so every case below passes the token checks
  await world.hub.call({
    as: 'mspA',
    to: 'cmpA',
    method: 'POST',
    path: paths.sendMspToken(),
    body: { msp_token: token, phoneNumber: 'x', subscriptionType: 'private', error: null, iv: 'y' },
  });
});
afterAll(() => world.close());
beforeEach(() => Object.values(world.partners).forEach((p) => p.reset()));

const callerOf = (c: OperationCase) => (c.role === 'msp' ? { as: 'mspA', to: 'cmpA' } : { as: 'cmpA', to: 'mspA' });
const clientErrorStatus = (c: OperationCase) => (c.id === 'notifyMspTokenInvalid' ? 400 : 422);
const nothingForwarded = () => Object.values(world.partners).every((p) => p.received.length === 0);

function send(c: OperationCase, overrides: { body?: unknown; raw?: string; omit?: string[]; headers?: Record<string, string>; token?: string } = {}) {
  return world.hub.call({
    ...callerOf(c),
    method: c.method,
    path: c.path(overrides.token ?? token),
    body: 'body' in overrides ? overrides.body : c.body?.(),
    raw: overrides.raw,
    omit: overrides.omit,
    headers: overrides.headers,
  });
}

describe('headers (AID.02 5.1)', () => {
  const headers = ['CMP-request-id', 'correlation-id', 'client-id', 'target-id'];
  const cases = OPERATION_CASES.flatMap((c) => headers.map((h) => [c.id, h, c] as const));

  test.each(cases)('%s without %s is refused with code 91 and never forwarded', async (_id, header, c) => {
    const answer = await send(c, { omit: [header] });
    expect(answer.status).toBe(clientErrorStatus(c));
    expect(answer.body.code).toBe('91');
    expect(answer.body.error).toContain(header.toLowerCase());
    expect(nothingForwarded()).toBe(true);
  });

  test.each(OPERATION_CASES.flatMap((c) => ['CMP-request-id', 'correlation-id'].map((h) => [c.id, h, c] as const)))(
    '%s with a %s that is not a UUID is refused with code 91',
    async (_id, header, c) => {
      const answer = await send(c, { headers: { [header]: 'not-a-uuid' } });
      expect(answer.status).toBe(clientErrorStatus(c));
      expect(answer.body.code).toBe('91');
      expect(nothingForwarded()).toBe(true);
    },
  );

  test.each(OPERATION_CASES.filter((c) => c.id !== 'sendMspToken').map((c) => [c.id, c] as const))(
    '%s with an msp_token that is not a UUID is refused with code 91',
    async (_id, c) => {
      const answer = await send(c, { token: 'not-a-uuid' });
      expect(answer.status).toBe(clientErrorStatus(c));
      expect(answer.body).toEqual({ code: '91', error: expect.stringContaining('msp_token') });
      expect(nothingForwarded()).toBe(true);
    },
  );
});

interface SchemaInfo {
  required: string[];
  nullable: Set<string>;
}

/** the required and nullable fields of each operation's request body, read from spec/ */
function bodySchemas(): Map<string, SchemaInfo> {
  const found = new Map<string, SchemaInfo>();
  for (const file of ['aid02-cmp-api.yaml', 'aid02-msp-api.yaml']) {
    const doc = parse(readFileSync(path.join(__dirname, '../../spec', file), 'utf8')) as any;
    for (const methods of Object.values<any>(doc.paths)) {
      for (const op of Object.values<any>(methods)) {
        const ref: string | undefined = op.requestBody?.content['application/json'].schema.$ref;
        if (!ref) continue;
        const schema = doc.components.schemas[ref.split('/').pop() as string];
        const nullable = new Set(
          Object.entries<any>(schema.properties)
            .filter(([, p]) => p.nullable)
            .map(([k]) => k),
        );
        found.set(op.operationId, { required: schema.required ?? [], nullable });
      }
    }
  }
  return found;
}

const schemas = bodySchemas();
const bodyCases = [
  ...OPERATION_CASES,
  {
    id: 'submitActivationCode',
    role: 'msp',
    method: 'POST',
    path: paths.submitActivationCode,
    body: () => submitActivationCodeBody(randomUUID()),
    success: 200,
  } as OperationCase,
].filter((c) => c.body);
const fieldCases = bodyCases.flatMap((c) => (schemas.get(c.id)?.required ?? []).map((field) => [c.id, field, c] as const));

describe('bodies (Annex B schemas)', () => {
  test('every operation with a body has a schema with required fields', () => {
    expect(bodyCases.map((c) => c.id).sort()).toEqual([...schemas.keys()].sort());
    expect(fieldCases.length).toBeGreaterThanOrEqual(20);
  });

  test.each(fieldCases)('%s without %s is refused with code 91', async (_id, field, c) => {
    const body = c.body?.() as Record<string, unknown>;
    delete body[field];
    const answer = await send(c, { body });
    expect(answer.status).toBe(clientErrorStatus(c));
    expect(answer.body.code).toBe('91');
    expect(answer.body.error).toContain(field);
    expect(nothingForwarded()).toBe(true);
  });

  test.each(fieldCases)('%s with %s of the wrong type is refused with code 91', async (_id, field, c) => {
    const body = { ...(c.body?.() as Record<string, unknown>), [field]: 12345 };
    const answer = await send(c, { body });
    expect(answer.status).toBe(clientErrorStatus(c));
    expect(answer.body.code).toBe('91');
    expect(nothingForwarded()).toBe(true);
  });

  test.each(fieldCases.filter(([id, field]) => !schemas.get(id)?.nullable.has(field)))(
    '%s with %s null (not allowed) is refused with code 60',
    async (_id, field, c) => {
      const body = { ...(c.body?.() as Record<string, unknown>), [field]: null };
      const answer = await send(c, { body });
      expect(answer.status).toBe(clientErrorStatus(c));
      expect(answer.body.code).toBe('60');
      expect(nothingForwarded()).toBe(true);
    },
  );

  test.each([...schemas].flatMap(([id, s]) => [...s.nullable].map((field) => [id, field] as const)).filter(([id]) => id !== 'submitActivationCode'))(
    '%s with %s null (documented "set to null if ...") is forwarded',
    async (id, field) => {
      const c = bodyCases.find((b) => b.id === id) as OperationCase;
      // 7.3: msp_token is null exactly when error is set
      const consistent = id === 'sendMspToken' && field === 'msp_token' ? { error: '1000: Customer not eligible' } : {};
      const body = { ...(c.body?.() as Record<string, unknown>), [field]: null, ...consistent };
      const answer = await send(c, { body });
      expect(answer.status).toBe(c.success);
    },
  );

  test.each([
    ['both msp_token and error set', { error: '1000: Customer not eligible' }],
    ['neither msp_token nor error set', { msp_token: null }],
    ['an error longer than 512 characters', { msp_token: null, error: `19: ${'x'.repeat(510)}` }],
    ['an error not in the "code: text" form', { msp_token: null, error: 'Customer not eligible' }],
  ])(
    'Send MSP Token with %s is refused with code 91: 7.3 "Set the value to null if the error parameter is not null", "Maximum length is 512 characters"; 5.5 "code: text"',
    async (_what, change) => {
      const c = bodyCases.find((b) => b.id === 'sendMspToken') as OperationCase;
      const answer = await send(c, { body: { ...(c.body?.() as Record<string, unknown>), ...change } });
      expect(answer.status).toBe(422);
      expect(answer.body.code).toBe('91');
      expect(nothingForwarded()).toBe(true);
    },
  );

  test('Notify MSP Token Invalid without a body is forwarded: 7.4 lists its only member, reason, as "Optional"', async () => {
    const c = bodyCases.find((b) => b.id === 'notifyMspTokenInvalid') as OperationCase;
    // a token of its own: invalidating the shared one would refuse the activation codes below
    const answer = await send(c, { body: undefined, raw: '', omit: ['content-type'], token: await world.onboard('mspA', 'cmpA') });
    expect(answer.status).toBe(204);
    expect(world.partners.cmpA.received.at(-1)?.raw).toBe('');
  });

  test.each([
    ['left out', undefined],
    ['a number', 12345],
    ['an object', { any: 'thing' }],
    ['an ICCID', '89310410106543780000'],
  ])(
    'Request Activation Code with replaceIccid %s is forwarded: 4.3.1 2c "the content or the existence of the parameter SHALL NOT lead to any API errors"',
    async (_what, replaceIccid) => {
      const c = bodyCases.find((b) => b.id === 'requestActivationCode') as OperationCase;
      const body = { ...(c.body?.() as Record<string, unknown>), replaceIccid };
      if (replaceIccid === undefined) delete body.replaceIccid;
      const answer = await send(c, { body });
      expect(answer.status).toBe(200);
      expect(world.partners.mspA.received.at(-1)?.body).toEqual(body);
    },
  );

  test('a profile entry without reason in Send Profile Information is refused (nested required field)', async () => {
    const c = bodyCases.find((b) => b.id === 'sendProfileInformation') as OperationCase;
    const answer = await send(c, { body: { profiles: [{ iccid: '8949000000000000001', status: 'invalid' }] } });
    expect(answer.body).toEqual({ code: '91', error: expect.stringContaining('reason') });
  });

  test('an enum value outside the spec is refused', async () => {
    const c = bodyCases.find((b) => b.id === 'sendCsimStatus') as OperationCase;
    const answer = await send(c, { body: { iccid: '8949000000000000001', eid: '89049032000001000000000831934057', status: 'exploded' } });
    expect(answer.status).toBe(422);
    expect(answer.body.code).toBe('91');
  });

  // AID.02 5.5 code 60: "The request body is empty or contains null values"; not where the body
  // itself is optional (7.4, below)
  test.each(bodyCases.filter((c) => c.id !== 'notifyMspTokenInvalid').map((c) => [c.id, c] as const))(
    '%s with an empty body is refused with code 60',
    async (_id, c) => {
      const answer = await send(c, { body: undefined, raw: '' });
      expect(answer.status).toBe(clientErrorStatus(c));
      expect(answer.body.code).toBe('60');
      expect(nothingForwarded()).toBe(true);
    },
  );

  test.each(bodyCases.map((c) => [c.id, c] as const))('%s with the JSON body null is refused with code 60', async (_id, c) => {
    const answer = await send(c, { raw: 'null' });
    expect(answer.body.code).toBe('60');
  });

  test.each(bodyCases.map((c) => [c.id, c] as const))('%s with a body that is not JSON is refused with code 91', async (_id, c) => {
    const answer = await send(c, { raw: '{"profileType": "personal",' });
    expect(answer.status).toBe(clientErrorStatus(c));
    expect(answer.body.code).toBe('91');
    expect(nothingForwarded()).toBe(true);
  });

  test('a JSON array where an object belongs is refused with code 91', async () => {
    const answer = await send(OPERATION_CASES[4], { body: [] });
    expect(answer.body.code).toBe('91');
  });

  test('a body that is not application/json is refused with 415', async () => {
    const answer = await send(OPERATION_CASES[4], { headers: { 'content-type': 'text/plain' } });
    expect(answer.status).toBe(415);
    expect(answer.body.code).toBe('91');
    expect(nothingForwarded()).toBe(true);
  });

  test('a body over the limit is refused with 413', async () => {
    const big = { ...OPERATION_CASES[4].body?.(), padding: 'x'.repeat(70 * 1024) };
    const answer = await send(OPERATION_CASES[4], { body: big });
    expect(answer.status).toBe(413);
    expect(answer.body.code).toBe('91');
    expect(nothingForwarded()).toBe(true);
  });

  test('a body sent in chunks past the limit: 413, and the hub closes the connection instead of reading the rest', async () => {
    // without a declared length the hub learns the size only while reading; the unread rest must
    // neither hold the connection open nor be read to be thrown away
    const url = new URL(world.hub.url);
    const socket = connect(Number(url.port), url.hostname);
    const received: Buffer[] = [];
    socket.on('data', (chunk: Buffer) => received.push(chunk));
    const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
    const id = randomUUID();
    socket.write(
      [
        `POST ${paths.sendCsimStatus(token)} HTTP/1.1`,
        'host: hub',
        'api-key: key-cmpA',
        'client-id: cmpA',
        'target-id: mspA',
        `CMP-request-id: ${id}`,
        `correlation-id: ${id}`,
        'content-type: application/json',
        'transfer-encoding: chunked',
        '',
        '',
      ].join('\r\n'),
    );
    const chunk = 'x'.repeat(16 * 1024);
    // 160 KB offered, in chunks, while the hub answers; writes after it closed are lost
    socket.on('error', () => undefined);
    for (let i = 0; i < 10 && !socket.destroyed; i++) socket.write(`${chunk.length.toString(16)}\r\n${chunk}\r\n`);
    await closed;
    const answer = Buffer.concat(received).toString('latin1');
    expect(answer).toMatch(/^HTTP\/1\.1 413 /);
    expect(answer).toMatch(/\r\nconnection: close\r\n/i);
    expect(answer).toContain('"code":"91"');
    expect(nothingForwarded()).toBe(true);
  });
});
