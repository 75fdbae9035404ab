/**
 * The Kubernetes manifests (deploy/kubernetes): rendered by kustomize (`kubectl kustomize`, from
 * Debian's kubernetes-client or newer), every object checked against the Kubernetes and Prometheus
 * Operator schemas (kubernetes-models), their references to each other followed, and the hub
 * started exactly as the Deployment starts it, from the rendered ConfigMaps and Secret.
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { loadAll } from 'js-yaml';
import { ConfigMap, Secret, Service } from 'kubernetes-models/v1';
import { Deployment } from 'kubernetes-models/apps/v1';
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1';
import { HorizontalPodAutoscaler } from 'kubernetes-models/autoscaling/v2';
import { NetworkPolicy } from 'kubernetes-models/networking.k8s.io/v1';
import { ServiceMonitor } from '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1';
import { freePort } from '../support/ports';
import { deleteKeys, REDIS_URL, uniquePrefix } from '../support/redis';
import { waitFor } from '../support/waitFor';

const ROOT = path.join(__dirname, '../..');
const MAIN = path.join(ROOT, 'dist/src/main.js');

/** a rendered object, read field by field as kubectl would */
type Doc = any;

const MODELS: Record<string, new (doc: Doc) => { validate(): void }> = {
  'apps/v1 Deployment': Deployment,
  'v1 Service': Service,
  'v1 ConfigMap': ConfigMap,
  'v1 Secret': Secret,
  'policy/v1 PodDisruptionBudget': PodDisruptionBudget,
  'monitoring.coreos.com/v1 ServiceMonitor': ServiceMonitor,
  'autoscaling/v2 HorizontalPodAutoscaler': HorizontalPodAutoscaler,
  'networking.k8s.io/v1 NetworkPolicy': NetworkPolicy,
};

let docs: Doc[];
const find = (kind: string, name?: string): Doc => docs.find((d) => d.kind === kind && (name === undefined || d.metadata.name === name));

beforeAll(() => {
  const rendered = spawnSync('kubectl', ['kustomize', 'deploy/kubernetes/example'], { cwd: ROOT, encoding: 'utf8' });
  if (rendered.error) throw new Error(`kubectl is needed to render the manifests (Debian: apt-get install kubernetes-client): ${rendered.error.message}`);
  // no deprecation warning either (`bases`, `commonLabels`)
  expect(rendered.stderr.trim()).toBe('');
  expect(rendered.status).toBe(0);
  docs = loadAll(rendered.stdout).filter((d) => d !== null) as Doc[];
});

test('every object is valid against its schema', () => {
  expect(docs.map((d) => `${d.apiVersion} ${d.kind}`).sort()).toEqual([
    'apps/v1 Deployment',
    'autoscaling/v2 HorizontalPodAutoscaler',
    'monitoring.coreos.com/v1 ServiceMonitor',
    'networking.k8s.io/v1 NetworkPolicy',
    'policy/v1 PodDisruptionBudget',
    'v1 ConfigMap',
    'v1 ConfigMap',
    'v1 ConfigMap',
    'v1 Secret',
    'v1 Service',
  ]);
  for (const doc of docs) {
    const Model = MODELS[`${doc.apiVersion} ${doc.kind}`];
    expect(() => new Model(doc).validate()).not.toThrow();
  }
});

test('the Deployment: probes on the admin port, a drain before SIGTERM, resources, spread over nodes; two to six hubs by CPU, one kept by the budget', () => {
  const deployment = find('Deployment');
  const pod = deployment.spec.template.spec;
  const hub = pod.containers[0];
  expect(hub.ports.map((p: Doc) => p.name)).toEqual(['http', 'admin']);
  expect(hub.readinessProbe.httpGet).toEqual({ path: '/readyz', port: 'admin' });
  expect(hub.livenessProbe.httpGet).toEqual({ path: '/healthz', port: 'admin' });
  expect(hub.lifecycle.preStop.exec.command).toEqual(['sleep', '5']);
  expect(pod.terminationGracePeriodSeconds).toBeGreaterThan(5 + 15);
  expect(hub.resources.requests).toEqual({ cpu: '1', memory: '384Mi' });
  // the autoscaler owns the count: the Deployment names none, which an apply would reset
  expect(deployment.spec.replicas).toBeUndefined();
  const scaler = find('HorizontalPodAutoscaler');
  expect(scaler.spec.scaleTargetRef).toEqual({ apiVersion: 'apps/v1', kind: 'Deployment', name: deployment.metadata.name });
  expect(scaler.spec.metrics).toEqual([{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 70 } } }]);
  const budget = find('PodDisruptionBudget');
  expect(budget.spec.minAvailable).toBeLessThan(scaler.spec.minReplicas);
  expect(scaler.spec.maxReplicas).toBeGreaterThan(scaler.spec.minReplicas);
  expect(budget.spec.selector.matchLabels).toEqual(deployment.spec.template.metadata.labels);
  expect(find('Service').spec.selector).toEqual(deployment.spec.template.metadata.labels);
  // two hubs on one node would fall together
  const spread = pod.affinity.podAntiAffinity.preferredDuringSchedulingIgnoredDuringExecution[0].podAffinityTerm;
  expect(spread.topologyKey).toBe('kubernetes.io/hostname');
  expect(spread.labelSelector.matchLabels).toEqual(deployment.spec.template.metadata.labels);
});

