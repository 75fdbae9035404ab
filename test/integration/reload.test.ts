/**
 * Config reload: atomic, a bad config refused while the old one keeps serving, requests in flight
 * finishing on the config they started with.
 */
import { randomUUID } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { createPki } from '../support/certs';
import { FakePartner } from '../support/fakePartner';
import { paths, requestActivationCodeBody } from '../support/messages';
import { ALL_ROUTES, TestHub, type PartnerSpec } from '../support/testHub';

let hub: TestHub;
let msp: FakePartner;
let newMsp: FakePartner;
let specs: PartnerSpec[];

beforeEach(async () => {
  [msp, newMsp] = await Promise.all([FakePartner.start(), FakePartner.start()]);
  specs = [
    { id: 'cmpA', role: 'cmp', apiKey: 'key-cmpA', upstreamUrl: 'http://127.0.0.1:1' },
    { id: 'mspA', role: 'msp', apiKey: 'key-mspA', upstreamUrl: msp.url },
  ];
  hub = await TestHub.start({ partners: specs, store: 'memory' });
});

afterEach(async () => {
  await hub.close();
  await Promise.all([msp.close(), newMsp.close()]);
});

const requestCode = (to = 'mspA') =>
  hub.call({ as: 'cmpA', to, method: 'POST', path: paths.requestActivationCode(randomUUID()), body: requestActivationCodeBody() });

test('a new config is taken at once: a new partner can be called', async () => {
  expect((await requestCode('mspNew')).status).toBe(404);
  hub.writeConfig([...specs, { id: 'mspNew', role: 'msp', apiKey: 'k', upstreamUrl: newMsp.url }], ALL_ROUTES);
  expect(hub.hub.reload()).toEqual({ ok: true, generation: 2 });
  expect((await requestCode('mspNew')).status).toBe(200);
  expect(newMsp.received).toHaveLength(1);
  expect(await hub.metric('aid_gateway_config_generation')).toBe(2);
});

test('a bad config is refused with every problem named, and the old config keeps serving', async () => {
  writeFileSync(path.join(hub.dir, 'partners', 'broken.yaml'), 'id: broken\nrole: car\ninbound: {}\nupstream:\n  url: ftp://x\n');
  const result = hub.hub.reload();
  expect(result.ok).toBe(false);
  const problems = result.ok ? [] : result.problems;
  expect(problems).toEqual(
    expect.arrayContaining([
      expect.stringMatching(/partners\/broken\.yaml:\d+:\d+ \(partner broken\): role: must be one of msp, cmp/),
      expect.stringMatching(/partners\/broken\.yaml:\d+:\d+ \(partner broken\): upstream\.url: must match pattern/),
    ]),
  );
  expect(hub.hub.generation).toBe(1);
  expect((await requestCode()).status).toBe(200);
  expect(await hub.metric('aid_gateway_config_reloads_total', { result: 'failure' })).toBe(1);
});

test('a config naming an unset environment variable is refused', async () => {
  hub.writeConfig([...specs, { id: 'mspEnv', role: 'msp', apiKey: '${MSP_ENV_KEY}', upstreamUrl: newMsp.url }], ALL_ROUTES);
  const result = hub.hub.reload();
  expect(result).toEqual({ ok: false, problems: [expect.stringContaining('inbound.apiKeys[0]: environment variable MSP_ENV_KEY is not set')] });
});

test('a request in flight finishes on the config it started with', async () => {
  msp.answer(() => ({
    status: 200,
    delayMs: 400,
    body: { iccid: '8949000000000000001', activationCode: '1$a$b', profileType: 'personal', swappedIccid: null },
  }));
  const inFlight = requestCode();
  await new Promise((r) => setTimeout(r, 100));
  // the new config sends mspA's traffic elsewhere and allows no route at all
  hub.writeConfig([specs[0], { ...specs[1], upstreamUrl: newMsp.url }], { routes: [] });
  expect(hub.hub.reload().ok).toBe(true);
  const finished = await inFlight;
  expect(finished.status).toBe(200);
  expect(msp.received).toHaveLength(1);
  const after = await requestCode();
  expect(after.status).toBe(403);
  expect(newMsp.received).toHaveLength(0);
});

describe('issue 29.6: upstream TLS files are parsed when the config is loaded', () => {
  const pki = createPki();
  const other = pki.client('another');
  const withTls = (files: Record<string, string>, tls: Record<string, string>) => {
    hub.writeConfig(
      [
        ...specs,
        {
          id: 'mspTls',
          role: 'msp',
          apiKey: 'k',
          upstreamUrl: 'https://127.0.0.1:1',
          extra: { upstream: { url: 'https://127.0.0.1:1', auth: { apiKey: 'x' }, tls } },
        },
      ],
      ALL_ROUTES,
    );
    for (const [name, content] of Object.entries(files)) writeFileSync(path.join(hub.dir, name), content);
    return hub.hub.reload();
  };
  const client = pki.client('hub at mspTls');

  test.each([
    [
      'a certificate that is not PEM',
      { 'c.pem': 'not a certificate', 'k.pem': client.key },
      { cert: 'c.pem', key: 'k.pem' },
      'upstream.tls.cert: c.pem is not a PEM certificate',
    ],
    [
      'a key that is not PEM',
      { 'c.pem': client.cert, 'k.pem': 'MIIEvQIBADANBg' },
      { cert: 'c.pem', key: 'k.pem' },
      'upstream.tls.key: k.pem is not a PEM private key',
    ],
    [
      "a key that is not the certificate's",
      { 'c.pem': client.cert, 'k.pem': other.key },
      { cert: 'c.pem', key: 'k.pem' },
      'upstream.tls.key: k.pem is not the key of the certificate in c.pem',
    ],
    ['a CA file that is not PEM', { 'ca.pem': 'garbage' }, { ca: 'ca.pem' }, 'upstream.tls.ca: ca.pem is not a PEM certificate'],
    [
      'a CA bundle with one broken certificate',
      { 'ca.pem': `${pki.ca.cert}-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n` },
      { ca: 'ca.pem' },
      'upstream.tls.ca: ca.pem is not a PEM certificate',
    ],
  ])('%s: the reload is refused, naming the file and the field; the old config keeps serving', async (_what, files, tls, problem) => {
    const result = withTls(files, tls);
    expect(result).toEqual({
      ok: false,
      problems: [expect.stringMatching(new RegExp(`^partners/mspTls\\.yaml:\\d+:\\d+: ${problem.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`))],
    });
    expect(hub.hub.generation).toBe(1);
    expect((await requestCode()).status).toBe(200);
  });

  test("good files are taken; a TLS failure at the partner answers 502 without the library's error text", async () => {
    expect(withTls({ 'c.pem': client.cert, 'k.pem': client.key, 'ca.pem': pki.ca.cert }, { cert: 'c.pem', key: 'k.pem', ca: 'ca.pem' })).toEqual({
      ok: true,
      generation: 2,
    });
    // a plain HTTP partner behind an https URL: the handshake fails
    hub.writeConfig([...specs, { id: 'mspTls', role: 'msp', apiKey: 'k', upstreamUrl: msp.url.replace('http:', 'https:') }], ALL_ROUTES);
    expect(hub.hub.reload().ok).toBe(true);
    const answer = await requestCode('mspTls');
    expect(answer.status).toBe(502);
    expect(answer.body).toEqual({
      code: '90',
      error: expect.stringMatching(/^The target partner could not be reached: mspTls: (TLS handshake failed|network error)$/),
    });
    expect(hub.logLines().some((l) => l.msg === 'upstream call failed' && typeof l.code === 'string')).toBe(true);
  });
});
