/**
 * The partner conformance kit (`aid-gateway conformance`) against the hub's own simulators, run as a
 * user runs it: the MSP simulator (synchronous and asynchronous) and the CMP simulator over two-way
 * TLS pass every check; with one defect switched on, a simulator fails exactly the checks that
 * defect breaks (and the checks that need a passed one are skipped, saying why). The JUnit XML and
 * the HTML report are read back, and neither holds the credential.
 */
import { spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { startCmpSimulator, type CmpDefect } from '../../src/simulators/cmpSimulator';
import { startMspSimulator, type MspDefect, type MspSimulatorOptions } from '../../src/simulators/mspSimulator';
import type { RunningSimulator } from '../../src/simulators/simulatorServer';
import { createPki, type TestPki } from '../support/certs';
import { freePort } from '../support/ports';

const MAIN = path.join(__dirname, '../../dist/src/main.js');
const SECRET = 'conformance-key-0123456789';
const TOKEN = '3f2c8a4e-5b6d-4e7f-8a9b-0c1d2e3f4a5b';

let pki: TestPki;
let clientCert: string;
let clientKey: string;

beforeAll(() => {
  pki = createPki();
  const client = pki.client('conformance');
  clientCert = path.join(pki.dir, 'kit.pem');
  clientKey = path.join(pki.dir, 'kit-key.pem');
  writeFileSync(clientCert, client.cert);
  writeFileSync(clientKey, client.key);
});

const serverTls = () => ({ cert: readFileSync(pki.serverCertFile), key: readFileSync(pki.serverKeyFile), ca: pki.ca.cert });

interface KitRun {
  readonly code: number | null;
  readonly stdout: string;
  readonly failed: string[];
  readonly skipped: string[];
  readonly passed: string[];
}

function kit(args: string[], extra: string[] = []): Promise<KitRun> {
  return new Promise((resolve) => {
    const child = spawn(
      process.execPath,
      [MAIN, 'conformance', ...args, '--credential', 'api-key', '--tls-cert', clientCert, '--tls-key', clientKey, '--tls-ca', pki.caFile, ...extra],
      { env: { PATH: process.env.PATH, CONFORMANCE_SECRET: SECRET } },
    );
    let stdout = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stdout += d.toString()));
    child.once('exit', (code) => {
      const ids = (mark: string) => [...stdout.matchAll(new RegExp(`^${mark} (\\S+)`, 'gm'))].map((m) => m[1]);
      resolve({ code, stdout, failed: ids('FAIL'), skipped: ids('SKIP'), passed: ids('PASS') });
    });
  });
}

async function withMsp<T>(
  mode: 'sync' | 'async',
  defects: MspDefect[],
  run: (sim: RunningSimulator, inboxPort: number) => Promise<T>,
  reading: Partial<MspSimulatorOptions> = {},
): Promise<T> {
  const inboxPort = await freePort();
  const sim = await startMspSimulator({
    id: 'mspX',
    apiKey: SECRET,
    mode,
    asyncDelayMs: 100,
    tls: serverTls(),
    defects: new Set(defects),
    hub: { url: `http://127.0.0.1:${inboxPort}`, credentials: { 'api-key': 'the-msp-key-at-the-kit' } },
    ...reading,
  });
  try {
    return await run(sim, inboxPort);
  } finally {
    await sim.close();
  }
}

const mspArgs = (sim: RunningSimulator, inboxPort: number) => [
  '--role',
  'msp',
  '--url',
  sim.url,
  '--target-id',
  'mspX',
  '--client-id',
  'cmpKit',
  '--msp-token',
  TOKEN,
  '--callback-listen',
  `127.0.0.1:${inboxPort}`,
  '--delivery-timeout-seconds',
  '2',
  '--allow-destructive',
];

async function withCmp<T>(defects: CmpDefect[], run: (sim: RunningSimulator) => Promise<T>): Promise<T> {
  const sim = await startCmpSimulator({ apiKey: SECRET, tls: serverTls(), defects: new Set(defects) });
  try {
    return await run(sim);
  } finally {
    await sim.close();
  }
}

const cmpArgs = (sim: RunningSimulator) => ['--role', 'cmp', '--url', sim.url, '--target-id', 'cmpX', '--client-id', 'mspKit', '--allow-destructive'];

