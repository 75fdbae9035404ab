/**
 * Hostile input (issue 10): every request here is one a security tester sent. Ids have one
 * spelling, ambiguous JSON and unsafe account ids never reach a partner, a partner's answer that
 * is no AID.02 answer never reaches the caller, pending requests are the CMP's own.
 */
import { randomUUID } from 'node:crypto';
import {
  ACCOUNT_ID,
  paths,
  requestActivationCodeBody,
  sendCsimStatusBody,
  sendMspTokenBody,
  submitActivationCodeBody,
  updateSubscriptionInfoBody,
} from '../support/messages';
import { startWorld, type World } from '../support/testHub';
import { waitFor } from '../support/waitFor';

let world: World;

beforeAll(async () => {
  world = await startWorld({ routes: { routes: [{ from: '*', to: '*', tokenBinding: 'learn' }] } });
});
afterAll(() => world.close());
beforeEach(() => Object.values(world.partners).forEach((p) => p.reset()));

const onboard = (msp: string, cmp: string, token?: string) => world.onboard(msp, cmp, token);

const requestCode = (cmp: string, msp: string, token: string, body: Record<string, unknown> = requestActivationCodeBody()) =>
  world.hub.call({ as: cmp, to: msp, method: 'POST', path: paths.requestActivationCode(token), body });

describe('one spelling per id (10.2)', () => {
  // AID.02 5.3: msp_token is a uuid; RFC 4122 3: hex digits are "case insensitive on input", so
  // the upper-case token and urn:uuid: form ARE the token mspA issued to cmpA, and the binding
  // refuses them to cmpB exactly as it refuses the token itself (AID.02 7.7: 404 code 20).
  test.each([
    ['upper case', (t: string) => t.toUpperCase()],
    ['urn:uuid:', (t: string) => `urn:uuid:${t}`],
    ['mixed case urn', (t: string) => `URN:UUID:${t.toUpperCase()}`],
  ])('a token issued to cmpA, spelt in %s, gets cmpB no code', async (_, spell) => {
    const token = await onboard('mspA', 'cmpA');
    const answer = await requestCode('cmpB', 'mspA', spell(token));
    expect(answer.status).toBe(404);
    expect(answer.body.code).toBe('20');
    expect(world.partners.mspA.received).toHaveLength(0);
  });

  test('another MSP cannot take over a token by changing its case (AID.02 7.3: 422 code 23)', async () => {
    const token = await onboard('mspA', 'cmpA');
    world.partners.cmpA.reset();
    const answer = await world.hub.call({ as: 'mspB', to: 'cmpA', method: 'POST', path: paths.sendMspToken(), body: sendMspTokenBody(token.toUpperCase()) });
    expect(answer.status).toBe(422);
    expect(answer.body.code).toBe('23');
    expect(world.partners.cmpA.received).toHaveLength(0);
    const update = await world.hub.call({
      as: 'mspB',
      to: 'cmpA',
      method: 'PATCH',
      path: paths.updateSubscriptionInfo(token.toUpperCase()),
      body: updateSubscriptionInfoBody(),
    });
    expect(update.status).toBe(404);
    expect(update.body.code).toBe('20');
    expect(world.partners.cmpA.received).toHaveLength(0);
  });

  test('partners receive only the canonical spelling: path, body and the id headers', async () => {
    const token = randomUUID();
    const requestId = randomUUID();
    const cmpRequestId = randomUUID();
    await world.hub.call({
      as: 'mspA',
      to: 'cmpA',
      method: 'POST',
      path: paths.sendMspToken(),
      body: sendMspTokenBody(`urn:uuid:${token.toUpperCase()}`),
      headers: { 'CMP-request-id': cmpRequestId.toUpperCase() },
    });
    expect(world.partners.cmpA.received[0].body).toMatchObject({ msp_token: token });
    expect(world.partners.cmpA.received[0].headers['cmp-request-id']).toBe(cmpRequestId);
    const answer = await requestCode('cmpA', 'mspA', token.toUpperCase(), requestActivationCodeBody(requestId.toUpperCase()));
    expect(answer.status).toBe(200);
    const received = world.partners.mspA.received[0];
    expect(received.path).toBe(paths.requestActivationCode(token));
    expect(received.body).toMatchObject({ activationCodeRequestID: requestId });
  });

  test('a retry spelling its activationCodeRequestID differently is the same request: replayed, never a second code', async () => {
    const token = await onboard('mspA', 'cmpA');
    const body = requestActivationCodeBody();
    const first = await requestCode('cmpA', 'mspA', token, body);
    const retry = await requestCode('cmpA', 'mspA', token.toUpperCase(), {
      ...body,
      activationCodeRequestID: String(body.activationCodeRequestID).toUpperCase(),
    });
    expect(first.status).toBe(200);
    expect(retry.status).toBe(200);
    expect(retry.body).toEqual(first.body);
    expect(world.partners.mspA.received).toHaveLength(1);
  });

  test('a CMP-request-id reused in another case for another request is refused (code 39)', async () => {
    const id = randomUUID();
    const first = await world.hub.call({
      as: 'cmpA',
      to: 'mspA',
      method: 'POST',
      path: paths.sendCsimStatus(randomUUID()),
      body: sendCsimStatusBody(),
      headers: { 'CMP-request-id': id },
    });
    const second = await world.hub.call({
      as: 'cmpA',
      to: 'mspA',
      method: 'POST',
      path: paths.sendCsimStatus(randomUUID()),
      body: sendCsimStatusBody('installed'),
      headers: { 'CMP-request-id': id.toUpperCase() },
    });
    expect(first.status).toBe(201);
    expect(second.status).toBe(422);
    expect(second.body.code).toBe('39');
  });

  // AID.02 5.1: a CMP-request-id names one request; the same id with another body, on the very same
  // path, is another request and is refused with code 39 (only the body tells them apart here)
  test('a CMP-request-id reused on the same path with only the body changed is refused (code 39)', async () => {
    const id = randomUUID();
    const path = paths.sendCsimStatus(randomUUID());
    const send = (status: string) =>
      world.hub.call({ as: 'cmpA', to: 'mspA', method: 'POST', path, body: sendCsimStatusBody(status), headers: { 'CMP-request-id': id } });
    expect((await send('installed')).status).toBe(201);
    const second = await send('deleted');
    expect(second.status).toBe(422);
    expect(second.body.code).toBe('39');
    expect(world.partners.mspA.received).toHaveLength(1);
  });

  // AID.02 5.1: the same CMP-request-id with the very same body for another profile (another path)
  // is another request, refused with code 39 (only the path tells them apart here)
  test('a CMP-request-id reused with the same body on another path is refused (code 39)', async () => {
    const id = randomUUID();
    const send = (path: string) =>
      world.hub.call({ as: 'cmpA', to: 'mspA', method: 'POST', path, body: sendCsimStatusBody('installed'), headers: { 'CMP-request-id': id } });
    expect((await send(paths.sendCsimStatus(randomUUID()))).status).toBe(201);
    const second = await send(paths.sendCsimStatus(randomUUID()));
    expect(second.status).toBe(422);
    expect(second.body.code).toBe('39');
    expect(world.partners.mspA.received).toHaveLength(1);
  });
});

