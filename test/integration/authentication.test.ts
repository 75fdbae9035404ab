/**
 * AID.02 section 6 through the hub: api-key, basic and TLS client certificates, each bound to the
 * partner named by client-id; outbound, the hub's own credential and client certificate.
 */
import { createHash, randomUUID } from 'node:crypto';
import { Agent, fetch as undiciFetch } from 'undici';
import { createPki, type Issued, type TestPki } from '../support/certs';
import { FakePartner } from '../support/fakePartner';
import { paths, requestActivationCodeBody, sendMspTokenBody } from '../support/messages';
import { basicHeader, TestHub, type PartnerSpec } from '../support/testHub';

let pki: TestPki;
let hub: TestHub;
let msp: FakePartner;
let cmp: FakePartner;
let tlsMsp: FakePartner;
let mspCert: Issued;
let cmpCert: Issued;
let hubClientCert: Issued;
const token = randomUUID();

beforeAll(async () => {
  pki = createPki();
  mspCert = pki.client('mspT');
  cmpCert = pki.client('cmpT');
  hubClientCert = pki.client('aid-gateway');
  [msp, cmp] = await Promise.all([FakePartner.start(), FakePartner.start()]);
  const tlsServer = pki.server();
  tlsMsp = await FakePartner.start(0, { cert: tlsServer.cert, key: tlsServer.key, ca: pki.ca.cert });
  const specs: PartnerSpec[] = [
    { id: 'mspKey', role: 'msp', apiKey: 'key-of-mspKey', upstreamUrl: msp.url },
    {
      id: 'mspBasic',
      role: 'msp',
      basic: { username: 'mspBasic', password: 'pw-of-mspBasic' },
      upstreamUrl: msp.url,
      extra: { upstream: { url: msp.url, auth: { basic: { username: 'hub', password: 'hub-pw-at-mspBasic' } } } },
    },
    // stored hashed: the clear key is only in this test
    { id: 'cmpHashed', role: 'cmp', apiKey: `sha256:${createHash('sha256').update('key-of-cmpHashed').digest('hex')}`, upstreamUrl: cmp.url },
    { id: 'mspT', role: 'msp', certificates: [{ fingerprint256: mspCert.fingerprint256 }], upstreamUrl: msp.url },
    { id: 'cmpT', role: 'cmp', apiKey: 'key-of-cmpT', certificates: [{ subject: { CN: 'cmpT', O: 'aid-gateway tests' } }], upstreamUrl: cmp.url },
    { id: 'cmpKey', role: 'cmp', apiKey: 'key-of-cmpKey', upstreamUrl: cmp.url },
    {
      id: 'mspTls',
      role: 'msp',
      apiKey: 'key-of-mspTls',
      upstreamUrl: tlsMsp.url,
      extra: { upstream: { url: tlsMsp.url, auth: { apiKey: 'hub-key-at-mspTls' }, tls: { cert: 'hub-client.pem', key: 'hub-client-key.pem', ca: 'ca.pem' } } },
    },
  ];
  hub = await TestHub.start({
    partners: specs,
    tls: { host: '127.0.0.1', port: 0, cert: pki.serverCertFile, key: pki.serverKeyFile, clientCa: pki.caFile },
    // the TLS material of mspTls's upstream, named relative to the config folder
    files: { 'hub-client.pem': hubClientCert.cert, 'hub-client-key.pem': hubClientCert.key, 'ca.pem': pki.ca.cert },
  });
});

afterAll(async () => {
  await hub.close();
  await Promise.all([msp.close(), cmp.close(), tlsMsp.close()]);
});

beforeEach(() => [msp, cmp, tlsMsp].forEach((p) => p.reset()));

const tlsUrl = () => hub.hub.urls[1];

function aidHeaders(client: string, target: string, extra: Record<string, string> = {}): Record<string, string> {
  return {
    'client-id': client,
    'target-id': target,
    'CMP-request-id': randomUUID(),
    'correlation-id': randomUUID(),
    'content-type': 'application/json',
    ...extra,
  };
}

