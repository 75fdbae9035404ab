/**
 * Proof that every Grafana panel works: a real Prometheus scrapes the hub's admin listener while
 * scripted AID.02 traffic runs between partners on loopback (successes, refusals, an open
 * breaker, an asynchronous and a bridged activation code, outbox retries and dead letters, rate
 * limits, a reload that fails, Redis going away, an ES2+ operator's orders and swap), then every query of every panel is evaluated
 * through Prometheus's HTTP API and must be valid and return at least one series. And with
 * `--workers 2`, the one scrape of the primary's admin listener holds every worker's traffic.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { startSmdpSimulator } from '../../src/dialects/es2plus/simulator';
import { startDeviceMgmtSimulator } from '../../src/dialects/devicemgmt/simulator';
import { startTelcoapiSimulator } from '../../src/dialects/telcoapi/simulator';
import { FakePartner } from '../support/fakePartner';
import { paths, requestActivationCodeBody, sendCsimStatusBody, sendMspTokenBody, submitActivationCodeBody } from '../support/messages';
import { freePort } from '../support/ports';
import { OwnRedis } from '../support/redisServer';
import { ALL_ROUTES, request, TestHub, writeConfig, type PartnerSpec } from '../support/testHub';
import { deleteKeys, REDIS_URL, uniquePrefix } from '../support/redis';
import { waitFor } from '../support/waitFor';

const DASHBOARDS = path.join(__dirname, '../../grafana/dashboards');
const MAIN = path.join(__dirname, '../../dist/src/main.js');

interface PanelQuery {
  readonly dashboard: string;
  readonly panel: string;
  readonly expr: string;
}

function panelQueries(): PanelQuery[] {
  return readdirSync(DASHBOARDS).flatMap((file) => {
    const dashboard = JSON.parse(readFileSync(path.join(DASHBOARDS, file), 'utf8')) as {
      title: string;
      panels: { title: string; targets: { expr: string }[] }[];
    };
    return dashboard.panels.flatMap((panel) => panel.targets.map((t) => ({ dashboard: dashboard.title, panel: panel.title, expr: t.expr })));
  });
}

/** Grafana's variables, as Grafana would fill them in for "all partners, the last 5 minutes" (a rate
 * over 3 minutes: the whole scripted traffic, however slow the machine) */
function asGrafanaSends(expr: string): string {
  return expr
    .replace(/\$__rate_interval/g, '3m')
    .replace(/\$__range/g, '5m')
    .replace(/\$partner/g, '.*');
}

