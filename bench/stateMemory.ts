/**
 * What state a given traffic leaves behind: N users each onboarded (Send MSP Token), provisioned
 * (Request Activation Code, answered 200) and reported (Send CSIM Status), through the hub on
 * Redis and on the in-memory store. Prints Redis bytes per kind of key (MEMORY USAGE) and the
 * in-memory store's heap, per 10,000 users, so docs/operating/security.md can say what to plan for.
 * Usage: npm run bench:memory [-- N]   (default 10000)
 */
import { randomUUID } from 'node:crypto';
import http from 'node:http';
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { dump as stringify } from 'js-yaml';
import { createClient } from 'redis';
import { Pool } from 'undici';
import { Hub } from '../src/server/hub';
import { createLogger } from '../src/log';

const N = Number(process.argv[2] ?? 10000);
const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const CODE = JSON.stringify({
  iccid: '8949000000000000001',
  activationCode: '1$smdp.example.com$04386-AGYFT-A74Y8-3F815',
  profileType: 'personal',
  swappedIccid: null,
});

/** a partner answering every request with 201, and activation code requests with the code */
async function partner(): Promise<http.Server> {
  const server = http.createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      const code = req.url?.startsWith('/v1/activation-code-requests/') ?? false;
      res.writeHead(code ? 200 : 201, code ? { 'content-type': 'application/json' } : {});
      res.end(code ? CODE : '');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  return server;
}

const urlOf = (server: http.Server) => `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

function writeConfig(dir: string, msp: string, cmp: string): void {
  mkdirSync(path.join(dir, 'partners'), { recursive: true });
  writeFileSync(path.join(dir, 'routes.yaml'), stringify({ routes: [{ from: '*', to: '*', tokenBinding: 'strict' }] }));
  writeFileSync(path.join(dir, 'partners', 'mspA.yaml'), stringify({ id: 'mspA', role: 'msp', inbound: { apiKeys: ['msp-key'] }, upstream: { url: msp } }));
  writeFileSync(path.join(dir, 'partners', 'cmpA.yaml'), stringify({ id: 'cmpA', role: 'cmp', inbound: { apiKeys: ['cmp-key'] }, upstream: { url: cmp } }));
}

async function drive(origin: string): Promise<void> {
  const pool = new Pool(origin, { connections: 8 });
  const send = async (as: string, key: string, to: string, method: string, urlPath: string, body: unknown, expected: number) => {
    const res = await pool.request({
      method,
      path: urlPath,
      headers: {
        'api-key': key,
        'client-id': as,
        'target-id': to,
        'cmp-request-id': randomUUID(),
        'correlation-id': randomUUID(),
        'content-type': 'application/json',
      },
      body: JSON.stringify(body),
    });
    await res.body.text();
    if (res.statusCode !== expected) throw new Error(`${urlPath}: ${res.statusCode}`);
  };
  const user = async () => {
    const token = randomUUID();
    await send(
      'mspA',
      'msp-key',
      'cmpA',
      'POST',
      '/cesim/msp/v1/users/user4711',
      { msp_token: token, phoneNumber: 'cGhvbmU=', subscriptionType: 'private', error: null, iv: 'aXY=' },
      201,
    );
    await send(
      'cmpA',
      'cmp-key',
      'mspA',
      'POST',
      `/v1/activation-code-requests/${token}`,
      { profileType: 'personal', deviceType: 'tcu', eid: '89049032000001000000000831934057', activationCodeRequestID: randomUUID(), replaceIccid: null },
      200,
    );
    await send(
      'cmpA',
      'cmp-key',
      'mspA',
      'POST',
      `/v1/statuses/${token}`,
      { iccid: '8949000000000000001', eid: '89049032000001000000000831934057', status: 'installed' },
      201,
    );
  };
  for (let i = 0; i < N; i += 8) await Promise.all(Array.from({ length: Math.min(8, N - i) }, user));
  await pool.close();
}

async function redisBytes(prefix: string): Promise<Map<string, { keys: number; bytes: number }>> {
  const client = createClient({ url: REDIS_URL });
  await client.connect();
  const kinds = new Map<string, { keys: number; bytes: number }>();
  try {
    for await (const keys of client.scanIterator({ MATCH: `${prefix}*`, COUNT: 1000 })) {
      for (const key of keys) {
        const kind = key.slice(prefix.length).split(':')[0];
        const entry = kinds.get(kind) ?? { keys: 0, bytes: 0 };
        entry.keys += 1;
        entry.bytes += (await client.memoryUsage(key, { SAMPLES: 0 })) ?? 0;
        kinds.set(kind, entry);
      }
      if (keys.length > 0) await client.del(keys);
    }
  } finally {
    await client.close();
  }
  return kinds;
}

function heapUsed(): number {
  const gc = (globalThis as { gc?: () => void }).gc;
  gc?.();
  gc?.();
  return process.memoryUsage().heapUsed;
}

async function run(store: 'redis' | 'memory', msp: string, cmp: string): Promise<void> {
  const dir = mkdtempSync(path.join(tmpdir(), 'aidgw-bench-memory-'));
  writeConfig(dir, msp, cmp);
  const prefix = `aidgw-bench-memory:${randomUUID()}:`;
  const log = createLogger({ level: 'error' });
  const hub = await Hub.start({
    configDir: dir,
    listen: { host: '127.0.0.1', port: 0 },
    redisUrl: store === 'redis' ? REDIS_URL : undefined,
    redisKeyPrefix: prefix,
    log,
  });
  const before = heapUsed();
  try {
    await drive(hub.url);
    const per10k = (n: number) => Math.round((n / N) * 10000);
    if (store === 'memory') {
      const bytes = heapUsed() - before;
      console.log(
        `memory store: ${N} users -> heap +${(bytes / 1e6).toFixed(1)} MB: ${(per10k(bytes) / 1e6).toFixed(1)} MB per 10,000 users, ${Math.round(bytes / N)} bytes a user`,
      );
      return;
    }
    const kinds = await redisBytes(prefix);
    let total = 0;
    console.log(`redis: ${N} users (Send MSP Token + Request Activation Code 200 + Send CSIM Status each)`);
    console.log('| key kind | keys | bytes per user | MB per 10,000 users |');
    console.log('|---|---|---|---|');
    for (const [kind, { keys, bytes }] of [...kinds].sort((a, b) => b[1].bytes - a[1].bytes)) {
      total += bytes;
      console.log(`| ${kind} | ${keys} | ${Math.round(bytes / N)} | ${(per10k(bytes) / 1e6).toFixed(2)} |`);
    }
    console.log(`| all | | ${Math.round(total / N)} | ${(per10k(total) / 1e6).toFixed(2)} |`);
  } finally {
    await hub.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  const [msp, cmp] = await Promise.all([partner(), partner()]);
  try {
    await run('redis', urlOf(msp), urlOf(cmp));
    await run('memory', urlOf(msp), urlOf(cmp));
  } finally {
    msp.close();
    cmp.close();
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