async function overTls(cert: Issued | undefined, client: string, target: string, extra: Record<string, string> = {}) {
  const dispatcher = new Agent({ connect: { ca: pki.ca.cert, ...(cert ? { cert: cert.cert, key: cert.key } : {}) } });
  try {
    const path = client.startsWith('msp') ? paths.sendMspToken() : paths.requestActivationCode(randomUUID());
    const body = client.startsWith('msp') ? sendMspTokenBody(randomUUID()) : requestActivationCodeBody();
    const res = await undiciFetch(`${tlsUrl()}${path}`, { method: 'POST', headers: aidHeaders(client, target, extra), body: JSON.stringify(body), dispatcher });
    return { status: res.status, body: (await res.json().catch(() => undefined)) as { code: string; error: string } | undefined };
  } finally {
    await dispatcher.close();
  }
}

describe('api-key', () => {
  test('the right key for the client-id passes', async () => {
    const answer = await hub.call({ as: 'mspKey', to: 'cmpKey', method: 'POST', path: paths.sendMspToken(), body: sendMspTokenBody(token) });
    expect(answer.status).toBe(201);
  });

  test("a spoofed client-id (another partner's name with my key) is refused 401 and not forwarded", async () => {
    const answer = await hub.call({
      as: 'mspKey',
      to: 'cmpKey',
      method: 'POST',
      path: paths.sendMspToken(),
      body: sendMspTokenBody(randomUUID()),
      headers: { 'client-id': 'mspBasic' },
    });
    expect(answer.status).toBe(401);
    expect(answer.body.code).toBe('201');
    expect(cmp.received).toHaveLength(0);
  });

  test('a wrong key is refused', async () => {
    const answer = await hub.call({
      as: 'mspKey',
      to: 'cmpKey',
      method: 'POST',
      path: paths.sendMspToken(),
      body: sendMspTokenBody(randomUUID()),
      headers: { 'api-key': 'guess' },
    });
    expect(answer.status).toBe(401);
  });

  test('no credential at all is refused; the log, not the answer, says why', async () => {
    const answer = await hub.call({
      as: 'mspKey',
      to: 'cmpKey',
      method: 'POST',
      path: paths.sendMspToken(),
      body: sendMspTokenBody(randomUUID()),
      omit: ['api-key'],
    });
    expect(answer.status).toBe(401);
    expect(lastRefusal().reason).toBe('missing_credential');
  });

  test('every 401 says the same: missing, wrong, unknown client-id (issue 10.9)', async () => {
    const send = (as: string, headers: Record<string, string>, omit: string[] = []) =>
      hub.call({ as, to: 'cmpKey', method: 'POST', path: paths.sendMspToken(), body: sendMspTokenBody(randomUUID()), headers, omit });
    const answers = await Promise.all([
      send('mspKey', {}, ['api-key']),
      send('mspKey', { 'api-key': 'guess' }),
      send('nobody', { 'api-key': 'guess' }),
      send('nobody', {}, ['api-key']),
      send('mspBasic', { authorization: basicHeader('mspBasic', 'guess') }),
      send('nobody', { authorization: basicHeader('nobody', 'guess') }),
    ]);
    expect(new Set(answers.map((a) => a.status))).toEqual(new Set([401]));
    expect(new Set(answers.map((a) => a.text)).size).toBe(1);
    expect(answers[0].body.error).toContain('the credential is missing, or does not belong to the client-id');
    // RFC 9110 15.5.2: "The server generating a 401 response MUST send a WWW-Authenticate header field"
    for (const answer of answers) expect(answer.headers.get('www-authenticate')).toBe('Basic realm="aid-gateway"');
  });

  // AID.02 section 6: client-id names the partner whose credential is checked; without it nothing is
  test('a request without client-id is refused, saying which header is missing', async () => {
    const answer = await hub.call({
      as: 'mspKey',
      to: 'cmpKey',
      method: 'POST',
      path: paths.sendMspToken(),
      body: sendMspTokenBody(randomUUID()),
      omit: ['client-id'],
    });
    // Send MSP Token documents no 400: its syntax errors are 422 (the operation's own client error)
    expect(answer.status).toBe(422);
    expect(answer.body).toEqual({ code: '91', error: expect.stringContaining('header client-id is required') });
    expect(cmp.received).toHaveLength(0);
  });

  test('basic credentials sent to a partner with API keys only are no credential of it', async () => {
    const answer = await hub.call({
      as: 'mspKey',
      to: 'cmpKey',
      method: 'POST',
      path: paths.sendMspToken(),
      body: sendMspTokenBody(randomUUID()),
      headers: { authorization: basicHeader('mspKey', 'key-of-mspKey') },
    });
    expect(answer.status).toBe(401);
    expect(lastRefusal().reason).toBe('missing_credential');
  });

  test('an unknown client-id gets the same 401 as a wrong credential (no probing for partner ids)', async () => {
    const unknown = await hub.call({
      as: 'nobody',
      to: 'cmpKey',
      method: 'POST',
      path: paths.sendMspToken(),
      body: sendMspTokenBody(randomUUID()),
      headers: { 'api-key': 'x' },
    });
    const wrong = await hub.call({
      as: 'mspKey',
      to: 'cmpKey',
      method: 'POST',
      path: paths.sendMspToken(),
      body: sendMspTokenBody(randomUUID()),
      headers: { 'api-key': 'x' },
    });
    expect(unknown.status).toBe(401);
    expect(unknown.body).toEqual(wrong.body);
  });

  test('a key stored hashed (sha256:...) is accepted in clear and nothing else is', async () => {
    const right = await hub.call({
      as: 'cmpHashed',
      to: 'mspKey',
      method: 'POST',
      path: paths.requestActivationCode(randomUUID()),
      body: requestActivationCodeBody(),
      headers: { 'api-key': 'key-of-cmpHashed' },
    });
    expect(right.status).toBe(200);
    const hashItself = createHash('sha256').update('key-of-cmpHashed').digest('hex');
    const wrong = await hub.call({
      as: 'cmpHashed',
      to: 'mspKey',
      method: 'POST',
      path: paths.requestActivationCode(randomUUID()),
      body: requestActivationCodeBody(),
      headers: { 'api-key': `sha256:${hashItself}` },
    });
    expect(wrong.status).toBe(401);
  });

  test('auth failures are counted by bounded reason, never by the claimed client-id', async () => {
    const before = await hub.metric('aid_gateway_auth_failures_total', { reason: 'wrong_credential' });
    await hub.call({
      as: 'mspKey',
      to: 'cmpKey',
      method: 'POST',
      path: paths.sendMspToken(),
      body: sendMspTokenBody(randomUUID()),
      headers: { 'api-key': 'guess' },
    });
    expect(await hub.metric('aid_gateway_auth_failures_total', { reason: 'wrong_credential' })).toBe(before + 1);
    const exported = await hub.metrics.registry.metrics();
    expect(exported).not.toMatch(/aid_gateway_requests_total\{[^}]*client="nobody"/);
  });
});

