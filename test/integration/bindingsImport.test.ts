/**
 * `aid-gateway bindings import FILE` (issue 18): tokens federated before the hub existed, imported
 * so that `tokenBinding: strict` knows them; a file with one bad line imports nothing.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import { FakePartner } from '../support/fakePartner';
import { paths, requestActivationCodeBody } from '../support/messages';
import { deleteKeys, REDIS_URL, uniquePrefix } from '../support/redis';
import { TestHub, writeConfig, type PartnerSpec } from '../support/testHub';

const ROOT = path.join(__dirname, '../..');
const MAIN = path.join(ROOT, 'dist/src/main.js');
const ROUTES = { routes: [{ from: '*', to: '*', tokenBinding: 'strict' }] };

let msp: FakePartner;
let dir: string;
let specs: PartnerSpec[];
const prefixes: string[] = [];

/** a key prefix of this file's own, its keys deleted when the file ends */
function prefix(): string {
  prefixes.push(uniquePrefix());
  return prefixes[prefixes.length - 1];
}

beforeAll(async () => {
  expect(existsSync(MAIN)).toBe(true);
  msp = await FakePartner.start();
  specs = [
    { id: 'mspA', role: 'msp', apiKey: 'key-mspA', upstreamUrl: msp.url },
    { id: 'mspB', role: 'msp', apiKey: 'key-mspB', upstreamUrl: msp.url },
    { id: 'cmpA', role: 'cmp', apiKey: 'key-cmpA', upstreamUrl: msp.url },
    { id: 'cmpB', role: 'cmp', apiKey: 'key-cmpB', upstreamUrl: msp.url },
  ];
  dir = mkdtempSync(path.join(tmpdir(), 'aidgw-import-'));
  writeConfig(dir, specs, ROUTES);
});
afterAll(async () => {
  await Promise.all(prefixes.map((p) => deleteKeys(p)));
  await msp.close();
  rmSync(dir, { recursive: true, force: true });
});

function importFile(content: string, prefix: string) {
  const file = path.join(dir, `bindings-${randomUUID()}.csv`);
  writeFileSync(file, content);
  return spawnSync(process.execPath, [MAIN, 'bindings', 'import', file, '--config', dir, '--redis-url', REDIS_URL, '--redis-prefix', prefix], {
    cwd: ROOT,
    encoding: 'utf8',
    timeout: 20000,
  });
}

const requestCode = (hub: TestHub, cmp: string, to: string, token: string) =>
  hub.call({ as: cmp, to, method: 'POST', path: paths.requestActivationCode(token), body: requestActivationCodeBody() });

test('imported bindings are known to a strict route: active pairs pass, invalidated ones get no code, others are refused', async () => {
  const keys = prefix();
  const [one, two] = [randomUUID(), randomUUID()];
  const result = importFile(
    `msp,cmp,msp_token,state\n# federated before the hub\nmspA,cmpA,${one.toUpperCase()},active\nmspA,cmpB,${one},active\nmspB,cmpA,${two},invalidated\n`,
    keys,
  );
  expect(result.stderr).toBe('');
  expect(result.stdout).toContain('imported 3 token bindings');
  expect(result.status).toBe(0);
  const hub = await TestHub.start({ partners: specs, routes: ROUTES, redisKeyPrefix: keys });
  try {
    expect((await requestCode(hub, 'cmpA', 'mspA', one)).status).toBe(200);
    expect((await requestCode(hub, 'cmpB', 'mspA', one)).status).toBe(200);
    expect((await requestCode(hub, 'cmpA', 'mspB', two)).body.code).toBe('21');
    expect((await requestCode(hub, 'cmpB', 'mspB', two)).body.code).toBe('20');
  } finally {
    await hub.close();
  }
});

test('one bad line and nothing is imported: every problem named with its line, exit 1', async () => {
  const keys = prefix();
  const good = randomUUID();
  const taken = randomUUID();
  const result = importFile(
    `mspA,cmpA,${good},active\nmspA,cmpX,${randomUUID()},active\ncmpA,mspA,${randomUUID()},active\nmspA,cmpA,not-a-uuid,active\nmspA,cmpA,${randomUUID()},gone\nmspA,cmpA,${taken},active\nmspB,cmpB,${taken},active\nmspA,cmpA\n`,
    keys,
  );
  expect(result.status).toBe(1);
  for (const problem of [
    'line 2: "cmpX" is no CMP',
    'line 3: "cmpA" is no MSP',
    'line 4: the msp_token is no UUID',
    'line 5: state is active or invalidated',
    'line 7: the token is issued by mspA',
    'line 8: 4 fields expected',
  ]) {
    expect(result.stderr).toContain(problem);
  }
  const hub = await TestHub.start({ partners: specs, routes: ROUTES, redisKeyPrefix: keys });
  try {
    expect((await requestCode(hub, 'cmpA', 'mspA', good)).body.code).toBe('20');
  } finally {
    await hub.close();
  }
});