test('the NetworkPolicy: partners in on the AID.02 port, Prometheus on the admin port; out only DNS, Redis and the partners', () => {
  const deployment = find('Deployment');
  const policy = find('NetworkPolicy');
  expect(policy.spec.podSelector.matchLabels).toEqual(deployment.spec.template.metadata.labels);
  expect(policy.spec.policyTypes).toEqual(['Ingress', 'Egress']);
  const inPorts = policy.spec.ingress.flatMap((rule: Doc) => rule.ports.map((p: Doc) => p.port));
  expect(inPorts.sort()).toEqual(deployment.spec.template.spec.containers[0].ports.map((p: Doc) => p.name).sort());
  expect(inPorts).toContain(find('ServiceMonitor').spec.endpoints[0].port);
  const outPorts = new Set<number>(policy.spec.egress.flatMap((rule: Doc) => rule.ports.map((p: Doc) => p.port)));
  expect(outPorts.has(53)).toBe(true);
  // the Redis the overlay names, and every example partner's upstream
  const env = find('ConfigMap', 'aid-gateway-env').data;
  expect(outPorts.has(Number(new URL(env.REDIS_URL).port || 6379))).toBe(true);
  const partners = Object.values<string>(find('ConfigMap', 'aid-gateway-partners').data);
  expect(partners.length).toBeGreaterThan(0);
  for (const file of partners) {
    const url = new URL(/^\s+url: (\S+)/m.exec(file)?.[1] ?? '');
    expect(outPorts.has(Number(url.port || (url.protocol === 'https:' ? 443 : 80)))).toBe(true);
  }
});

test('every ConfigMap, Secret, key and port the objects name is there', () => {
  const pod = find('Deployment').spec.template.spec;
  for (const volume of pod.volumes) {
    if (volume.configMap) expect(find('ConfigMap', volume.configMap.name)).toBeDefined();
    if (volume.secret) expect(find('Secret', volume.secret.secretName)).toBeDefined();
  }
  const hub = pod.containers[0];
  for (const from of hub.envFrom) expect(find('ConfigMap', from.configMapRef.name)).toBeDefined();
  for (const env of hub.env.filter((e: Doc) => e.valueFrom))
    expect(find('Secret', env.valueFrom.secretKeyRef.name).data).toHaveProperty(env.valueFrom.secretKeyRef.key);
  const monitor = find('ServiceMonitor');
  expect(find('Service').spec.ports.map((p: Doc) => p.name)).toContain(monitor.spec.endpoints[0].port);
  for (const ref of Object.values<Doc>(monitor.spec.endpoints[0].basicAuth)) expect(find('Secret', ref.name).data).toHaveProperty(ref.key);
});

test('the hub starts as the Deployment starts it, from the rendered ConfigMaps and Secret, and answers its probes', async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'aidgw-k8s-'));
  const prefix = uniquePrefix();
  try {
    const pod = find('Deployment').spec.template.spec;
    const hub = pod.containers[0];
    // each volume as the kubelet lays it out: a file per key
    const mounts: Record<string, string> = {};
    for (const volume of pod.volumes) {
      const folder = path.join(dir, volume.name);
      mkdirSync(folder);
      const source = volume.configMap ? find('ConfigMap', volume.configMap.name).data : decoded(find('Secret', volume.secret.secretName).data);
      for (const [key, value] of Object.entries(source)) writeFileSync(path.join(folder, key), String(value));
      mounts[hub.volumeMounts.find((m: Doc) => m.name === volume.name).mountPath] = folder;
    }
    const inPod = (value: string) => Object.entries(mounts).reduce((v, [from, to]) => v.replace(from, to), value);
    const env: NodeJS.ProcessEnv = { PATH: process.env.PATH };
    for (const from of hub.envFrom) Object.assign(env, find('ConfigMap', from.configMapRef.name).data);
    for (const e of hub.env)
      env[e.name] = e.value !== undefined ? inPod(e.value) : decoded(find('Secret', e.valueFrom.secretKeyRef.name).data)[e.valueFrom.secretKeyRef.key];
    env.REDIS_URL = REDIS_URL;
    const [http, admin] = [await freePort(), await freePort()];
    const args = (hub.args as string[]).map(inPod).map((a) => a.replace('0.0.0.0:8080', `127.0.0.1:${http}`).replace('0.0.0.0:9464', `127.0.0.1:${admin}`));

    const checked = spawnSync(process.execPath, [MAIN, 'check-config', ...args.slice(1, 5)], { env, encoding: 'utf8' });
    expect(checked.stderr).toBe('');
    expect(checked.stdout).toContain('valid: 1 MSPs, 1 CMPs, 2 routes');

    const child = spawn(process.execPath, [MAIN, ...args, '--redis-prefix', prefix], { env });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
    try {
      // its workers and Redis made ready; on a machine loaded by other runs that took more than 20 s
      await waitFor(async () => (await fetch(`http://127.0.0.1:${admin}/readyz`).catch(() => undefined))?.status === 200, 60000, 100);
      expect((await fetch(`http://127.0.0.1:${admin}/healthz`)).status).toBe(200);
      // the ServiceMonitor's credentials open /metrics, and nothing else does
      const secret = decoded(find('Secret', 'aid-gateway-secrets').data);
      expect((await fetch(`http://127.0.0.1:${admin}/metrics`)).status).toBe(401);
      const auth = `Basic ${Buffer.from(`${secret.AID_GATEWAY_ADMIN_USER}:${secret.AID_GATEWAY_ADMIN_PASSWORD}`).toString('base64')}`;
      expect((await fetch(`http://127.0.0.1:${admin}/metrics`, { headers: { authorization: auth } })).status).toBe(200);
    } finally {
      child.kill('SIGTERM');
    }
    expect(await exited).toBe(0);
    expect(stderr).toBe('');
  } finally {
    rmSync(dir, { recursive: true, force: true });
    await deleteKeys(prefix);
  }
}, 90_000);

function decoded(data: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(data).map(([k, v]) => [k, Buffer.from(v, 'base64').toString('utf8')]));
}