describe('basic', () => {
  // AID.02 6: the credential must be the partner's own; an API key sent to a partner that has none
  // is no credential of it (as basic credentials to a partner with API keys only), so its basic
  // credential decides
  test.each([
    ['the right user and password pass', {}],
    ['an api-key header beside them, to a partner with basic credentials only, changes nothing', { 'api-key': 'key-of-mspKey' }],
  ])('%s', async (_what, more: Record<string, string>) => {
    const answer = await hub.call({
      as: 'mspBasic',
      to: 'cmpKey',
      method: 'POST',
      path: paths.sendMspToken(),
      body: sendMspTokenBody(randomUUID()),
      headers: { authorization: basicHeader('mspBasic', 'pw-of-mspBasic'), ...more },
    });
    expect(answer.status).toBe(201);
  });

  test.each([
    ['a wrong password', basicHeader('mspBasic', 'nope')],
    ['an unknown user', basicHeader('someone', 'pw-of-mspBasic')],
    // the unknown user is compared against the digest of '' to take the same time: that must not let it in
    ['an unknown user with an empty password', basicHeader('someone', '')],
    ['a malformed header', 'Basic !!!'],
  ])('%s is refused', async (_what, authorization) => {
    const answer = await hub.call({
      as: 'mspBasic',
      to: 'cmpKey',
      method: 'POST',
      path: paths.sendMspToken(),
      body: sendMspTokenBody(randomUUID()),
      headers: { authorization },
    });
    expect(answer.status).toBe(401);
    expect(cmp.received).toHaveLength(0);
  });

  test('outbound, the hub presents the basic credential the partner issued to it', async () => {
    const answer = await hub.call({
      as: 'cmpKey',
      to: 'mspBasic',
      method: 'POST',
      path: paths.requestActivationCode(randomUUID()),
      body: requestActivationCodeBody(),
    });
    expect(answer.status).toBe(200);
    expect(msp.received[0].headers.authorization).toBe(basicHeader('hub', 'hub-pw-at-mspBasic'));
    expect(msp.received[0].headers['api-key']).toBeUndefined();
  });
});