describe("the hub's own simulators pass", () => {
  test.each(['sync', 'async'] as const)(
    'the MSP simulator (%s): every check, the reports written, the credential in neither',
    async (mode) => {
      const junit = path.join(pki.dir, `msp-${mode}.xml`);
      const html = path.join(pki.dir, `msp-${mode}.html`);
      const run = await withMsp(mode, [], (sim, port) => kit(mspArgs(sim, port), ['--junit', junit, '--html', html]));
      expect(run.failed).toEqual([]);
      expect(run.skipped).toEqual([]);
      expect(run.passed).toHaveLength(15);
      expect(run.code).toBe(0);
      expect(run.stdout).toContain('15 passed, 0 failed, 0 skipped');
      const xml = readFileSync(junit, 'utf8');
      expect(xml).toMatch(/<testsuite name="[^"]+" tests="15" failures="0" skipped="0"/);
      expect(xml).toContain('classname="Request Activation Code" name="rac-code: ');
      expect(readFileSync(html, 'utf8')).toContain('15 passed, 0 failed, 0 skipped');
      for (const report of [xml, readFileSync(html, 'utf8'), run.stdout]) expect(report).not.toContain(SECRET);
    },
    60000,
  );

  test('the CMP simulator: every check', async () => {
    const run = await withCmp([], (sim) => kit(cmpArgs(sim)));
    expect(run.failed).toEqual([]);
    expect(run.passed).toEqual([
      'smt-token',
      'smt-no-credential',
      'smt-missing-header',
      'spi-profiles',
      'sac-unmatched',
      'tls-client-certificate',
      'tls-version',
      'usi-update',
      'nmti-invalidate',
    ]);
    expect(run.code).toBe(0);
  }, 60000);

  // AID.02 7.8 lists "404 The user identified by the msp_token or the request could not be found"
  // and "422 The request cannot be processed": an MSP answering 422 code 61 (the hub's ES2+ operator
  // does) for a profile it does not know passes
  test('an MSP answering Send CSIM Status for an unknown profile 422 code 61 passes csim-unknown-iccid', async () => {
    const run = await withMsp('sync', [], (sim, port) => kit(mspArgs(sim, port)), { unknownProfileStatus: 422 });
    expect(run.passed).toContain('csim-unknown-iccid');
    expect(run.failed).toEqual([]);
    expect(run.code).toBe(0);
  }, 60000);

  test('without --allow-destructive the checks that withdraw the test user are skipped, saying why', async () => {
    const run = await withMsp('sync', [], (sim, port) => kit(mspArgs(sim, port).filter((a) => a !== '--allow-destructive')));
    expect(run.skipped).toEqual(['invalidate', 'invalidated-token']);
    expect(run.stdout).toContain('destructive: runs with --allow-destructive only');
    expect(run.code).toBe(0);
  }, 60000);
});

describe('a simulator with one defect fails exactly the checks that defect breaks', () => {
  const REFUSALS = [
    'rac-profile-type',
    'rac-eid',
    'rac-missing-field',
    'rac-no-credential',
    'rac-missing-header',
    'rps-unknown-iccid',
    'csim-unknown-iccid',
    'invalidated-token',
  ];
  const MSP_DEFECTS: [MspDefect, 'sync' | 'async', string[], string[]][] = [
    ['noErrorBody', 'sync', REFUSALS, []],
    ['ignoresHeaders', 'sync', ['rac-missing-header'], []],
    ['newCodeOnRetry', 'sync', ['rac-retry'], []],
    ['codesAfterInvalidation', 'sync', ['invalidated-token'], []],
    ['csimStatus200', 'sync', ['csim-installed'], []],
    ['noClientCertificate', 'sync', ['tls-client-certificate'], []],
    // no code delivered: nothing to report a CSIM status of
    ['noDelivery', 'async', ['rac-code'], ['csim-installed']],
    ['slow', 'sync', ['rac-code'], []],
  ];

  test.concurrent.each(MSP_DEFECTS)(
    'MSP %s (%s)',
    async (defect, mode, failed, skipped) => {
      const run = await withMsp(mode, [defect], (sim, port) => kit(mspArgs(sim, port)));
      expect(run.failed.sort()).toEqual([...failed].sort());
      expect(run.skipped).toEqual(skipped);
      expect(run.code).toBe(1);
    },
    90000,
  );

  const CMP_DEFECTS: [CmpDefect, string[], string[]][] = [
    ['noErrorBody', ['smt-no-credential', 'smt-missing-header'], []],
    ['ignoresHeaders', ['smt-missing-header'], []],
    // Send MSP Token answered 200: the checks that need the token taken do not run
    ['mspTokenStatus200', ['smt-token'], ['spi-profiles', 'sac-unmatched', 'usi-update', 'nmti-invalidate']],
  ];

  test.concurrent.each(CMP_DEFECTS)(
    'CMP %s',
    async (defect, failed, skipped) => {
      const run = await withCmp([defect], (sim) => kit(cmpArgs(sim)));
      expect(run.failed.sort()).toEqual([...failed].sort());
      expect(run.skipped).toEqual(skipped);
      expect(run.code).toBe(1);
    },
    60000,
  );
});