describe('JSON a partner could read differently is refused with code 91, nothing forwarded (10.3)', () => {
  const token = randomUUID();
  const send = (raw: string | Uint8Array, headers: Record<string, string> = {}) =>
    world.hub.call({ as: 'cmpA', to: 'mspA', method: 'POST', path: paths.sendCsimStatus(token), raw, headers });

  // RFC 8259 4: "When the names within an object are not unique, the behavior of software that
  // receives such an object is unpredictable": the hub would check one status, the MSP act on another
  test.each([
    ['a duplicate member (RFC 8259 4)', '{"iccid":"8949000000000000001","eid":"89049032000001000000000831934057","status":"deleted","status":"installed"}'],
    ['a number beyond a double (RFC 8259 6)', '{"iccid":"8949000000000000001","eid":"89049032000001000000000831934057","status":"installed","n":1e309}'],
    [
      '30,000 levels of nesting',
      `{"iccid":"8949000000000000001","eid":"89049032000001000000000831934057","status":"installed","x":${'['.repeat(30000)}${']'.repeat(30000)}}`,
    ],
    ['a __proto__ member', '{"iccid":"8949000000000000001","eid":"89049032000001000000000831934057","status":"installed","__proto__":{"status":"deleted"}}'],
    ['a constructor member', '{"iccid":"8949000000000000001","eid":"89049032000001000000000831934057","status":"installed","constructor":{"prototype":{}}}'],
    ['an escaped lone surrogate (RFC 8259 8.2)', '{"iccid":"8949000000000000001","eid":"89049032000001000000000831934057","status":"installed","x":"\\ud800"}'],
  ])('%s', async (_, raw) => {
    const answer = await send(raw);
    expect(answer.status).toBe(422);
    expect(answer.body.code).toBe('91');
    expect(world.partners.mspA.received).toHaveLength(0);
  });

  test('bytes that are not UTF-8 (RFC 8259 8.1: "MUST be encoded using UTF-8")', async () => {
    const valid = Buffer.from('{"iccid":"8949000000000000001","eid":"89049032000001000000000831934057","status":"installed","x":"', 'utf8');
    const answer = await send(Buffer.concat([valid, Buffer.from([0xff, 0xfe]), Buffer.from('"}')]));
    expect(answer.status).toBe(422);
    expect(answer.body).toEqual({ code: '91', error: 'Invalid request syntax: the body is not valid UTF-8' });
    expect(world.partners.mspA.received).toHaveLength(0);
  });

  test('a charset other than UTF-8 is 415 (RFC 8259 8.1)', async () => {
    const answer = await send(JSON.stringify(sendCsimStatusBody()), { 'content-type': 'application/json; charset=iso-8859-1' });
    expect(answer.status).toBe(415);
    expect(answer.body.code).toBe('91');
    expect(world.partners.mspA.received).toHaveLength(0);
    const utf8 = await send(JSON.stringify(sendCsimStatusBody()), { 'content-type': 'application/json; charset=UTF-8' });
    expect(utf8.status).toBe(201);
  });
});