describe('TLS client certificates', () => {
  test('a partner bound to its certificate fingerprint passes over the TLS listener', async () => {
    const answer = await overTls(mspCert, 'mspT', 'cmpKey');
    expect(answer.status).toBe(201);
  });

  test('a partner bound to its certificate subject and an api-key needs both', async () => {
    expect((await overTls(cmpCert, 'cmpT', 'mspKey', { 'api-key': 'key-of-cmpT' })).status).toBe(200);
    expect((await overTls(cmpCert, 'cmpT', 'mspKey')).status).toBe(401);
    expect((await overTls(mspCert, 'cmpT', 'mspKey', { 'api-key': 'key-of-cmpT' })).status).toBe(401);
  });

  // AID.02 section 6: the credential must belong to the partner named by client-id; a subject bound in
  // the config is matched attribute by attribute, whole, never as a prefix
  test('a trusted certificate whose CN only extends the bound one (CN=cmpTX for CN=cmpT) is refused 401', async () => {
    const answer = await overTls(pki.client('cmpTX'), 'cmpT', 'mspKey', { 'api-key': 'key-of-cmpT' });
    expect(answer.status).toBe(401);
    expect(lastRefusal().reason).toBe('certificate_mismatch');
    expect(cmp.received).toHaveLength(0);
    expect(msp.received).toHaveLength(0);
  });

  test("another partner's valid certificate does not speak for this client-id", async () => {
    const answer = await overTls(cmpCert, 'mspT', 'cmpKey');
    expect(answer.status).toBe(401);
    expect(lastRefusal().reason).toBe('certificate_mismatch');
  });

  test('an expired certificate is refused, saying so', async () => {
    const answer = await overTls(pki.expiredClient('mspT'), 'mspT', 'cmpKey');
    expect(answer.status).toBe(401);
    expect(lastRefusal()).toMatchObject({ reason: 'certificate_untrusted', detail: 'CERT_HAS_EXPIRED' });
  });

  test('a certificate from an unknown CA is refused', async () => {
    const answer = await overTls(pki.foreignClient('mspT'), 'mspT', 'cmpKey');
    expect(answer.status).toBe(401);
    expect(lastRefusal().reason).toBe('certificate_untrusted');
  });

  test('no certificate over TLS, or the plain listener, is refused for a certificate partner', async () => {
    expect((await overTls(undefined, 'mspT', 'cmpKey')).status).toBe(401);
    const plain = await hub.call({ as: 'mspT', to: 'cmpKey', method: 'POST', path: paths.sendMspToken(), body: sendMspTokenBody(randomUUID()) });
    expect(plain.status).toBe(401);
    expect(lastRefusal()).toMatchObject({ reason: 'certificate_missing', detail: expect.stringContaining('TLS listener') });
  });

  test('outbound, the hub presents its client certificate to a partner that demands one', async () => {
    const answer = await hub.call({
      as: 'cmpKey',
      to: 'mspTls',
      method: 'POST',
      path: paths.requestActivationCode(randomUUID()),
      body: requestActivationCodeBody(),
    });
    expect(answer.status).toBe(200);
    expect(tlsMsp.received).toHaveLength(1);
    expect(tlsMsp.received[0].headers['api-key']).toBe('hub-key-at-mspTls');
  });
});

/** why the last refused credential was refused, as the log has it */
function lastRefusal(): { reason?: string; detail?: string } {
  const line = hub
    .logLines()
    .filter((l) => l.msg === 'authentication failed')
    .pop();
  return { reason: line?.reason as string | undefined, detail: line?.detail as string | undefined };
}
