/**
 * The container and the docker-compose demo, as far as they can be checked without a Docker daemon:
 * the image is built on Node 24 LTS with no test or benchmark code, checks its own health and keeps
 * the admin listener on loopback; the demo runs every example partner as a service of its own that
 * the hub reaches by name, each with a health check and a restart policy; and `simulate`, the
 * command those services run, serves a partner on its URL's port and stops on SIGTERM.
 */
import { spawn, spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { load } from 'js-yaml';
import { freePort } from '../support/ports';
import { waitFor } from '../support/waitFor';

const ROOT = path.join(__dirname, '../..');
const MAIN = path.join(ROOT, 'dist/src/main.js');
const read = (file: string) => readFileSync(path.join(ROOT, file), 'utf8');

describe('the image (Dockerfile)', () => {
  const dockerfile = read('Dockerfile').replace(/\\\n/g, ' ');
  const instructions = dockerfile.split('\n').filter((l) => /^[A-Z]+ /.test(l));

  test('every stage is Node 24 LTS', () => {
    const bases = instructions.filter((l) => l.startsWith('FROM ')).map((l) => l.split(' ')[1]);
    expect(bases.length).toBeGreaterThan(0);
    for (const base of bases) expect(base).toMatch(/^node:24-/);
  });

  test('no test or benchmark code goes in, nor into the build context', () => {
    const copied = instructions.filter((l) => l.startsWith('COPY ')).join('\n');
    expect(copied).not.toMatch(/\b(test|bench)\b/);
    expect(read('.dockerignore').split('\n')).toEqual(expect.arrayContaining(['test', 'bench']));
    expect(read('tsconfig.build.json')).toContain('"include": ["src/**/*.ts"]');
  });

  test('it checks its own health, runs unprivileged, and leaves the admin listener on loopback', () => {
    expect(instructions.some((l) => l.startsWith('HEALTHCHECK ') && l.includes('/healthz'))).toBe(true);
    expect(instructions).toContain('USER node');
    const cmd = instructions.find((l) => l.startsWith('CMD '));
    expect(cmd).not.toContain('--admin-listen');
  });
});

describe('the demo (docker-compose.yml)', () => {
  const compose = load(read('docker-compose.yml')) as any;
  const partnerFiles = readdirSync(path.join(ROOT, 'partners')).filter((f) => f.endsWith('.yaml'));

  test('every example partner is a simulator service of its own, where its partner file points the hub', () => {
    const urls = compose['x-partner-urls'] as Record<string, string>;
    for (const file of partnerFiles) {
      const id = file.replace(/\.yaml$/, '');
      const text = read(`partners/${file}`);
      const variable = /url: \$\{([A-Z_]+_URL):-/.exec(text)?.[1];
      expect({ id, variable }).toEqual({ id, variable: expect.any(String) });
      const url = new URL(urls[variable!]);
      const service = compose.services[url.hostname];
      expect({ id, command: service?.command?.slice(0, 2) }).toEqual({ id, command: ['simulate', id] });
      expect(service.environment).toEqual(expect.objectContaining(urls));
      expect(new URL(service.environment.HEALTH_URL).port).toBe(url.port);
      expect(service.ports).toEqual([`${url.port}:${url.port}`]);
    }
    expect(compose.services.hub.environment).toEqual(expect.objectContaining(urls));
  });

  test("every service restarts unless stopped and has a health check (the hub the image's own)", () => {
    for (const [name, service] of Object.entries<{ restart?: string; healthcheck?: unknown; build?: string }>(compose.services)) {
      expect({ name, restart: service.restart }).toEqual({ name, restart: 'unless-stopped' });
      expect({ name, checked: Boolean(service.healthcheck) || service.build === '.' }).toEqual({ name, checked: true });
    }
  });

  test('the admin listener leaves the container only with credentials, which Prometheus has', () => {
    const hub = compose.services.hub;
    expect(hub.command).toEqual(expect.arrayContaining(['--admin-listen', '0.0.0.0:9464']));
    expect(hub.environment.AID_GATEWAY_ADMIN_USER).toBe('prometheus');
    expect(hub.environment.AID_GATEWAY_ADMIN_PASSWORD_FILE).toBe('/run/secrets/admin_password');
    expect(hub.ports).toEqual(['8080:8080']);
    const scrape = (load(read('grafana/prometheus.yml')) as any).scrape_configs[0];
    expect(scrape.basic_auth).toEqual({ username: 'prometheus', password_file: '/run/secrets/admin_password' });
    expect(compose.services.prometheus.secrets).toEqual(['admin_password']);
  });
});

describe("simulate: the command the demo's partner services run", () => {
  test("serves the named partner on its URL's port, and stops on SIGTERM", async () => {
    const port = await freePort();
    const child = spawn(process.execPath, [MAIN, 'simulate', 'cmpOne', '--hub-url', 'http://127.0.0.1:1', '--bind', '127.0.0.1'], {
      env: { PATH: process.env.PATH, CMP_ONE_URL: `http://cmpone.invalid:${port}` },
    });
    let stdout = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
    await waitFor(() => stdout.includes('cmpOne: simulated on'), 15000, 50);
    expect((await fetch(`http://127.0.0.1:${port}/simulator/inbox`)).status).toBe(200);
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
  });

  test('an unknown partner or no --hub-url is a usage error', () => {
    const run = (args: string[]) => spawnSync(process.execPath, [MAIN, 'simulate', ...args], { encoding: 'utf8', env: { PATH: process.env.PATH } });
    expect(run(['nobody', '--hub-url', 'http://127.0.0.1:1']).status).toBe(2);
    const noHub = run(['cmpOne']);
    expect(noHub.status).toBe(2);
    expect(noHub.stderr).toContain('--hub-url');
  });
});