describe('account_id is URL-safe (10.4)', () => {
  // AID.02 5.2: account_id is "String, ([A-Za-z0-9])", or a JWT in base64url: "it shall be ensured
  // that only characters are contained in the account id which are URL safe"
  test.each([['..%2F..%2Fadmin%3Fx%3D'], ['%2e%2e%2Fadmin'], ['x%2e%2e'], ['abc%00def'], ['abc%0d%0aX-Injected:%201'], ['a%20b'], ['a+b'], ['a.'], ['.a']])(
    '%s is refused with code 91 and never reaches the CMP',
    async (accountId) => {
      const answer = await world.hub.call({
        as: 'mspA',
        to: 'cmpA',
        method: 'POST',
        path: paths.sendMspToken(accountId),
        body: sendMspTokenBody(randomUUID()),
      });
      expect(answer.status).toBe(422);
      expect(answer.body.code).toBe('91');
      expect(world.partners.cmpA.received).toHaveLength(0);
    },
  );

  test('a JWT account id and a plain one are forwarded in the path the hub built', async () => {
    for (const accountId of [ACCOUNT_ID, 'user4711']) {
      const answer = await world.hub.call({
        as: 'mspA',
        to: 'cmpA',
        method: 'POST',
        path: paths.sendMspToken(accountId),
        body: sendMspTokenBody(randomUUID()),
      });
      expect(answer.status).toBe(201);
    }
    expect(world.partners.cmpA.received.map((r) => r.path)).toEqual([paths.sendMspToken(ACCOUNT_ID), paths.sendMspToken('user4711')]);
  });

  // AID.02 7.10 documents one query parameter for Request Profile Status, "a specific iccid": the
  // hub refuses any other (422 code 91) and builds the partner's query from the documented one alone
  test('a query parameter the operation does not document is not passed on', async () => {
    const token = randomUUID();
    const refused = await world.hub.call({
      as: 'cmpA',
      to: 'mspA',
      method: 'GET',
      path: `${paths.requestProfileStatus(token)}?iccid=8949000000000000001&debug=1`,
    });
    expect(refused.status).toBe(422);
    expect(refused.body.code).toBe('91');
    expect(world.partners.mspA.received).toHaveLength(0);
    const documented = await world.hub.call({ as: 'cmpA', to: 'mspA', method: 'GET', path: `${paths.requestProfileStatus(token)}?iccid=8949000000000000001` });
    expect(documented.status).toBe(200);
    expect(world.partners.mspA.received.map((r) => r.query)).toEqual(['iccid=8949000000000000001']);
  });
});

