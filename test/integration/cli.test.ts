/**
 * The command line as a user runs it, on the built program (npm test builds it first): --help,
 * check-config, start, SIGHUP reload, SIGTERM.
 */
import { spawn, spawnSync, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import { createPki } from '../support/certs';
import { FakePartner } from '../support/fakePartner';
import { freePort } from '../support/ports';
import { deleteKeys } from '../support/redis';
import { paths, requestActivationCodeBody } from '../support/messages';
import { ALL_ROUTES, request, writeConfig, type PartnerSpec } from '../support/testHub';
import { waitFor } from '../support/waitFor';

const ROOT = path.join(__dirname, '../..');
const MAIN = path.join(ROOT, 'dist/src/main.js');

beforeAll(() => {
  if (!existsSync(MAIN)) {
    const build = spawnSync('npx', ['tsc', '-p', 'tsconfig.json'], { cwd: ROOT, encoding: 'utf8' });
    expect(build.status).toBe(0);
  }
});

function run(args: string[], env: NodeJS.ProcessEnv = {}) {
  return spawnSync(process.execPath, [MAIN, ...args], { cwd: ROOT, encoding: 'utf8', env: { PATH: process.env.PATH, ...env }, timeout: 20000 });
}

const COMMANDS = ['quickstart', 'start', 'check-config', 'outbox', 'inspect', 'bindings', 'simulate', 'conformance'];

test("--help (and help, and -h) lists every command with a line each, and how to get a command's help", () => {
  const result = run(['--help']);
  expect(result.status).toBe(0);
  for (const command of COMMANDS) expect(result.stdout).toMatch(new RegExp(`^  ${command} +\\S`, 'm'));
  expect(result.stdout).toContain('aid-gateway help COMMAND');
  expect(run(['help']).stdout).toBe(result.stdout);
  expect(run(['-h']).stdout).toBe(result.stdout);
});

test('each command has its own help: usage, only its options, an example; `help COMMAND` and `COMMAND --help` alike', () => {
  for (const command of COMMANDS) {
    const own = run(['help', command]);
    expect({ command, status: own.status }).toEqual({ command, status: 0 });
    expect(own.stdout).toMatch(new RegExp(`^Usage: aid-gateway \\[?${command}`));
    expect(own.stdout).toMatch(/\nExample:\n {2}(\S+=\S+ )?aid-gateway /);
    expect(run([command, '--help']).stdout).toBe(own.stdout);
  }
  const start = run(['help', 'start']).stdout;
  for (const word of ['--config', '--tls-client-ca', '--redis-url', '--workers', 'SIGHUP', 'SIGTERM']) expect(start).toContain(word);
  // an option of another command is not listed
  expect(start).not.toContain('--hub-url');
  expect(run(['help', 'check-config']).stdout).not.toContain('--workers');
});

test('-v and --version print the version; `help` of an unknown command is a usage error', () => {
  expect(run(['-v']).stdout).toMatch(/^aid-gateway \d+\.\d+\.\d+ \(Node\.js v\d+/);
  expect(run(['--version']).stdout).toBe(run(['-v']).stdout);
  const unknown = run(['help', 'frobnicate']);
  expect(unknown.status).toBe(2);
  expect(unknown.stderr).toContain('unknown command frobnicate; the commands: quickstart, start, check-config');
});

test('an unknown command or option is a usage error (exit 2) that names what the command takes', () => {
  expect(run(['frobnicate']).status).toBe(2);
  const result = run(['start', '--no-such-option']);
  expect(result.status).toBe(2);
  expect(result.stderr).toMatch(/^start has no option --no-such-option; it takes --config, --partners, .*--log-level, --help \(aid-gateway help start\)$/m);
  // an option of another command is refused by this one, with this one's list
  const other = run(['check-config', '--workers', '2']);
  expect(other.status).toBe(2);
  expect(other.stderr).toContain('check-config has no option --workers; it takes --config, --partners, --tls-cert');
});

test('check-config accepts the example configuration of the repository', () => {
  const result = run(['check-config']);
  expect(result.status).toBe(0);
  expect(result.stdout).toContain('valid: 4 MSPs, 3 CMPs, 6 routes');
});

test('check-config reports every problem at once with file:line:column, partner and field, and exits 1', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'aidgw-cli-'));
  try {
    writeConfig(dir, [{ id: 'mspA', role: 'msp', apiKey: 'k', upstreamUrl: 'http://127.0.0.1:1' }], { routes: [{ from: 'mspA', to: 'cmpX', timeoutMs: -1 }] });
    writeFileSync(path.join(dir, 'partners', 'bad.yaml'), 'id: bad id\nrole: msp\ninbound: { apiKeys: [k] }\nupstream: { url: "http://x", colour: red }\n');
    const result = run(['check-config', '--config', dir]);
    expect(result.status).toBe(1);
    expect(result.stderr).toContain('partners/bad.yaml:1:1 (partner bad id): id: must match pattern');
    expect(result.stderr).toContain('partners/bad.yaml:4:30 (partner bad id): upstream.colour: unknown key');
    // told beside the partner file's problems, not after they are fixed
    expect(result.stderr).toMatch(/routes\.yaml:\d+:\d+: routes\[0\]\.timeoutMs: must be >= 1/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('issue 29.6: check-config refuses an upstream TLS file that is not PEM, naming the file and the field', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'aidgw-cli-'));
  try {
    writeConfig(
      dir,
      [
        {
          id: 'mspA',
          role: 'msp',
          apiKey: 'k',
          upstreamUrl: 'https://127.0.0.1:1',
          extra: { upstream: { url: 'https://127.0.0.1:1', auth: { apiKey: 'x' }, tls: { ca: 'ca.der' } } },
        },
      ],
      { routes: [] },
    );
    writeFileSync(path.join(dir, 'ca.der'), Buffer.from([0x30, 0x82, 0x01, 0x0a]));
    const result = run(['check-config', '--config', dir]);
    expect(result.status).toBe(1);
    expect(result.stderr).toMatch(/partners\/mspA\.yaml:\d+:\d+: upstream\.tls\.ca: ca\.der is not a PEM certificate/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

describe('no demo by default (issue 29.5)', () => {
  const NO_CONFIG = /^start needs a configuration: give --config DIR \(or \$AID_GATEWAY_CONFIG\);/;

  test("the container image's CMD without a config: one line, exit 2, nothing served", () => {
    const cmd = readFileSync(path.join(ROOT, 'Dockerfile'), 'utf8')
      .split('\n')
      .find((l) => l.startsWith('CMD ')) as string;
    const result = run([...(JSON.parse(cmd.slice(4)) as string[]), '--admin-listen', 'off']);
    expect(result.status).toBe(2);
    expect(result.stderr).toMatch(NO_CONFIG);
    expect(result.stderr.trim().split('\n')).toHaveLength(1);
    expect(result.stdout).not.toContain('hub started');
  });

  test('start --listen without a config is refused the same way; $AID_GATEWAY_CONFIG names one', () => {
    expect(run(['start', '--listen', '127.0.0.1:0', '--admin-listen', 'off']).stderr).toMatch(NO_CONFIG);
    const dir = mkdtempSync(path.join(tmpdir(), 'aidgw-cli-'));
    try {
      writeConfig(dir, [{ id: 'mspA', role: 'msp', apiKey: 'k', upstreamUrl: 'http://127.0.0.1:1' }], { routes: [] });
      // with a config named, start goes on to its other checks (here: the listen address)
      const result = run(['start', '--listen', 'not-an-address', '--admin-listen', 'off'], { AID_GATEWAY_CONFIG: dir });
      expect(result.stderr).not.toMatch(NO_CONFIG);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('start', () => {
  let dir: string;
  let msp: FakePartner;
  let child: ChildProcessWithoutNullStreams;
  let output = '';
  let specs: PartnerSpec[];

  beforeAll(async () => {
    msp = await FakePartner.start();
    dir = mkdtempSync(path.join(tmpdir(), 'aidgw-cli-'));
    specs = [
      { id: 'cmpA', role: 'cmp', apiKey: '${CMP_A_KEY}', upstreamUrl: 'http://127.0.0.1:1' },
      { id: 'mspA', role: 'msp', apiKey: 'key-mspA', upstreamUrl: msp.url },
    ];
    writeConfig(dir, specs, ALL_ROUTES);
    child = spawn(process.execPath, [MAIN, 'start', '--config', dir, '--listen', '127.0.0.1:0', '--admin-listen', '127.0.0.1:0'], {
      env: { PATH: process.env.PATH, CMP_A_KEY: 'secret-from-env' },
    });
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    await waitFor(() => output.includes('hub started'));
  });

  afterAll(async () => {
    if (child.exitCode === null) child.kill('SIGKILL');
    await msp.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const hubUrl = () => (JSON.parse(output.split('\n').find((l) => l.includes('hub started')) as string) as { urls: string[] }).urls[0];
  const requestCode = (key = 'secret-from-env') =>
    request(`${hubUrl()}${paths.requestActivationCode(randomUUID())}`, {
      method: 'POST',
      headers: {
        'api-key': key,
        'client-id': 'cmpA',
        'target-id': 'mspA',
        'CMP-request-id': randomUUID(),
        'correlation-id': randomUUID(),
        'content-type': 'application/json',
      },
      body: JSON.stringify(requestActivationCodeBody()),
    });

  test('serves the config, with the secret taken from the environment', async () => {
    expect((await requestCode()).status).toBe(200);
    expect(output).not.toContain('secret-from-env');
  });

  test('SIGHUP reloads; a broken config is refused and the old one keeps serving', async () => {
    writeFileSync(path.join(dir, 'routes.yaml'), 'routes: [ { from: cmpA } ]\n');
    child.kill('SIGHUP');
    await waitFor(() => output.includes('config reload refused'));
    expect((await requestCode()).status).toBe(200);

    writeConfig(dir, specs, { routes: [] });
    child.kill('SIGHUP');
    await waitFor(() => output.includes('"generation":2'));
    expect((await requestCode()).status).toBe(403);
  });

  test('SIGTERM stops it cleanly (exit 0)', async () => {
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
  });
});

describe('--workers', () => {
  test('more than one worker needs Redis', () => {
    const result = run(['start', '--config', ROOT, '--workers', '2', '--listen', '127.0.0.1:0']);
    expect(result.status).toBe(2);
    expect(result.stderr).toContain('needs Redis');
  });

  test('two workers share the port; one admin listener counts both (totals exact), answers health for both; SIGHUP reaches both, SIGTERM stops all', async () => {
    const msp = await FakePartner.start();
    const dir = mkdtempSync(path.join(tmpdir(), 'aidgw-cli-'));
    const prefix = `aidgw-test:${randomUUID()}:`;
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
        process.env.REDIS_URL ?? 'redis://127.0.0.1:6379',
        '--redis-prefix',
        prefix,
      ],
      { env: { PATH: process.env.PATH } },
    );
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    const admin = `http://127.0.0.1:${adminPort}`;
    try {
      // two processes each compile the spec: generous on a loaded machine
      await waitFor(() => output.split('hub started').length === 3, 30000);
      const started = output
        .split('\n')
        .filter((l) => l.includes('hub started'))
        .map((l) => JSON.parse(l) as { urls: string[]; admin?: string });
      expect(started[0].urls).toEqual(started[1].urls);
      // the workers have no admin listener of their own: the primary's serves them all
      expect(started.map((s) => s.admin)).toEqual([undefined, undefined]);
      expect((await request(`${admin}/healthz`, {})).body).toEqual({ status: 'alive', detail: '2 of 2 workers running' });
      const ready = await request(`${admin}/readyz`, {});
      expect([ready.status, ready.body.checks.workers]).toEqual([200, '2 of 2 ready']);
      // on fresh connections each: the kernel spreads them over both workers
      const answers = await Promise.all(
        Array.from({ length: 20 }, () =>
          request(`${started[0].urls[0]}${paths.requestProfileStatus(randomUUID())}`, {
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
      expect(answers.every((a) => a.status === 200)).toBe(true);
      const metrics = (await request(`${admin}/metrics`, {})).text;
      const total = [...metrics.matchAll(/^aid_gateway_requests_total\{[^}]*operation="requestProfileStatus"[^}]*\} (\d+)/gm)].reduce(
        (n, m) => n + Number(m[1]),
        0,
      );
      expect(total).toBe(20);
      expect(metrics).toMatch(/^aid_gateway_build_info\{version="\d+\.\d+\.\d+",node="v\d+\.\d+\.\d+"\} 1$/m);
      const partners = (await request(`${admin}/admin/partners`, {})).body.partners as { id: string; recent: { calls: number } }[];
      expect(partners.find((p) => p.id === 'mspA')?.recent.calls).toBe(20);
      child.kill('SIGHUP');
      await waitFor(() => output.split('config reloaded').length === 3, 30000);
      // the primary passes it on: it was not ignored, and nothing says it was
      expect(output).not.toContain('SIGHUP during start-up');
      const exited = new Promise((resolve) => child.once('exit', (code) => resolve(code)));
      child.kill('SIGTERM');
      expect(await exited).toBe(0);
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
      await msp.close();
      await deleteKeys(prefix);
      rmSync(dir, { recursive: true, force: true });
    }
  }, 90000);
});

describe('a hub that cannot start says why in one line, never a stack trace', () => {
  const oneLine = (stderr: string) => {
    const lines = stderr.trim().split('\n');
    expect(lines.some((l) => /^\s+at /.test(l))).toBe(false);
    return lines[lines.length - 1];
  };

  test('--version', () => {
    const result = run(['--version']);
    expect(result.status).toBe(0);
    expect(result.stdout).toMatch(/^aid-gateway \d+\.\d+\.\d+ \(Node\.js v\d+/);
  });

  test('a port in use (exit 1)', async () => {
    const taken = await FakePartner.start();
    try {
      const result = run(['start', '--config', ROOT, '--listen', `127.0.0.1:${taken.port}`, '--admin-listen', 'off']);
      expect(result.status).toBe(1);
      expect(oneLine(result.stderr)).toBe(`cannot start: cannot listen on 127.0.0.1:${taken.port}: the address is in use`);
    } finally {
      await taken.close();
    }
  });

  test("the listener's TLS files are checked before any port is taken (a test or a second hub beside a running one is told what is wrong)", async () => {
    const taken = await FakePartner.start();
    const pki = createPki();
    const dir = mkdtempSync(path.join(tmpdir(), 'aidgw-cli-'));
    try {
      writeFileSync(path.join(dir, 'other-key.pem'), pki.client('someone-else').key);
      const mismatch = run([
        'start',
        '--config',
        ROOT,
        '--listen',
        `127.0.0.1:${taken.port}`,
        '--tls-listen',
        '127.0.0.1:0',
        '--tls-cert',
        pki.serverCertFile,
        '--tls-key',
        path.join(dir, 'other-key.pem'),
        '--tls-client-ca',
        pki.caFile,
        '--admin-listen',
        'off',
      ]);
      expect(oneLine(mismatch.stderr)).toBe('cannot start: the TLS certificate and key do not belong together (--tls-cert, --tls-key)');
    } finally {
      rmSync(dir, { recursive: true, force: true });
      await taken.close();
    }
  });

  test('with workers: a worker that cannot start stops the whole process, non-zero', async () => {
    const taken = await FakePartner.start();
    try {
      const result = run([
        'start',
        '--config',
        ROOT,
        '--listen',
        `127.0.0.1:${taken.port}`,
        '--admin-listen',
        'off',
        '--workers',
        '2',
        '--redis-url',
        process.env.REDIS_URL ?? 'redis://127.0.0.1:6379',
      ]);
      expect(result.status).toBe(1);
      expect(result.stderr).toContain(`cannot start: cannot listen on 127.0.0.1:${taken.port}: the address is in use`);
      expect(result.stdout).toContain('a worker could not start; stopping every worker');
    } finally {
      await taken.close();
    }
  }, 30000);

  test('a TLS file missing, and a certificate with another key', () => {
    const missing = run([
      'start',
      '--config',
      ROOT,
      '--tls-listen',
      '127.0.0.1:0',
      '--tls-cert',
      '/nonexistent/hub.pem',
      '--tls-key',
      '/nonexistent/hub-key.pem',
      '--tls-client-ca',
      '/nonexistent/ca.pem',
      '--admin-listen',
      'off',
    ]);
    expect(missing.status).toBe(1);
    expect(oneLine(missing.stderr)).toMatch(/^cannot start: cannot read \/nonexistent\/[a-z-]+\.pem: no such file$/);
    const pki = createPki();
    const other = pki.client('someone-else');
    const dir = mkdtempSync(path.join(tmpdir(), 'aidgw-cli-'));
    try {
      writeFileSync(path.join(dir, 'other-key.pem'), other.key);
      const mismatch = run([
        'start',
        '--config',
        ROOT,
        '--tls-listen',
        '127.0.0.1:0',
        '--tls-cert',
        pki.serverCertFile,
        '--tls-key',
        path.join(dir, 'other-key.pem'),
        '--tls-client-ca',
        pki.caFile,
        '--admin-listen',
        'off',
      ]);
      expect(mismatch.status).toBe(1);
      expect(oneLine(mismatch.stderr)).toBe('cannot start: the TLS certificate and key do not belong together (--tls-cert, --tls-key)');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test("check-config checks the command line's TLS files too", () => {
    const pki = createPki();
    const good = run(['check-config', '--tls-cert', pki.serverCertFile, '--tls-key', pki.serverKeyFile, '--tls-client-ca', pki.caFile]);
    expect(good.status).toBe(0);
    const other = pki.client('someone-else');
    const dir = mkdtempSync(path.join(tmpdir(), 'aidgw-cli-'));
    try {
      writeFileSync(path.join(dir, 'other-key.pem'), other.key);
      const mismatch = run(['check-config', '--tls-cert', pki.serverCertFile, '--tls-key', path.join(dir, 'other-key.pem'), '--tls-client-ca', pki.caFile]);
      expect([mismatch.status, oneLine(mismatch.stderr)]).toEqual([1, 'the TLS certificate and key do not belong together (--tls-cert, --tls-key)']);
      const missing = run(['check-config', '--tls-cert', pki.serverCertFile, '--tls-key', pki.serverKeyFile, '--tls-client-ca', path.join(dir, 'none.pem')]);
      expect([missing.status, oneLine(missing.stderr)]).toEqual([1, `cannot read ${path.join(dir, 'none.pem')}: no such file`]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('an invalid log level (exit 2), from the option or the environment', () => {
    const option = run(['start', '--config', ROOT, '--log-level', 'loud', '--admin-listen', 'off']);
    expect([option.status, oneLine(option.stderr)]).toEqual([2, '--log-level "loud" is no log level; one of fatal, error, warn, info, debug, trace, silent']);
    const env = run(['start', '--config', ROOT, '--admin-listen', 'off'], { LOG_LEVEL: 'chatty' });
    expect(env.status).toBe(2);
    expect(oneLine(env.stderr)).toContain('$LOG_LEVEL "chatty" is no log level');
  });

  test('Redis unreachable: one line, the URL without its credentials', async () => {
    const port = await freePort();
    const result = run(['start', '--config', ROOT, '--redis-url', `redis://hub:secret-pw@127.0.0.1:${port}`, '--workers', '1', '--admin-listen', 'off']);
    expect(result.status).toBe(1);
    expect(oneLine(result.stderr)).toBe(`cannot start: Redis at redis://127.0.0.1:${port} cannot be reached: connect ECONNREFUSED 127.0.0.1:${port}`);
    expect(result.stderr + result.stdout).not.toContain('secret-pw');
  });
});

describe('AID.02 section 6: plain HTTP stays on loopback unless named', () => {
  test('start --listen on a non-loopback address is a usage error naming --insecure-http', () => {
    const result = run(['start', '--config', ROOT, '--listen', '0.0.0.0:0', '--admin-listen', 'off']);
    expect(result.status).toBe(2);
    expect(result.stderr).toContain('--insecure-http');
  });

  test('check-config warns about plain HTTP off loopback and a CMP reached without an API key, and still exits 0', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'aidgw-cli-'));
    try {
      writeConfig(
        dir,
        [
          { id: 'mspA', role: 'msp', apiKey: 'k', upstreamUrl: 'http://127.0.0.1:1', extra: { upstream: { url: 'http://msp.example:8080', insecure: true } } },
          { id: 'cmpA', role: 'cmp', apiKey: 'k', upstreamUrl: 'https://cmp.example', extra: { upstream: { url: 'https://cmp.example' } } },
        ],
        ALL_ROUTES,
      );
      const result = run(['check-config', '--config', dir, '--insecure-http', '0.0.0.0:8080']);
      expect(result.status).toBe(0);
      expect(result.stderr).toContain('warning: partners/mspA.yaml: upstream: plain HTTP to msp.example:8080');
      expect(result.stderr).toContain('warning: partners/cmpA.yaml: upstream.auth: no API key toward this CMP');
      expect(result.stderr).toContain('warning: --insecure-http 0.0.0.0:8080');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