test('a failure in the reports carries the request and the answer, the credential masked', async () => {
  const html = path.join(pki.dir, 'failing.html');
  const junit = path.join(pki.dir, 'failing.xml');
  // a test car of the partner's own choosing
  const eid = '89049032000001000000000000000074';
  const before = new Date();
  const run = await withMsp('sync', ['csimStatus200'], (sim, port) => kit(mspArgs(sim, port), ['--html', html, '--junit', junit, '--eid', eid]));
  expect(run.code).toBe(1);
  // the terminal shows what the partner answered, not only that it was wrong
  expect(run.stdout).toMatch(/^FAIL csim-installed .*\n\s+status 200; this check allows 201\n(\s+.*\n)*?\s+answer: 200 \(no body\)$/m);
  const page = readFileSync(html, 'utf8');
  expect(page).toContain(`&quot;eid&quot;:&quot;${eid}&quot;`);
  expect(page).not.toContain('89049032000001000000000831934057');
  // every report says when it ran and with which version
  const version = (JSON.parse(readFileSync(path.join(__dirname, '../../package.json'), 'utf8')) as { version: string }).version;
  const stamp = /run (\S+) by aid-gateway ([^\s<)]+)/;
  for (const text of [page, run.stdout]) {
    const [, at, by] = stamp.exec(text) ?? [];
    expect(by).toBe(version);
    expect(new Date(at).getTime()).toBeGreaterThanOrEqual(before.getTime() - 1000);
  }
  expect(readFileSync(junit, 'utf8')).toMatch(
    new RegExp(`timestamp="\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d"[^]*<property name="aid-gateway.version" value="${version}"/>`),
  );
  expect(page).toContain('status 200; this check allows 201');
  expect(page).toContain('&gt; POST https://127.0.0.1:');
  expect(page).toContain('api-key: [masked]');
  expect(page).not.toContain(SECRET);
  const xml = readFileSync(junit, 'utf8');
  expect(xml).toMatch(/<failure message="status 200; this check allows 201[^"]*">/);
  expect(xml).not.toContain(SECRET);
}, 60000);

test('usage errors: no role, an MSP without its test user, a credential without its secret (exit 2)', async () => {
  const plain = (args: string[], env: NodeJS.ProcessEnv = {}) =>
    new Promise<{ code: number | null; stderr: string }>((resolve) => {
      const child = spawn(process.execPath, [MAIN, 'conformance', ...args], { env: { PATH: process.env.PATH, ...env } });
      let stderr = '';
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      child.once('exit', (code) => resolve({ code, stderr }));
    });
  expect((await plain(['--url', 'https://x.example', '--target-id', 'x'])).stderr).toContain('--role takes msp or cmp');
  const noToken = await plain(['--role', 'msp', '--url', 'https://x.example', '--target-id', 'x']);
  expect([noToken.code, noToken.stderr.split('\n')[0]]).toEqual([2, 'an MSP is checked with its test user: --msp-token TOKEN']);
  expect((await plain(['--role', 'cmp', '--url', 'https://x.example', '--target-id', 'x', '--credential', 'api-key'])).stderr).toContain('$CONFORMANCE_SECRET');
  const badEid = await plain(['--role', 'cmp', '--url', 'https://x.example', '--target-id', 'x', '--eid', '89049032000001000000000831934058']);
  expect([badEid.code, badEid.stderr.split('\n')[0]]).toEqual([2, '--eid takes an EID: 32 digits with their check digits (SGP.29)']);
});
