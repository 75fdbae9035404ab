/**
 * AID.02 4.1 and 4.2 walked in a real browser (headless Chromium through playwright-core): a
 * simulated CMP app and MSP portal, each a real HTTP server on 127.0.0.1, send the user through the
 * hub's redirect broker and back; the success path, the failure path (7.2.2), and each refused
 * redirect, where the browser must stay on the hub's page. Host names `*.test` are mapped to
 * 127.0.0.1 by the browser; the partners agree on exactly these origins. Skips, saying so, only when
 * no Chromium is installed.
 */
import { existsSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { chromium, type Browser } from 'playwright-core';
import { validAccountId } from '../support/touchpoints';
import { TestHub } from '../support/testHub';

jest.setTimeout(60000);

const BROWSER = [process.env.CHROMIUM_PATH, '/usr/bin/chromium', '/usr/bin/chromium-browser'].find((p): p is string => p !== undefined && existsSync(p));
if (!BROWSER) console.warn('touchpoint browser test skipped: no Chromium (Debian package chromium; .ci/run installs it)');
const describeWithBrowser = BROWSER ? describe : describe.skip;

/** a site: pages by path, each from the query it was opened with */
async function site(pages: Record<string, (q: URLSearchParams) => string>): Promise<{ port: number; close(): Promise<void> }> {
  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://site');
    const page = Object.hasOwn(pages, url.pathname) ? pages[url.pathname] : undefined;
    res
      .writeHead(page ? 200 : 404, { 'content-type': 'text/html; charset=utf-8' })
      .end(page ? `<!doctype html><html><body>${page(url.searchParams)}</body></html>` : 'not here');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  return { port: (server.address() as AddressInfo).port, close: () => new Promise((resolve) => server.close(() => resolve())) };
}

const escape = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
const link = (id: string, href: string, text: string) => `<a id="${id}" href="${escape(href)}">${text}</a>`;

describeWithBrowser('onboarding in a browser through the hub', () => {
  let browser: Browser;
  let hub: TestHub;
  let cmp: Awaited<ReturnType<typeof site>>;
  let msp: Awaited<ReturnType<typeof site>>;
  let hubOrigin: string;
  let cmpOrigin: string;
  let mspOrigin: string;
  const id = validAccountId();

  beforeAll(async () => {
    // the sites link through the hub, whose port is known only once it runs: a page reads it late
    let hubBase = '';
    cmp = await site({
      // 4.1 [2]: the CMP app lets the user pick the MSP and sends them there with the account id
      '/start': () =>
        link(
          'go',
          `${hubBase}/touchpoints/mspA/login?client_id=cmpA&id=${id}&redirect_uri=${encodeURIComponent(`${cmpOrigin}/back`)}`,
          'Activate with A Mobile',
        ),
      '/back': (q) => `<p id="done">Back at A Motors${q.toString() ? ` with ${escape(q.toString())}` : ''}</p>`,
      // 4.2: the CMP portal, reached from the MSP's; the user logs in (or gives up) and goes back
      '/login': (q) => {
        const back = q.get('redirect_uri') ?? '';
        return `<p id="cmp-login">A Motors login</p>${link('ok', `${hubBase}/touchpoints/mspA/return?client_id=cmpA&redirect_uri=${encodeURIComponent(back)}&id=${id}`, 'Log in')}${link('abort', `${hubBase}/touchpoints/mspA/return?client_id=cmpA&redirect_uri=${encodeURIComponent(back)}&code=102&error=${encodeURIComponent('Onboarding aborted by user')}`, 'Cancel')}`;
      },
    });
    msp = await site({
      '/login': (q) =>
        `<p id="msp-login">A Mobile portal, account id ${q.get('id') === id ? 'received' : 'missing'}</p>${link('finish', `${hubBase}/touchpoints/cmpA/return?client_id=mspA&redirect_uri=${encodeURIComponent(q.get('redirect_uri') ?? '')}`, 'Finish')}`,
      // 4.2: the MSP portal sends the user to the CMP's
      '/start': () =>
        link('go', `${hubBase}/touchpoints/cmpA/login?client_id=mspA&redirect_uri=${encodeURIComponent(`${mspOrigin}/return?foo=bar`)}`, 'Connect my car'),
      '/return': (q) => `<p id="returned">${escape(JSON.stringify(Object.fromEntries(q)))}</p>`,
    });
    cmpOrigin = `http://app.cmp.test:${cmp.port}`;
    mspOrigin = `http://shop.msp.test:${msp.port}`;
    hub = await TestHub.start({
      partners: [
        {
          id: 'cmpA',
          role: 'cmp',
          apiKey: 'key-cmpA',
          upstreamUrl: 'http://127.0.0.1:1',
          extra: { touchpoint: { displayName: 'A Motors', portal: { production: `http://portal.cmp.test:${cmp.port}/login` }, redirects: [cmpOrigin] } },
        },
        {
          id: 'mspA',
          role: 'msp',
          apiKey: 'key-mspA',
          upstreamUrl: 'http://127.0.0.1:1',
          extra: { touchpoint: { displayName: 'A Mobile', portal: { production: `http://portal.msp.test:${msp.port}/login` }, redirects: [mspOrigin] } },
        },
      ],
      routes: {
        routes: [
          { from: 'cmpA', to: 'mspA' },
          { from: 'mspA', to: 'cmpA' },
        ],
      },
      store: 'memory',
    });
    hubOrigin = `http://hub.test:${new URL(hub.url).port}`;
    hubBase = hubOrigin;
    browser = await chromium.launch({
      executablePath: BROWSER,
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        '--host-resolver-rules=MAP *.test 127.0.0.1',
      ],
    });
  });

  afterAll(async () => {
    await browser?.close();
    await hub?.close();
    await Promise.all([cmp?.close(), msp?.close()]);
  });

  test('4.1: from the CMP app to the MSP portal with the account id, and back to the CMP', async () => {
    const page = await browser.newPage();
    await page.goto(`${cmpOrigin}/start`);
    await page.click('#go');
    await page.waitForSelector('#msp-login');
    expect(await page.textContent('#msp-login')).toContain('account id received');
    await page.click('#finish');
    await page.waitForSelector('#done');
    expect(new URL(page.url()).origin).toBe(cmpOrigin);
    await page.close();
  });

  test('4.2 success (7.2.1): from the MSP portal to the CMP portal and back with id=', async () => {
    const page = await browser.newPage();
    await page.goto(`${mspOrigin}/start`);
    await page.click('#go');
    await page.waitForSelector('#cmp-login');
    await page.click('#ok');
    await page.waitForSelector('#returned');
    expect(JSON.parse((await page.textContent('#returned')) as string)).toEqual({ foo: 'bar', id });
    await page.close();
  });

  test('4.2 failure (7.2.2): back to the MSP with code= and error=', async () => {
    const page = await browser.newPage();
    await page.goto(`${mspOrigin}/start`);
    await page.click('#go');
    await page.waitForSelector('#cmp-login');
    await page.click('#abort');
    await page.waitForSelector('#returned');
    expect(JSON.parse((await page.textContent('#returned')) as string)).toEqual({ foo: 'bar', code: '102', error: 'Onboarding aborted by user' });
    await page.close();
  });

  // AID.02 7.1: "the MSP is only allowed to redirect to one of the agreed domains" (and the CMP: "SHALL
  // be only allowed to redirect to one of the agreed domains"): the browser stays on the hub's page
  test.each([
    ['another host', 'http://evil.test:1/'],
    ['protocol-relative', '//evil.test/'],
    ['user info', `http://app.cmp.test:1@evil.test/`],
    ['backslashes', 'http:\\\\evil.test\\'],
    ['javascript:', 'javascript:document.body.innerHTML="owned"'],
    ['an agreed host on another port', 'http://app.cmp.test:1/back'],
    ['an encoded dot', 'http://app%2ecmp.test/back'],
    ['an international look-alike', 'http://аpp.cmp.test/back'],
    ['data:', 'data:text/html,<h1>owned</h1>'],
  ])('a redirect to %s is refused: a page on the hub, the browser goes nowhere else', async (_what, redirectUri) => {
    const page = await browser.newPage();
    await page.goto(`${hubOrigin}/touchpoints/mspA/login?client_id=cmpA&id=${id}&redirect_uri=${encodeURIComponent(redirectUri)}`);
    expect(new URL(page.url()).origin).toBe(hubOrigin);
    expect(await page.textContent('h1')).toBe('This link cannot be followed');
    expect(await page.textContent('#code')).toBe('208');
    await page.close();
  });
});
