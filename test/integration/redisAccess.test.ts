/**
 * Reaching a Redis that production would run: TLS with the hub's CA and a client certificate, and
 * an ACL user whose password comes from a file; and the read-only `inspect` command on the state a
 * hub wrote. Each through the built command line where a user would use it.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import { createPki, type TestPki } from '../support/certs';
import { paths, requestActivationCodeBody } from '../support/messages';
import { deleteKeys, REDIS_URL, uniquePrefix } from '../support/redis';
import { SecureRedis } from '../support/redisTopology';
import { startWorld, type World } from '../support/testHub';

const ROOT = path.join(__dirname, '../..');
const MAIN = path.join(ROOT, 'dist/src/main.js');

function run(args: string[], env: NodeJS.ProcessEnv = {}) {
  return spawnSync(process.execPath, [MAIN, ...args], { cwd: ROOT, encoding: 'utf8', env: { PATH: process.env.PATH, ...env }, timeout: 20000 });
}

beforeAll(() => {
  if (!existsSync(MAIN)) expect(spawnSync('npx', ['tsc', '-p', 'tsconfig.json'], { cwd: ROOT }).status).toBe(0);
});

describe('TLS and an ACL user', () => {
  let pki: TestPki;
  let redis: SecureRedis;
  let clientCert: string;
  let clientKey: string;
  let passwordFile: string;

  beforeAll(async () => {
    pki = createPki();
    redis = await SecureRedis.start({ cert: pki.serverCertFile, key: pki.serverKeyFile, ca: pki.caFile }, { name: 'hub', password: 'redis-secret' });
    const client = pki.client('aid-gateway');
    clientCert = path.join(pki.dir, 'redis-client.pem');
    clientKey = path.join(pki.dir, 'redis-client-key.pem');
    writeFileSync(clientCert, client.cert);
    writeFileSync(clientKey, client.key);
    passwordFile = path.join(pki.dir, 'redis-password');
    writeFileSync(passwordFile, 'redis-secret\n');
  });
  afterAll(() => redis.remove());

  const tlsFlags = () => ['--redis-url', redis.url, '--redis-user', 'hub', '--redis-ca', pki.caFile, '--redis-cert', clientCert, '--redis-key', clientKey];

  test('the hub keeps its state there: an activation request matched, the binding read back by `inspect`', async () => {
    const { readFileSync } = await import('node:fs');
    const world: World = await startWorld({
      redis: {
        target: { kind: 'single', url: redis.url },
        username: 'hub',
        password: 'redis-secret',
        tls: { ca: readFileSync(pki.caFile), cert: readFileSync(clientCert), key: readFileSync(clientKey) },
      },
      redisKeyPrefix: 'secure:',
    });
    try {
      const token = await world.onboard('mspA', 'cmpA');
      const answer = await world.hub.call({
        as: 'cmpA',
        to: 'mspA',
        method: 'POST',
        path: paths.requestActivationCode(token),
        body: requestActivationCodeBody(),
      });
      expect(answer.status).toBe(200);
      const inspected = run(['inspect', 'token', token, ...tlsFlags(), '--redis-prefix', 'secure:'], { REDIS_PASSWORD_FILE: passwordFile });
      expect(inspected.stderr).toBe('');
      expect(JSON.parse(inspected.stdout)).toEqual(expect.objectContaining({ mspToken: token, pairs: [{ msp: 'mspA', cmp: 'cmpA', state: 'active' }] }));
    } finally {
      await world.close();
    }
  });

  test('a wrong password, or no client certificate, stops the command with one line naming Redis, no password in it', () => {
    writeFileSync(path.join(pki.dir, 'wrong'), 'not-the-password');
    const wrong = run(['inspect', 'bindings', ...tlsFlags()], { REDIS_PASSWORD_FILE: path.join(pki.dir, 'wrong') });
    expect(wrong.status).toBe(1);
    expect(wrong.stderr).toMatch(/^cannot inspect: Redis at rediss:\/\/127\.0\.0\.1:\d+ cannot be reached: WRONGPASS/);
    expect(wrong.stderr.trim().split('\n')).toHaveLength(1);
    expect(wrong.stderr).not.toContain('not-the-password');
    const noCertificate = run(['inspect', 'bindings', '--redis-url', redis.url, '--redis-user', 'hub', '--redis-ca', pki.caFile], {
      REDIS_PASSWORD: 'redis-secret',
    });
    expect(noCertificate.status).toBe(1);
    expect(noCertificate.stderr.trim().split('\n')).toHaveLength(1);
    expect(noCertificate.stderr).toMatch(/^cannot inspect: Redis at rediss:/);
  });

  test('a password file that cannot be read is said, and nothing is tried', () => {
    const result = run(['inspect', 'bindings', ...tlsFlags()], { REDIS_PASSWORD_FILE: path.join(pki.dir, 'no-such-file') });
    expect(result.status).toBe(1);
    expect(result.stderr).toContain('REDIS_PASSWORD_FILE names');
    expect(result.stderr).toContain('ENOENT');
  });
});

describe('inspect: the state a hub wrote, read-only', () => {
  let world: World;
  const prefix = uniquePrefix();
  afterAll(async () => {
    await world.close();
    await deleteKeys(prefix);
  });

  test('bindings, the pending requests of 7.7.2 and the outbox, as JSON lines; tokens shortened in listings', async () => {
    world = await startWorld({ redisKeyPrefix: prefix });
    const token = await world.onboard('mspA', 'cmpA');
    world.partners.mspA.answer((req) => (req.path.startsWith('/v1/activation-code-requests/') ? { status: 201 } : undefined));
    const requestId = randomUUID();
    expect(
      (await world.hub.call({ as: 'cmpA', to: 'mspA', method: 'POST', path: paths.requestActivationCode(token), body: requestActivationCodeBody(requestId) }))
        .status,
    ).toBe(201);
    const flags = ['--redis-url', REDIS_URL, '--redis-prefix', prefix];

    const bindings = run(['inspect', 'bindings', ...flags])
      .stdout.trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(bindings).toEqual([
      expect.objectContaining({ mspToken: `${token.slice(0, 4)}…${token.slice(-2)}`, pairs: [{ msp: 'mspA', cmp: 'cmpA', state: 'active' }] }),
    ]);
    const pending = run(['inspect', 'pending', ...flags])
      .stdout.trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(pending).toEqual([expect.objectContaining({ cmp: 'cmpA', msp: 'mspA', activationCodeRequestID: requestId, state: 'pending' })]);
    expect(JSON.stringify(pending)).not.toContain(token);

    const emptyOutbox = run(['inspect', 'outbox', ...flags]);
    expect(emptyOutbox.status).toBe(0);
    expect(emptyOutbox.stdout).toBe('');
    expect(emptyOutbox.stderr).toContain(`nothing to list (Redis ${REDIS_URL}, prefix ${prefix})`);
    const dead = run(['outbox', 'dead', ...flags]);
    expect(dead.stdout).toBe('');
    expect(dead.stderr).toContain('no dead letters');
  });

  test('a prefix that holds no hub data says so, for `inspect` and `outbox dead` alike', () => {
    const flags = ['--redis-url', REDIS_URL, '--redis-prefix', `nothing-here-${randomUUID()}:`];
    for (const args of [
      ['inspect', 'pending'],
      ['outbox', 'dead'],
    ]) {
      const result = run([...args, ...flags]);
      expect(result.status).toBe(0);
      expect(result.stderr).toContain('no hub data under the prefix nothing-here-');
      expect(result.stderr).toContain("is --redis-prefix the hub's?");
    }
  });

  test('an unknown token is exit 1; a missing or extra word is a usage error', () => {
    const flags = ['--redis-url', REDIS_URL, '--redis-prefix', prefix];
    expect(run(['inspect', 'token', 'no-such-token', ...flags]).status).toBe(1);
    expect(run(['inspect', 'token', ...flags]).status).toBe(2);
    expect(run(['inspect', 'everything', ...flags]).status).toBe(2);
    const noRedis = run(['inspect', 'bindings']);
    expect(noRedis.status).toBe(2);
    expect(noRedis.stderr).toContain('--redis-url, --redis-cluster or --redis-sentinel');
  });
});