/** a panel shows data: a rate, an increase or a quantile above 0 somewhere, a gauge a number */
function showsData(expr: string, values: string[]): boolean {
  const numbers = values.map(Number).filter((v) => Number.isFinite(v));
  return /rate\(|increase\(|histogram_quantile\(/.test(expr) ? numbers.some((v) => v > 0) : numbers.length > 0;
}

test('every panel reads the data source the user picks (a variable, not a fixed uid), and memory shows in bytes', () => {
  for (const file of readdirSync(DASHBOARDS)) {
    const text = readFileSync(path.join(DASHBOARDS, file), 'utf8');
    const dashboard = JSON.parse(text) as {
      templating: { list: { name: string; type: string; query: string }[] };
      panels: { title: string; targets: { expr: string }[]; fieldConfig: { defaults: { unit: string } } }[];
    };
    expect(dashboard.templating.list).toContainEqual(expect.objectContaining({ name: 'datasource', type: 'datasource', query: 'prometheus' }));
    const uids = [...text.matchAll(/"uid": "([^"]*)"/g)].map((m) => m[1]).filter((uid) => !uid.startsWith('aid-gw-'));
    expect(uids.length).toBeGreaterThan(0);
    expect(new Set(uids)).toEqual(new Set(['${datasource}']));
    for (const panel of dashboard.panels.filter((p) => p.targets.some((t) => t.expr.includes('_bytes'))))
      expect({ panel: panel.title, unit: panel.fieldConfig.defaults.unit }).toEqual({ panel: panel.title, unit: 'bytes' });
  }
});

const prometheuses: ChildProcess[] = [];
const workDirs: string[] = [];
let redis: OwnRedis;
let hub: TestHub;
const partners: { close(): Promise<void> }[] = [];

afterAll(async () => {
  for (const prometheus of prometheuses) prometheus.kill('SIGKILL');
  await hub?.close();
  await Promise.all(partners.map((p) => p.close()));
  await redis?.remove();
  for (const dir of workDirs) rmSync(dir, { recursive: true, force: true });
});

/** a Prometheus of the test's own, scraping `target` every second; its URL */
async function startPrometheus(target: string): Promise<string> {
  const workDir = mkdtempSync(path.join(tmpdir(), 'aidgw-prometheus-'));
  workDirs.push(workDir);
  const port = await freePort();
  writeFileSync(
    path.join(workDir, 'prometheus.yml'),
    `global:\n  scrape_interval: 1s\nscrape_configs:\n  - job_name: aid-gateway\n    static_configs:\n      - targets: ['${target}']\n`,
  );
  prometheuses.push(
    spawn(
      'prometheus',
      [`--config.file=${path.join(workDir, 'prometheus.yml')}`, `--storage.tsdb.path=${path.join(workDir, 'data')}`, `--web.listen-address=127.0.0.1:${port}`],
      { stdio: 'ignore' },
    ),
  );
  return `http://127.0.0.1:${port}`;
}

async function query(promUrl: string, expr: string) {
  return request(`${promUrl}/api/v1/query?query=${encodeURIComponent(expr)}`, {});
}

/** until Prometheus has scraped the hub `times` times since now */
async function scrapedAgain(promUrl: string, times = 5): Promise<void> {
  const scraped = async () => {
    const answer = await query(promUrl, 'count_over_time(up{job="aid-gateway"}[1m])').catch(() => undefined);
    return Number(answer?.body?.data?.result?.[0]?.value?.[1] ?? 0);
  };
  const deadline = Date.now() + 30000;
  const from = await scraped();
  while ((await scraped()) < from + times && Date.now() < deadline) await new Promise((r) => setTimeout(r, 250));
  expect(await scraped()).toBeGreaterThanOrEqual(from + times);
}

test('every query of every dashboard panel is valid and shows the traffic that feeds it on a real Prometheus that scraped the hub before it', async () => {
  const queries = panelQueries();
  expect(queries.length).toBeGreaterThanOrEqual(42);

  // persistent, so that the state the panels show survives the moment Redis is away
  redis = await OwnRedis.start({ persistent: true });
  const [mspA, mspB, cmpA, cmpB] = await Promise.all([FakePartner.start(), FakePartner.start(), FakePartner.start(), FakePartner.start()]);
  partners.push(mspA, mspB, cmpA, cmpB);
  // an ES2+ operator: the hub orders on its (simulated, plain HTTP here) SM-DP+
  const smdp = await startSmdpSimulator({ inventory: { PT1: ['8949000000000000101', '8949000000000000102'] }, smdpAddress: 'smdp.example.com' });
  partners.push(smdp);
  // a TelcoAPI operator: the hub creates profiles on its (simulated) platform, which sends webhooks
  const platform = await startTelcoapiSimulator({ token: 'platform-token', smdpAddress: 'smdp.example.com' });
  partners.push(platform);
  // a fleet whose car a device-management platform runs: the hub puts the code on it
  const fleetPlatform = await startDeviceMgmtSimulator({
    apiKey: 'fleet-key',
    transactionMs: 50,
    devices: [
      {
        deviceId: 'car-1',
        eid: requestActivationCodeBody().eid,
        profiles: [{ iccid: '8949000000000009991', status: 'active', carrier: 'Bootstrap', type: 'bootstrap' }],
      },
    ],
  });
  partners.push(fleetPlatform);
  const specs: PartnerSpec[] = [
    {
      id: 'mspA',
      role: 'msp',
      apiKey: 'key-mspA',
      upstreamUrl: mspA.url,
      extra: { touchpoint: { displayName: 'A Mobile', portal: { production: 'https://portal.msp.example/login' }, redirects: ['*.msp.example'] } },
    },
    { id: 'mspB', role: 'msp', apiKey: 'key-mspB', upstreamUrl: mspB.url },
    {
      id: 'mspDown',
      role: 'msp',
      apiKey: 'key-mspDown',
      upstreamUrl: 'http://127.0.0.1:1',
      extra: { upstream: { url: 'http://127.0.0.1:1', breaker: { volumeThreshold: 2 } } },
    },
    {
      id: 'cmpA',
      role: 'cmp',
      apiKey: 'key-cmpA',
      upstreamUrl: cmpA.url,
      extra: { touchpoint: { displayName: 'A Motors', portal: { production: 'https://portal.cmp.example/login' }, redirects: ['*.cmp.example'] } },
    },
    { id: 'cmpB', role: 'cmp', apiKey: 'key-cmpB', upstreamUrl: cmpB.url, extra: { rateLimit: { requests: 3, perSeconds: 60 } } },
    {
      id: 'mspEs',
      role: 'msp',
      apiKey: 'key-mspEs',
      upstreamUrl: smdp.url,
      extra: {
        dialect: 'es2plus',
        upstream: { url: smdp.url },
        es2plus: {
          functionRequesterIdentifier: 'hub',
          smdpAddress: 'smdp.example.com',
          profileTypes: { personal: 'PT1' },
          callback: { apiKeys: ['smdp-key'] },
        },
      },
    },
    {
      id: 'mspTa',
      role: 'msp',
      apiKey: 'key-mspTa',
      upstreamUrl: platform.url,
      extra: {
        dialect: 'telcoapi',
        upstream: { url: platform.url, auth: { bearer: 'platform-token' } },
        telcoapi: {
          mno: 'M1',
          profileTypes: { personal: { platformType: 'OPERATIONAL', iccids: { from: '894901000000000000', to: '894901000000000999' } } },
          webhookSecrets: ['webhook-secret-0123456789'],
        },
      },
    },
    {
      id: 'cmpF',
      role: 'cmp',
      apiKey: 'key-cmpF',
      upstreamUrl: fleetPlatform.url,
      extra: {
        dialect: 'devicemgmt',
        upstream: { url: fleetPlatform.url, auth: { apiKey: 'fleet-key' } },
        devicemgmt: { pollIntervalSeconds: 1, webhook: { url: `${cmpB.url}/fleet-events` } },
      },
    },
  ];
  hub = await TestHub.start({
    partners: specs,
    redisUrl: redis.url,
    routes: {
      settings: { outboxPollMs: 50, outboxRetryBaseMs: 100, outboxRetryMaxMs: 200, outboxHorizonSeconds: 2 },
      defaults: { tokenBinding: 'learn' },
      routes: [
        { from: '*', to: '*' },
        { from: 'cmpA', to: 'mspB', timeoutMs: 200, bridgeTimeoutMs: 2000, storeAndForward: true },
        // no token to check: with Redis away, its rate limit is counted locally
        { from: 'cmpB', to: 'mspB', tokenBinding: 'off' },
      ],
    },
  });

  // Prometheus scrapes before the traffic starts, as it would a hub in service: a series that
  // appears only with its first event would show that event as no increase
  const promUrl = await startPrometheus(new URL(hub.hub.adminUrl as string).host);
  await scrapedAgain(promUrl, 2);

  // the scripted traffic
  const call = hub.call.bind(hub);
  const token = randomUUID();
  await call({ as: 'mspA', to: 'cmpA', method: 'POST', path: paths.sendMspToken(), body: sendMspTokenBody(token) });
  await call({ as: 'cmpA', to: 'mspA', method: 'POST', path: paths.requestActivationCode(token), body: requestActivationCodeBody() });
  // asynchronous: the MSP answers 201 and delivers through the hub
  mspA.answer((req) => (req.path.startsWith('/v1/activation-code-requests/') ? { status: 201 } : undefined));
  const asyncId = randomUUID();
  await call({ as: 'cmpA', to: 'mspA', method: 'POST', path: paths.requestActivationCode(token), body: requestActivationCodeBody(asyncId) });
  await call({ as: 'mspA', to: 'cmpA', method: 'POST', path: paths.submitActivationCode(token), body: submitActivationCodeBody(asyncId) });
  // one more left pending, and an answer outside the spec
  await call({ as: 'cmpA', to: 'mspA', method: 'POST', path: paths.requestActivationCode(token), body: requestActivationCodeBody() });
  mspA.answer(() => ({ status: 200, body: { activationCode: 'x' } }));
  await call({ as: 'cmpA', to: 'mspA', method: 'GET', path: paths.requestProfileStatus(token) });
  mspA.reset();
  // bridged: mspB is slower than the 200 ms budget; stored CSIM statuses it refuses or fails
  mspB.answer((req) =>
    req.path.startsWith('/v1/activation-code-requests/')
      ? { status: 200, delayMs: 500, body: { iccid: '1', activationCode: '1$a$b', profileType: 'personal', swappedIccid: null } }
      : { status: 503, body: { code: '90', error: 'busy' } },
  );
  const tokenB = randomUUID();
  await call({ as: 'cmpA', to: 'mspB', method: 'POST', path: paths.requestActivationCode(tokenB), body: requestActivationCodeBody() });
  for (let i = 0; i < 3; i++) await call({ as: 'cmpA', to: 'mspB', method: 'POST', path: paths.sendCsimStatus(tokenB), body: sendCsimStatusBody() });
  // an ES2+ operator: a code ordered on its SM-DP+, and a second request that swaps the first
  const tokenEs = randomUUID();
  await call({ as: 'mspEs', to: 'cmpA', method: 'POST', path: paths.sendMspToken(), body: sendMspTokenBody(tokenEs) });
  for (let i = 0; i < 2; i++)
    await call({ as: 'cmpA', to: 'mspEs', method: 'POST', path: paths.requestActivationCode(tokenEs), body: requestActivationCodeBody() });
  // a TelcoAPI operator: a profile created, a second request swapping it, the car's download
  // reported by signed webhooks, one of them sent again, one badly signed
  platform.webhookTo(`${hub.url}/telcoapi/mspTa/events`, 'webhook-secret-0123456789');
  const tokenTa = randomUUID();
  await call({ as: 'mspTa', to: 'cmpA', method: 'POST', path: paths.sendMspToken(), body: sendMspTokenBody(tokenTa) });
  const codeTa = await call({ as: 'cmpA', to: 'mspTa', method: 'POST', path: paths.requestActivationCode(tokenTa), body: requestActivationCodeBody() });
  await platform.download(codeTa.body.activationCode, requestActivationCodeBody().eid);
  const event = await platform.sendEvent('PROFILE_ENABLED', codeTa.body.iccid);
  await platform.sendEvent('PROFILE_ENABLED', codeTa.body.iccid, { raw: event.sent });
  await platform.sendEvent('PROFILE_DISABLED', codeTa.body.iccid, { secret: 'not-the-secret-0123456789' });
  await call({ as: 'cmpA', to: 'mspTa', method: 'POST', path: paths.requestActivationCode(tokenTa), body: requestActivationCodeBody() });
  // the fleet: a code from mspA put on its car, followed to the end
  const tokenF = randomUUID();
  await call({ as: 'mspA', to: 'cmpF', method: 'POST', path: paths.sendMspToken(), body: sendMspTokenBody(tokenF) });
  await call({ as: 'cmpF', to: 'mspA', method: 'POST', path: paths.requestActivationCode(tokenF), body: requestActivationCodeBody() });
  // a user sent from cmpA's app to mspA's portal through the broker, and a redirect refused
  const touchpoint = (redirectUri: string) =>
    fetch(`${hub.url}/touchpoints/mspA/login?client_id=cmpA&id=abc123&redirect_uri=${encodeURIComponent(redirectUri)}`, { redirect: 'manual' });
  await touchpoint('https://app.cmp.example/back');
  await touchpoint('https://evil.example/');
  // refusals: validation, authentication, rate limit, an open breaker
  await call({ as: 'cmpA', to: 'mspA', method: 'POST', path: paths.requestActivationCode(token), body: { eid: 1 } });
  await call({
    as: 'cmpA',
    to: 'mspA',
    method: 'POST',
    path: paths.requestActivationCode(token),
    body: requestActivationCodeBody(),
    headers: { 'api-key': 'wrong' },
  });
  for (let i = 0; i < 5; i++) await call({ as: 'cmpB', to: 'mspA', method: 'GET', path: paths.requestProfileStatus(randomUUID()) });
  for (let i = 0; i < 4; i++) await call({ as: 'cmpA', to: 'mspDown', method: 'GET', path: paths.requestProfileStatus(randomUUID()) });
  // the bridged outcome and the dead letters are in before Redis goes away
  const until = async (check: () => Promise<boolean>) => {
    const end = Date.now() + 15000;
    while (!(await check()) && Date.now() < end) await new Promise((r) => setTimeout(r, 50));
  };
  await until(async () => (await hub.metric('aid_gateway_activation_bridges_total')) > 0);
  await until(async () => (await hub.metric('aid_gateway_devicemgmt_transactions_total', { action: 'enable', outcome: 'complete' })) > 0);
  await until(async () => (await hub.metric('aid_gateway_outbox_events_total', { event: 'dead_lettered' })) > 0);
  // config reloads, one refused; Redis away for a moment
  hub.hub.reload();
  writeFileSync(path.join(hub.dir, 'routes.yaml'), 'routes: [ { from: nobody } ]\n');
  hub.hub.reload();
  await redis.kill();
  await call({ as: 'cmpA', to: 'mspA', method: 'POST', path: paths.requestActivationCode(token), body: requestActivationCodeBody() });
  await call({ as: 'cmpB', to: 'mspB', method: 'GET', path: paths.requestProfileStatus(randomUUID()) });
  await redis.startAgain();

  await scrapedAgain(promUrl);

  const failures: string[] = [];
  for (const q of queries) {
    const answer = await query(promUrl, asGrafanaSends(q.expr));
    if (answer.status !== 200 || answer.body.status !== 'success')
      failures.push(`${q.dashboard} / ${q.panel}: invalid (${answer.body.error ?? answer.status}): ${q.expr}`);
    else if (answer.body.data.result.length === 0) failures.push(`${q.dashboard} / ${q.panel}: no series: ${q.expr}`);
    else {
      const values = (answer.body.data.result as { value: [number, string] }[]).map((r) => r.value[1]);
      if (!showsData(q.expr, values)) failures.push(`${q.dashboard} / ${q.panel}: no data (${values.join(', ')}): ${q.expr}`);
    }
  }
  expect(failures).toEqual([]);
}, 90000);

test('with two workers, the one scrape of the primary counts every worker: the panels show the totals', async () => {
  const msp = await FakePartner.start();
  partners.push(msp);
  const dir = mkdtempSync(path.join(tmpdir(), 'aidgw-workers-'));
  workDirs.push(dir);
  const prefix = uniquePrefix();
  const adminPort = await freePort();
  writeConfig(
    dir,
    [
      { id: 'cmpA', role: 'cmp', apiKey: 'k', upstreamUrl: 'http://127.0.0.1:1' },
      { id: 'mspA', role: 'msp', apiKey: 'k2', upstreamUrl: msp.url },
    ],
    ALL_ROUTES,
  );
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
      `127.0.0.1:${adminPort}`,
      '--workers',
      '2',
      '--redis-url',
      REDIS_URL,
      '--redis-prefix',
      prefix,
    ],
    { env: { PATH: process.env.PATH } },
  );
  let output = '';
  child.stdout.on('data', (d: Buffer) => (output += d.toString()));
  try {
    await waitFor(() => output.split('hub started').length === 3, 30000);
    const url = (JSON.parse(output.split('\n').find((l) => l.includes('hub started')) as string) as { urls: string[] }).urls[0];
    const promUrl = await startPrometheus(`127.0.0.1:${adminPort}`);
    await scrapedAgain(promUrl, 2);
    // fresh connections: the primary hands them to the workers in turn
    const answers = await Promise.all(
      Array.from({ length: 20 }, () =>
        request(`${url}${paths.requestProfileStatus(randomUUID())}`, {
          headers: {
            connection: 'close',
            'api-key': 'k',
            'client-id': 'cmpA',
            'target-id': 'mspA',
            'CMP-request-id': randomUUID(),
            'correlation-id': randomUUID(),
          },
        }),
      ),
    );
    expect(answers.map((a) => a.status)).toEqual(Array(20).fill(200));
    await scrapedAgain(promUrl);
    const total = await query(promUrl, 'sum(aid_gateway_requests_total{client="cmpA",target="mspA"})');
    expect(Number(total.body.data.result[0].value[1])).toBe(20);
    // the traffic panel reads the same series, from the one target
    const panel = panelQueries().find((p) => p.panel === 'Requests per second, by caller and target') as PanelQuery;
    // (the other routed pair's series is there at 0: known from the config, without traffic)
    const series = (await query(promUrl, asGrafanaSends(panel.expr))).body.data.result as { metric: object; value: [number, string] }[];
    expect(series.filter((s) => Number(s.value[1]) > 0).map((s) => s.metric)).toEqual([{ client: 'cmpA', target: 'mspA' }]);
    // one SIGHUP reloads both workers: the hub counts one reload, not one per worker
    child.kill('SIGHUP');
    const reloads = async () =>
      /^aid_gateway_config_reloads_total\{result="success"\} (\d+)/m.exec(await (await fetch(`http://127.0.0.1:${adminPort}/metrics`)).text())?.[1];
    await waitFor(() => output.split('config reloaded').length === 3, 15000);
    expect(await reloads()).toBe('1');
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
  } finally {
    if (child.exitCode === null) child.kill('SIGKILL');
    await deleteKeys(prefix);
  }
}, 90000);
