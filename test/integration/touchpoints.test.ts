/**
 * The touchpoints through the hub over HTTP: the partner directory and the redirect broker of AID.02
 * 4.1, 4.2, 7.1 and 7.2, with every open-redirect trick refused. Browsers are in touchpointsBrowser.test.ts.
 */
import { TestHub, type PartnerSpec } from '../support/testHub';
import { FakePartner } from '../support/fakePartner';
import { accountId, validAccountId } from '../support/touchpoints';

const CMP_PORTAL = 'https://portal.cmp.example/login';
const MSP_PORTAL = 'https://portal.msp.example/login?brand=hub';
const ID = validAccountId();
let hub: TestHub;
let partners: FakePartner[];

beforeAll(async () => {
  partners = await Promise.all([FakePartner.start(), FakePartner.start(), FakePartner.start()]);
  const [cmp, msp, other] = partners;
  const specs: PartnerSpec[] = [
    {
      id: 'cmpA',
      role: 'cmp',
      apiKey: 'key-cmpA',
      upstreamUrl: cmp.url,
      extra: {
        touchpoint: {
          displayName: 'A Motors',
          logoUrl: 'https://cmp.example/logo.svg',
          portal: { production: CMP_PORTAL },
          redirects: ['*.cmp.example', 'cmpapp:'],
        },
      },
    },
    {
      id: 'mspA',
      role: 'msp',
      apiKey: 'key-mspA',
      upstreamUrl: msp.url,
      extra: {
        touchpoint: {
          displayName: 'A Mobile',
          portal: { production: MSP_PORTAL, preproduction: 'https://test.msp.example/login' },
          redirects: ['*.msp.example'],
        },
      },
    },
    {
      id: 'mspB',
      role: 'msp',
      apiKey: 'key-mspB',
      upstreamUrl: other.url,
      extra: { touchpoint: { displayName: 'B Mobile', portal: { production: 'https://b.example/login' }, redirects: ['www.b.example'] } },
    },
    { id: 'mspC', role: 'msp', apiKey: 'key-mspC', upstreamUrl: other.url },
  ];
  hub = await TestHub.start({
    partners: specs,
    routes: {
      routes: [
        { from: 'cmpA', to: 'mspA' },
        { from: 'mspA', to: 'cmpA' },
        { from: 'cmpA', to: 'mspC' },
      ],
    },
  });
});
afterAll(async () => {
  await hub.close();
  await Promise.all(partners.map((p) => p.close()));
});

const get = (path: string) => fetch(`${hub.url}${path}`, { redirect: 'manual' });
const query = (params: Record<string, string>) => new URLSearchParams(params).toString();

describe('the partner directory', () => {
  test("a CMP sees the MSPs it is routed to that have a touchpoint (4.1 [2]), with the broker's login path", async () => {
    const answer = await hub.call({ as: 'cmpA', method: 'GET', path: '/touchpoints' });
    expect(answer.status).toBe(200);
    expect(answer.body).toEqual({ partners: [{ id: 'mspA', role: 'msp', displayName: 'A Mobile', logoUrl: null, login: '/touchpoints/mspA/login' }] });
    const msp = await hub.call({ as: 'mspA', method: 'GET', path: '/touchpoints' });
    expect(msp.body.partners).toEqual([
      { id: 'cmpA', role: 'cmp', displayName: 'A Motors', logoUrl: 'https://cmp.example/logo.svg', login: '/touchpoints/cmpA/login' },
    ]);
  });

  test("without the partner's credential: 401 with the AID.02 body", async () => {
    const answer = await hub.call({ as: 'cmpA', method: 'GET', path: '/touchpoints', headers: { 'api-key': 'wrong' } });
    expect(answer.status).toBe(401);
    expect(answer.body.code).toBe('201');
  });
});

