/**
 * Reload without a signal: the hub watches its configuration folder and its TLS files. A
 * Kubernetes ConfigMap is swapped whole by moving the `..data` symlink its files point through; a
 * renewed certificate is written over the old one. What changed is taken at once, all or nothing,
 * as SIGHUP does; a bad config or an unusable TLS file leaves what serves in place.
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import tls from 'node:tls';
import { Hub } from '../../src/server/hub';
import { createLogger } from '../../src/log';
import { createMetrics } from '../../src/metrics/metrics';
import { createPki, type TestPki } from '../support/certs';
import { FakePartner } from '../support/fakePartner';
import { paths, requestActivationCodeBody } from '../support/messages';
import { ALL_ROUTES, request, writeConfig, type PartnerSpec } from '../support/testHub';
import { waitFor } from '../support/waitFor';

const silent = createLogger({ level: 'silent' });

/** the fingerprint of the certificate a TLS listener shows a new connection */
function servedBy(url: string, ca: string): Promise<string> {
  return new Promise<string>((resolve, reject) => {
    const socket = tls.connect({ host: '127.0.0.1', port: Number(new URL(url).port), ca: [ca] }, () => {
      resolve(socket.getPeerCertificate().fingerprint256);
      socket.end();
    });
    socket.once('error', reject);
  });
}

describe('the configuration folder, as a ConfigMap mounts it', () => {
  let dir: string;
  let hub: Hub;
  let msp: FakePartner;
  let specs: PartnerSpec[];
  const metrics = createMetrics();

  /** what the kubelet does: the new version in a folder of its own, then `..data` moved onto it */
  function publish(version: string, partners: readonly PartnerSpec[], routes: Record<string, unknown> = ALL_ROUTES): void {
    writeConfig(path.join(dir, version), partners, routes);
    symlinkSync(version, path.join(dir, '..data_tmp'));
    renameSync(path.join(dir, '..data_tmp'), path.join(dir, '..data'));
  }

  beforeAll(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'aidgw-configmap-'));
    msp = await FakePartner.start();
    specs = [
      { id: 'cmpA', role: 'cmp', apiKey: 'key-cmpA', upstreamUrl: 'http://127.0.0.1:1' },
      { id: 'mspA', role: 'msp', apiKey: 'key-mspA', upstreamUrl: msp.url },
    ];
    publish('..v1', specs);
    symlinkSync('..data/routes.yaml', path.join(dir, 'routes.yaml'));
    symlinkSync('..data/partners', path.join(dir, 'partners'));
    hub = await Hub.start({ configDir: dir, listen: { host: '127.0.0.1', port: 0 }, log: silent, metrics, env: {}, watchFiles: true });
  });

  afterAll(async () => {
    await hub.close();
    await msp.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const requestCode = (to: string) =>
    request(`${hub.url}${paths.requestActivationCode(randomUUID())}`, {
      method: 'POST',
      headers: {
        'api-key': 'key-cmpA',
        'client-id': 'cmpA',
        'target-id': to,
        'cmp-request-id': randomUUID(),
        'correlation-id': randomUUID(),
        'content-type': 'application/json',
      },
      body: JSON.stringify(requestActivationCodeBody()),
    });

  test('a swapped ConfigMap is served without a signal: a new partner can be called', async () => {
    expect((await requestCode('mspNew')).status).toBe(404);
    publish('..v2', [...specs, { id: 'mspNew', role: 'msp', apiKey: 'k', upstreamUrl: msp.url }]);
    await waitFor(() => hub.generation === 2, 15000, 50);
    expect((await requestCode('mspNew')).status).toBe(200);
  });

  test('a swapped ConfigMap that is invalid is refused; the config in service stays', async () => {
    const failures = async () =>
      (await metrics.registry.getSingleMetric('aid_gateway_config_reloads_total')?.get())?.values.find((v) => v.labels.result === 'failure')?.value ?? 0;
    publish('..v3', [...specs, { id: 'mspNew', role: 'msp', apiKey: 'k', upstreamUrl: 'ftp://nowhere' }]);
    await waitFor(async () => (await failures()) === 1, 15000, 50);
    expect(hub.generation).toBe(2);
    expect((await requestCode('mspNew')).status).toBe(200);
  });

  test('the same bytes written again are no new configuration', async () => {
    publish('..v4', [...specs, { id: 'mspNew', role: 'msp', apiKey: 'k', upstreamUrl: msp.url }]);
    await waitFor(() => hub.generation === 3, 15000, 50);
    publish('..v5', [...specs, { id: 'mspNew', role: 'msp', apiKey: 'k', upstreamUrl: msp.url }]);
    // a reading of the folder happens within the settle time plus a poll; then still generation 3
    await new Promise((r) => setTimeout(r, 1500));
    expect(hub.generation).toBe(3);
  });
});

describe("the TLS listener's files", () => {
  let pki: TestPki;
  let hub: Hub;
  let dir: string;
  const lines: string[] = [];

  beforeAll(async () => {
    pki = createPki();
    dir = mkdtempSync(path.join(tmpdir(), 'aidgw-tlswatch-'));
    writeConfig(dir, [{ id: 'cmpA', role: 'cmp', apiKey: 'key-cmpA', upstreamUrl: 'http://127.0.0.1:1' }], ALL_ROUTES);
    hub = await Hub.start({
      configDir: dir,
      tls: { host: '127.0.0.1', port: 0, cert: pki.serverCertFile, key: pki.serverKeyFile, clientCa: pki.caFile },
      log: createLogger({ level: 'info', destination: { write: (line: string) => void lines.push(line) } }),
      metrics: createMetrics(),
      env: {},
      watchFiles: true,
    });
  });

  afterAll(async () => {
    await hub.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const served = () => servedBy(hub.url, pki.ca.cert);

  test('a renewed certificate is served to new connections without a restart or a signal', async () => {
    const before = await served();
    const renewed = pki.server();
    writeFileSync(pki.serverKeyFile, renewed.key);
    writeFileSync(pki.serverCertFile, renewed.cert);
    await waitFor(async () => (await served()) === renewed.fingerprint256, 15000, 100);
    expect(renewed.fingerprint256).not.toBe(before);
  });

  test("a key that is not the certificate's is refused, and the certificate in service stays", async () => {
    const current = await served();
    writeFileSync(pki.serverKeyFile, pki.server().key);
    await waitFor(() => lines.some((l) => l.includes('TLS files refused')), 15000, 50);
    expect(await served()).toBe(current);
  });
});

test("without the watch, SIGHUP's reload takes a renewed certificate too", async () => {
  const pki = createPki();
  const dir = mkdtempSync(path.join(tmpdir(), 'aidgw-tlssighup-'));
  writeConfig(dir, [{ id: 'cmpA', role: 'cmp', apiKey: 'key-cmpA', upstreamUrl: 'http://127.0.0.1:1' }], ALL_ROUTES);
  const hub = await Hub.start({
    configDir: dir,
    tls: { host: '127.0.0.1', port: 0, cert: pki.serverCertFile, key: pki.serverKeyFile, clientCa: pki.caFile },
    log: silent,
    metrics: createMetrics(),
    env: {},
  });
  try {
    const served = () => servedBy(hub.url, pki.ca.cert);
    const renewed = pki.server();
    writeFileSync(pki.serverKeyFile, renewed.key);
    writeFileSync(pki.serverCertFile, renewed.cert);
    expect(await served()).not.toBe(renewed.fingerprint256);
    expect(hub.reload().ok).toBe(true);
    expect(await served()).toBe(renewed.fingerprint256);
  } finally {
    await hub.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
