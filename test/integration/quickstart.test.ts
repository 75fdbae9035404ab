/**
 * The quick start as a person uses it: the hub on embedded defaults with the example partners
 * simulated beside it, and the walk of the README answering as the README says.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { startQuickStart, type QuickStart } from '../../src/quickstart/quickstart';
import { stepHeaders, stepUrl, toCurl, walkSteps } from '../../src/quickstart/walk';
import { createLogger } from '../../src/log';
import { request } from '../support/testHub';
import { freePort } from '../support/ports';
import { waitFor } from '../support/waitFor';

let quick: QuickStart;
/** every line the quick start logged, from debug up; `boot`: those logged until its background work first ran */
const lines: string[] = [];
let boot: { level: number; msg: string }[] = [];

/** the example partners' simulators on free ports (their files read `${..._URL}`), so that the
 * tests never collide with a quick start running on this machine */
async function freeUrls(): Promise<NodeJS.ProcessEnv> {
  const names = ['MSP_ALPHA_URL', 'MSP_BETA_URL', 'MSP_GAMMA_URL', 'MSP_DELTA_URL', 'CMP_ONE_URL', 'CMP_TWO_URL', 'CMP_FLEET_URL'];
  const env: NodeJS.ProcessEnv = {};
  for (const name of names) env[name] = `http://127.0.0.1:${await freePort()}`;
  return env;
}

beforeAll(async () => {
  const log = createLogger({ level: 'debug', destination: { write: (line: string) => void lines.push(line) } });
  quick = await startQuickStart({ host: '127.0.0.1', port: 0, log, env: await freeUrls() });
  // the fleet's reconcile runs at start: its first call to the platform has been made and answered
  const reconciled = /aid_gateway_devicemgmt_calls_total\{[^}]*cmp="cmpFleet"[^}]*\} [1-9]/;
  await waitFor(async () => reconciled.test(await quick.hub.metrics.registry.metrics()));
  await new Promise((r) => setTimeout(r, 100));
  boot = lines.map((line) => JSON.parse(line) as { level: number; msg: string });
});
afterAll(() => quick.close());

const origin = (id: string) => quick.hub.config.partners.get(id)?.upstream.url.origin ?? '';

test('it serves in-memory state, with all seven example partners simulated', () => {
  expect(quick.hub.store.kind).toBe('memory');
  expect(quick.simulators).toHaveLength(7);
});

test('a clean boot logs no warning and no error: the simulators listen before the hub starts its background work', () => {
  expect(boot.find((l) => l.msg === 'hub started')).toBeDefined();
  expect(boot.filter((l) => l.level >= 40)).toEqual([]);
});

test('the simulators listen where the environment says, none on the ports a quick start takes', () => {
  expect(quick.simulators.map((s) => new URL(s.url).port)).not.toContain('9201');
  expect(origin('cmpOne')).not.toBe('http://127.0.0.1:9201');
});

test('every step of the walk answers as the README says, the async code arriving at the CMP', async () => {
  for (const step of walkSteps(origin('cmpOne'), origin('mspGamma'), origin('mspDelta'), origin('cmpFleet'))) {
    if (step.path.endsWith('/simulator/inbox')) {
      const deadline = Date.now() + 5000;
      let inbox: { operation: string }[] = [];
      while (!inbox.some((m) => m.operation === 'submitActivationCode') && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 50));
        inbox = (await request(stepUrl(step, quick.hub.url), { method: 'GET' })).body.inbox;
      }
      expect(inbox.map((m) => m.operation)).toContain('submitActivationCode');
      continue;
    }
    const send = () =>
      request(stepUrl(step, quick.hub.url), {
        method: step.method,
        headers: stepHeaders(step),
        body: step.body === undefined ? undefined : JSON.stringify(step.body),
      });
    let answer = await send();
    // the fleet's car takes a few seconds: its profile is enabled, and the MSP told, in the end
    const deadline = Date.now() + 20000;
    while (step.title.startsWith('21.') && answer.body?.profiles?.[0]?.status !== 'enabled' && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 250));
      answer = await send();
    }
    if (step.title.startsWith('21.')) expect(answer.body.profiles).toEqual([expect.objectContaining({ status: 'enabled' })]);
    expect({ step: step.title, status: answer.status }).toEqual({ step: step.title, status: step.expect });
  }
});

test('the README shows the walk exactly as the quick start prints it', () => {
  const readme = readFileSync(path.join(__dirname, '../../README.md'), 'utf8');
  for (const step of walkSteps('http://127.0.0.1:9201', 'http://127.0.0.1:9301', 'http://127.0.0.1:9302', 'http://127.0.0.1:9203'))
    expect(readme).toContain(toCurl(step, 'http://127.0.0.1:8080'));
});