describe('the redirect broker', () => {
  test("4.1 / 7.1: the CMP's app sends the user to the MSP's portal with the account id and the way back, re-encoded", async () => {
    const answer = await get(`/touchpoints/mspA/login?${query({ client_id: 'cmpA', id: ID, redirect_uri: 'https://www.cmp.example/esim?step=2' })}`);
    expect(answer.status).toBe(302);
    const location = new URL(answer.headers.get('location') as string);
    expect(`${location.origin}${location.pathname}`).toBe('https://portal.msp.example/login');
    expect(Object.fromEntries(location.searchParams)).toEqual({ brand: 'hub', id: ID, redirect_uri: 'https://www.cmp.example/esim?step=2' });
    expect(answer.headers.get('cache-control')).toBe('no-store');
    expect(answer.headers.get('referrer-policy')).toBe('no-referrer');
  });

  test("the way back of 7.1: the MSP sends the user back to the CMP's app (custom URL scheme agreed)", async () => {
    const answer = await get(`/touchpoints/cmpA/return?${query({ client_id: 'mspA', redirect_uri: 'cmpapp://onboarding/done' })}`);
    expect(answer.status).toBe(302);
    expect(answer.headers.get('location')).toBe('cmpapp://onboarding/done');
  });

  test("4.2 / 7.1: the MSP's portal sends the user to the CMP's portal, with its own way back", async () => {
    const answer = await get(`/touchpoints/cmpA/login?${query({ client_id: 'mspA', redirect_uri: 'https://shop.msp.example/return?foo=bar' })}`);
    expect(answer.status).toBe(302);
    const location = new URL(answer.headers.get('location') as string);
    expect(location.href).toBe(`${CMP_PORTAL}?redirect_uri=${encodeURIComponent('https://shop.msp.example/return?foo=bar')}`);
  });

  test('7.2.1 and 7.2.2: back to the MSP with id=, or with code= and error=, appended to its redirect_uri', async () => {
    const ok = await get(`/touchpoints/mspA/return?${query({ client_id: 'cmpA', redirect_uri: 'https://shop.msp.example/return?foo=bar', id: ID })}`);
    expect(ok.status).toBe(302);
    expect(ok.headers.get('location')).toBe(`https://shop.msp.example/return?foo=bar&id=${ID}`);
    const failed = await get(
      `/touchpoints/mspA/return?${query({ client_id: 'cmpA', redirect_uri: 'https://shop.msp.example/return?foo=bar', code: '100', error: 'Unspecified CMP content error' })}`,
    );
    expect(failed.headers.get('location')).toBe('https://shop.msp.example/return?foo=bar&code=100&error=Unspecified+CMP+content+error');
  });

  // AID.02 7.1: "the MSP is only allowed to redirect to one of the agreed domains"; "the CMP SHALL be
  // only allowed to redirect to one of the agreed domains": each of these is not an agreed domain
  test.each([
    ['another domain (7.1 Example 2)', 'https://www.example.de/esim'],
    ['protocol-relative', '//evil.example/esim'],
    ['a look-alike suffix', 'https://www.cmp.example.evil.example/'],
    ['user info hiding the host', 'https://www.cmp.example@evil.example/'],
    ['backslashes', 'https:\\\\evil.example\\www.cmp.example'],
    ['an encoded dot', 'https://evil%2e.cmp.example/'],
    ['an international look-alike', 'https://www.cmр.example/'],
    ['javascript:', 'javascript:alert(document.cookie)'],
    ['data:', 'data:text/html,<script>alert(1)</script>'],
    ['plain http', 'http://www.cmp.example/esim'],
    ['another port', 'https://www.cmp.example:8443/esim'],
    ['a fragment', 'https://www.cmp.example/esim#x'],
    ['the bare domain of a wildcard', 'https://cmp.example/esim'],
    ['no scheme', 'www.cmp.example/esim'],
  ])('%s: refused with a page, never a redirect', async (_what, redirectUri) => {
    const answer = await get(`/touchpoints/mspA/login?${query({ client_id: 'cmpA', id: ID, redirect_uri: redirectUri })}`);
    expect(answer.status).toBe(400);
    expect(answer.headers.get('location')).toBeNull();
    expect(answer.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(answer.headers.get('content-security-policy')).toContain("default-src 'none'");
    const page = await answer.text();
    expect(page).toContain('AID.02 code <span id="code">208</span>');
    expect(page).not.toContain('evil');
  });

  test.each([
    ['expired', accountId(Math.floor(Date.now() / 1000) - 60), 'has expired'],
    ['not URL-safe', 'abc"><script>', 'letters and digits'],
    ['a JWT whose payload is no JSON', 'eyJhbGciOiJIUzI1NiJ9.bm90LWpzb24.c2ln', 'no JSON'],
  ])('an account id %s: refused (code 209)', async (_what, id, reason) => {
    const answer = await get(`/touchpoints/mspA/login?${query({ client_id: 'cmpA', id, redirect_uri: 'https://www.cmp.example/esim' })}`);
    expect(answer.status).toBe(400);
    const page = await answer.text();
    expect(page).toContain('209');
    expect(page).toContain(reason);
    expect(page).not.toContain('<script>');
  });

  test.each([
    ['an unknown partner', '/touchpoints/mspZ/login', { client_id: 'cmpA' }, 404, '93'],
    ['a partner without a touchpoint', '/touchpoints/mspC/login', { client_id: 'cmpA' }, 404, '93'],
    ['no client_id', '/touchpoints/mspA/login', { id: ID, redirect_uri: 'https://www.cmp.example/' }, 400, '91'],
    ['a pair not routed with each other', '/touchpoints/mspB/login', { client_id: 'cmpA', id: ID, redirect_uri: 'https://www.cmp.example/' }, 403, '202'],
    ['no id toward an MSP (4.1 passes the account id)', '/touchpoints/mspA/login', { client_id: 'cmpA', redirect_uri: 'https://www.cmp.example/' }, 400, '91'],
    [
      'an error code outside 100-103 (AID.02 5.5)',
      '/touchpoints/mspA/return',
      { client_id: 'cmpA', redirect_uri: 'https://shop.msp.example/', code: '42', error: 'x' },
      400,
      '91',
    ],
  ])('%s: refused with a page (%s)', async (_what, path, params, status, code) => {
    const answer = await get(`${path}?${query(params)}`);
    expect(answer.status).toBe(status);
    expect(answer.headers.get('location')).toBeNull();
    expect(await answer.text()).toContain(`<span id="code">${code}</span>`);
  });

  test('a parameter given twice is refused; so is a method other than GET', async () => {
    const twice = await get(
      `/touchpoints/mspA/login?client_id=cmpA&id=${ID}&redirect_uri=${encodeURIComponent('https://www.cmp.example/')}&redirect_uri=${encodeURIComponent('https://evil.example/')}`,
    );
    expect(twice.status).toBe(400);
    const post = await fetch(`${hub.url}/touchpoints/mspA/login`, { method: 'POST', redirect: 'manual' });
    expect([post.status, post.headers.get('allow')]).toEqual([405, 'GET']);
  });

  test.each([['login'], ['return']])('client_id given twice on /%s: 400 code 91 with the refusal page, never a 500 (issue 29.1)', async (flow) => {
    const twice = await get(`/touchpoints/mspA/${flow}?client_id=cmpA&client_id=mspB&redirect_uri=${encodeURIComponent('https://www.cmp.example/')}&id=${ID}`);
    expect(twice.status).toBe(400);
    expect(twice.headers.get('location')).toBeNull();
    const page = await twice.text();
    expect(page).toContain('<span id="code">91</span>');
    expect(page).toContain('The parameter client_id is given more than once.');
    expect(hub.logLines().filter((l) => /internal error/.test(String(l.msg)))).toEqual([]);
  });

  test('redirects are counted by pair and outcome; no account id or redirect URI reaches a log line', async () => {
    expect(await hub.metric('aid_gateway_touchpoint_redirects_total', { from: 'cmpA', to: 'mspA', flow: 'login', outcome: 'redirected' })).toBeGreaterThan(0);
    expect(await hub.metric('aid_gateway_touchpoint_redirects_total', { outcome: 'redirect_refused' })).toBeGreaterThan(10);
    const logs = hub.logs.join('\n');
    for (const secret of [ID, 'www.cmp.example', 'shop.msp.example', 'evil'])
      expect({ secret, logged: logs.includes(secret) }).toEqual({ secret, logged: false });
  });
});
