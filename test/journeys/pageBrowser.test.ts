/**
 * The journey page in a real browser (headless Chromium through playwright-core), as the
 * touchpoint browser test does it: behind the admin credentials, no script and no request for
 * anything but the page itself, the stuck step highlighted. With JOURNEY_SCREENSHOT=<file> it
 * writes the screenshot the docs show. Skips, saying so, only when no Chromium is installed.
 */
import { existsSync } from 'node:fs';
import { randomUUID } from 'node:crypto';
import { chromium, type Browser } from 'playwright-core';
import { digest } from '../../src/config/credentials';
import { paths, requestActivationCodeBody, sendCsimStatusBody, submitActivationCodeBody } from '../support/messages';
import { basicHeader, request, startWorld, type World } from '../support/testHub';
import { waitFor } from '../support/waitFor';

jest.setTimeout(60000);

const BROWSER = [process.env.CHROMIUM_PATH, '/usr/bin/chromium', '/usr/bin/chromium-browser'].find((p): p is string => p !== undefined && existsSync(p));
if (!BROWSER) console.warn('journey page browser test skipped: no Chromium (Debian package chromium; .ci/run installs it)');
const describeWithBrowser = BROWSER ? describe : describe.skip;

describeWithBrowser('the journey page in a browser', () => {
  let browser: Browser;
  let world: World;
  let stuckToken: string;
  let settledToken: string;

  beforeAll(async () => {
    world = await startWorld({
      store: 'memory',
      adminAuth: { username: 'ops', passwordDigest: digest('ops-secret') },
      routes: { settings: { journeyStuckAwaitingCodeSeconds: 1 }, routes: [{ from: '*', to: '*' }] },
    });
    // one journey stuck after its 201, one walked to its CSIM status
    stuckToken = await world.onboard('mspB', 'cmpB');
    world.partners.mspB.answer((req) => (req.path.startsWith('/v1/activation-code-requests/') ? { status: 201 } : undefined));
    await world.hub.call({ as: 'cmpB', to: 'mspB', method: 'POST', path: paths.requestActivationCode(stuckToken), body: requestActivationCodeBody() });
    await world.hub.call({ as: 'cmpB', to: 'mspB', method: 'GET', path: paths.requestProfileStatus(stuckToken) });
    settledToken = await world.onboard('mspA', 'cmpA');
    const requestId = randomUUID();
    world.partners.mspA.answer(() => ({ status: 201 }));
    await world.hub.call({
      as: 'cmpA',
      to: 'mspA',
      method: 'POST',
      path: paths.requestActivationCode(settledToken),
      body: requestActivationCodeBody(requestId),
    });
    world.partners.mspA.reset();
    await world.hub.call({ as: 'mspA', to: 'cmpA', method: 'POST', path: paths.submitActivationCode(settledToken), body: submitActivationCodeBody(requestId) });
    await world.hub.call({ as: 'cmpA', to: 'mspA', method: 'POST', path: paths.sendCsimStatus(settledToken), body: sendCsimStatusBody('installed') });
    const asOps = { authorization: basicHeader('ops', 'ops-secret') };
    await waitFor(async () => (await request(`${world.hub.hub.adminUrl}/admin/journeys/${stuckToken}`, { headers: asOps })).body.waiting?.stuck === true);
    browser = await chromium.launch({
      executablePath: BROWSER,
      args: ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
  });

  afterAll(async () => {
    await browser?.close();
    await world?.close();
  });

  // a browser asks for credentials here (headless Chromium fails the navigation): asked without it
  test('without the admin credentials: 401, no journey', async () => {
    const answer = await request(`${world.hub.hub.adminUrl}/admin/journeys/${stuckToken}/page`, {});
    expect(answer.status).toBe(401);
    expect(answer.headers.get('www-authenticate')).toContain('Basic');
    expect(answer.text).not.toContain(stuckToken);
  });

  test('a stuck journey: the 201 step highlighted, the sentence saying what is missing, nothing loaded but the page', async () => {
    const context = await browser.newContext({ httpCredentials: { username: 'ops', password: 'ops-secret' }, viewport: { width: 1100, height: 560 } });
    const page = await context.newPage();
    const requested: string[] = [];
    page.on('request', (r) => requested.push(r.url()));
    const response = await page.goto(`${world.hub.hub.adminUrl}/admin/journeys/${stuckToken}/page`);
    expect(response?.status()).toBe(200);
    expect(response?.headers()['content-security-policy']).toBe("default-src 'none'; style-src 'unsafe-inline'");
    expect(await page.textContent('#waiting')).toMatch(/^Stuck: 201 \d\d:\d\d:\d\d, no Send Activation Code from mspB for \d+ s$/);
    // exactly one step is marked, and it is the Request Activation Code answered 201
    expect(await page.locator('li.stuck').count()).toBe(1);
    expect(await page.getAttribute('li.stuck', 'data-operation')).toBe('requestActivationCode');
    expect(await page.locator('#events li').count()).toBe(3);
    // the highlight is seen, not only named: the stuck step's background differs from another step's
    const background = (el: unknown) =>
      (globalThis as unknown as { getComputedStyle(e: unknown): { backgroundColor: string } }).getComputedStyle(el).backgroundColor;
    const [stuck, other] = await Promise.all([page.$eval('li.stuck', background), page.$eval('li:not(.stuck)', background)]);
    expect(stuck).not.toBe(other);
    expect(requested).toEqual([`${world.hub.hub.adminUrl}/admin/journeys/${stuckToken}/page`]);
    if (process.env.JOURNEY_SCREENSHOT) await page.screenshot({ path: process.env.JOURNEY_SCREENSHOT, fullPage: true });
    await context.close();
  });

  test('a settled journey: nothing highlighted, waiting for nothing', async () => {
    const context = await browser.newContext({ httpCredentials: { username: 'ops', password: 'ops-secret' } });
    const page = await context.newPage();
    await page.goto(`${world.hub.hub.adminUrl}/admin/journeys/${settledToken}/page`);
    expect(await page.textContent('#waiting')).toContain('Waiting for nothing');
    expect(await page.locator('li.stuck, li.waiting').count()).toBe(0);
    expect(await page.locator('#events li').count()).toBe(4);
    await context.close();
  });
});