describe("a partner answer that is no AID.02 answer becomes the hub's 502 code 90 (10.6)", () => {
  const ask = () => requestCode('cmpA', 'mspA', randomUUID());

  test.each([
    ['status 999', { status: 999, body: { code: '90', error: 'x' } }],
    ['302 without Location', { status: 302, raw: '' }],
    [
      'HTML 500 with a stack trace',
      { status: 500, raw: '<html><pre>Error: boom\n    at Object.handler (/srv/app/secret.js:12:3)</pre></html>', contentType: 'text/html' },
    ],
    ['500 in JSON but latin-1', { status: 500, raw: '{"code":"90","error":"x"}', contentType: 'application/json; charset=iso-8859-1' }],
    ['200 with 20,000 levels of JSON', { status: 200, raw: `${'['.repeat(20000)}${']'.repeat(20000)}` }],
    [
      '200 with a duplicate member',
      {
        status: 200,
        raw: '{"iccid":"8949000000000000001","activationCode":"1$a.example$X","activationCode":"1$evil.example$Y","profileType":"personal","swappedIccid":null}',
      },
    ],
  ])("%s, whatever the route's responseValidation", async (_, reply) => {
    world.partners.mspA.answer(() => reply);
    const answer = await ask();
    expect(answer.status).toBe(502);
    expect(answer.body.code).toBe('90');
    expect(answer.text).not.toContain('secret.js');
    expect(answer.headers.get('location')).toBeNull();
  });

  test('a Retry-After that is no delay is not passed on; a delay is', async () => {
    world.partners.mspA.answer(() => ({ status: 500, body: { code: '90', error: 'busy' }, headers: { 'retry-after': '99999999999 <script>' } }));
    const hostile = await ask();
    expect(hostile.status).toBe(500);
    expect(hostile.headers.get('retry-after')).toBeNull();
    world.partners.mspA.answer(() => ({ status: 500, body: { code: '90', error: 'busy' }, headers: { 'retry-after': '120' } }));
    expect((await ask()).headers.get('retry-after')).toBe('120');
  });

  test('hop-by-hop and other headers of the partner are not passed on', async () => {
    world.partners.mspA.answer(() => ({
      status: 500,
      body: { code: '90', error: 'x' },
      headers: { 'set-cookie': 'session=stolen', 'x-powered-by': 'secret-stack', 'keep-alive': 'timeout=999' },
    }));
    const answer = await ask();
    expect(answer.headers.get('set-cookie')).toBeNull();
    expect(answer.headers.get('x-powered-by')).toBeNull();
  });

  test('a body on a status that documents none is not passed on', async () => {
    world.partners.mspA.answer(() => ({ status: 201, raw: '<script>alert(1)</script>', contentType: 'text/html' }));
    const answer = await world.hub.call({ as: 'cmpA', to: 'mspA', method: 'POST', path: paths.sendCsimStatus(randomUUID()), body: sendCsimStatusBody() });
    expect(answer.status).toBe(201);
    expect(answer.text).toBe('');
  });
});

describe('stored answers keep only what a replay needs (10.7)', () => {
  test('an MSP that pads its 200 with a megabyte gets the CMP its answer, and the replay only the documented fields', async () => {
    const token = await onboard('mspA', 'cmpA');
    const padding = 'x'.repeat(900 * 1024);
    world.partners.mspA.answer(() => ({
      status: 200,
      body: { iccid: '8949000000000000001', activationCode: '1$smdp.example.com$AAA', profileType: 'personal', swappedIccid: null, padding },
    }));
    const body = requestActivationCodeBody();
    const first = await requestCode('cmpA', 'mspA', token, body);
    expect(first.status).toBe(200);
    const retry = await requestCode('cmpA', 'mspA', token, body);
    expect(retry.status).toBe(200);
    expect(retry.body).toEqual({ iccid: '8949000000000000001', activationCode: '1$smdp.example.com$AAA', profileType: 'personal', swappedIccid: null });
    expect(world.partners.mspA.received).toHaveLength(1);
  });
});

describe("pending activation requests are each CMP's own (10.12)", () => {
  test('another CMP reusing a pending activationCodeRequestID toward another MSP does not wipe the first', async () => {
    const [tokenA, tokenB] = [await onboard('mspB', 'cmpA'), await onboard('mspA', 'cmpB')];
    const requestId = randomUUID();
    world.partners.mspB.answer(() => ({ status: 201 }));
    expect((await requestCode('cmpA', 'mspB', tokenA, requestActivationCodeBody(requestId))).status).toBe(201);
    // cmpB uses the same id toward mspA, which answers 200: its record is consumed, not cmpA's
    expect((await requestCode('cmpB', 'mspA', tokenB, requestActivationCodeBody(requestId))).status).toBe(200);
    const delivery = await world.hub.call({
      as: 'mspB',
      to: 'cmpA',
      method: 'POST',
      path: paths.submitActivationCode(tokenA),
      body: submitActivationCodeBody(requestId),
    });
    expect(delivery.status).toBe(200);
    await waitFor(() => world.partners.cmpA.received.some((r) => r.path === paths.submitActivationCode(tokenA)));
  });
});
