/**
 * What the hub adds to one partner call: Request Activation Code sent N times in a row to a fast
 * upstream, directly and through the hub (memory store, then Redis when it answers), with every
 * policy of the foundation on. Prints p50 / p99 / mean latency and the hub's added latency.
 * Usage: npm run bench:latency [-- N]
 */
import { randomUUID } from 'node:crypto';
import http from 'node:http';
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Pool } from 'undici';
import { dump as stringify } from 'js-yaml';
import { Hub } from '../src/server/hub';
import { createLogger } from '../src/log';
import { RedisStore } from '../src/state/redis/store';

const N = Number(process.argv[2] ?? 3000);
const WARMUP = 300;
const TOKEN = randomUUID();
const ANSWER = JSON.stringify({ iccid: '8949000000000000001', activationCode: '1$smdp.example.com$04386-AGYFT', profileType: 'personal', swappedIccid: null });

async function startUpstream(): Promise<http.Server> {
  const server = http.createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(ANSWER);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  return server;
}

function writeConfig(dir: string, upstreamUrl: string): void {
  mkdirSync(path.join(dir, 'partners'), { recursive: true });
  writeFileSync(path.join(dir, 'routes.yaml'), stringify({ routes: [{ from: '*', to: '*', responseValidation: 'refuse' }] }));
  writeFileSync(
    path.join(dir, 'partners', 'cmpA.yaml'),
    stringify({ id: 'cmpA', role: 'cmp', inbound: { apiKeys: ['bench-key'] }, upstream: { url: 'http://127.0.0.1:1' } }),
  );
  writeFileSync(
    path.join(dir, 'partners', 'mspA.yaml'),
    stringify({ id: 'mspA', role: 'msp', inbound: { apiKeys: ['k'] }, upstream: { url: upstreamUrl, auth: { apiKey: 'x' } } }),
  );
}

async function measure(origin: string): Promise<number[]> {
  const pool = new Pool(origin, { connections: 1 });
  const times: number[] = [];
  for (let i = 0; i < WARMUP + N; i++) {
    const started = performance.now();
    const res = await pool.request({
      method: 'POST',
      path: `/v1/activation-code-requests/${TOKEN}`,
      headers: {
        'api-key': 'bench-key',
        'client-id': 'cmpA',
        'target-id': 'mspA',
        'cmp-request-id': randomUUID(),
        'correlation-id': randomUUID(),
        'content-type': 'application/json',
      },
      body: JSON.stringify({
        profileType: 'personal',
        deviceType: 'tcu',
        eid: '89049032000001000000000831934057',
        activationCodeRequestID: randomUUID(),
        replaceIccid: null,
      }),
    });
    await res.body.text();
    if (res.statusCode !== 200) throw new Error(`unexpected status ${res.statusCode}`);
    if (i >= WARMUP) times.push(performance.now() - started);
  }
  await pool.close();
  return times;
}

function summary(times: number[]): { p50: number; p99: number; mean: number } {
  const sorted = [...times].sort((a, b) => a - b);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
  return { p50: at(0.5), p99: at(0.99), mean: times.reduce((s, t) => s + t, 0) / times.length };
}

async function redisAnswers(url: string): Promise<boolean> {
  try {
    await (await RedisStore.connect({ url })).close();
    return true;
  } catch {
    return false;
  }
}

async function main(): Promise<void> {
  const upstream = await startUpstream();
  const upstreamUrl = `http://127.0.0.1:${(upstream.address() as AddressInfo).port}`;
  const dir = mkdtempSync(path.join(tmpdir(), 'aidgw-bench-'));
  writeConfig(dir, upstreamUrl);
  const redisUrl = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
  const rows: [string, ReturnType<typeof summary>][] = [['direct', summary(await measure(upstreamUrl))]];
  const stores: [string, string | undefined][] = [['hub, memory store', undefined]];
  if (await redisAnswers(redisUrl)) stores.push(['hub, Redis store', redisUrl]);
  for (const [label, url] of stores) {
    const hub = await Hub.start({ configDir: dir, redisUrl: url, redisKeyPrefix: `aidgw-bench:${randomUUID()}:`, log: createLogger({ level: 'silent' }) });
    rows.push([label, summary(await measure(hub.url))]);
    await hub.close();
  }
  const direct = rows[0][1];
  console.log(`Request Activation Code, ${N} sequential requests after ${WARMUP} warm-up, one keep-alive connection, Node ${process.version}`);
  console.log('| path | p50 ms | p99 ms | mean ms | added p50 ms | added p99 ms |');
  console.log('|---|---|---|---|---|---|');
  for (const [label, s] of rows) {
    const added = label === 'direct' ? ['', ''] : [(s.p50 - direct.p50).toFixed(3), (s.p99 - direct.p99).toFixed(3)];
    console.log(`| ${label} | ${s.p50.toFixed(3)} | ${s.p99.toFixed(3)} | ${s.mean.toFixed(3)} | ${added[0]} | ${added[1]} |`);
  }
  upstream.close();
  rmSync(dir, { recursive: true, force: true });
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
