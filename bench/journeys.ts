/**
 * `npm run bench:journeys`: what activation journeys cost, journeys on and off in the same run (two
 * rounds, interleaved), one hub process on a Redis of the bench's own (so that INFO commandstats
 * counts the hub alone), Request Activation Code answered 200 by a canned MSP, 500 users. Per
 * request: the hub's CPU, its store calls (each a round trip; its own metric), the script calls
 * Redis counted (an instance's own flush of its journeys would show here), and the commands Redis
 * ran (inside scripts too). The requests come from this process (Node's fetch, 16 at a time);
 * with wrk and nginx installed, `npm run bench` measures the hub against its peers.
 * Options: REQUESTS per measured run (default 4000).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import http from 'node:http';
import { cpus, tmpdir } from 'node:os';
import path from 'node:path';
import { activationCodeRequest, writeHubConfig } from './hubConfig';
import { createClient } from 'redis';
import { freePort, waitForPort } from './ports';

const MAIN = path.join(__dirname, '../src/main.js');
const REQUESTS = Number(process.env.REQUESTS ?? 4000);
const CONCURRENCY = 16;
const USERS = Array.from({ length: 500 }, () => randomUUID());
const CODE = JSON.stringify({
  iccid: '8949000000000000001',
  activationCode: '1$smdp.example.com$04386-AGYFT-A74Y8',
  profileType: 'personal',
  swappedIccid: null,
});

interface Run {
  readonly journeys: boolean;
  readonly rps: number;
  readonly cpuMicros: number;
  readonly storeCalls: number;
  readonly scriptCalls: number;
  readonly redisCommands: number;
}

async function startRedis(port: number): Promise<ChildProcess> {
  const child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
  await waitForPort(port);
  return child;
}

async function startHub(dir: string, port: number, adminPort: number, redisUrl: string): Promise<ChildProcess> {
  const child = spawn(
    process.execPath,
    [
      MAIN,
      'start',
      '--config',
      dir,
      '--listen',
      `127.0.0.1:${port}`,
      '--admin-listen',
      `127.0.0.1:${adminPort}`,
      '--workers',
      '1',
      '--redis-url',
      redisUrl,
      '--redis-prefix',
      `bench:${randomUUID()}:`,
    ],
    {
      stdio: ['ignore', 'ignore', 'inherit'],
      env: { PATH: process.env.PATH, LOG_LEVEL: 'warn' },
    },
  );
  // a first start compiles the OpenAPI documents: seconds on a busy machine
  await waitForPort(port, 60000);
  return child;
}

/** `count` Request Activation Codes, CONCURRENCY at a time, a fresh request id each */
async function drive(url: string, count: number): Promise<number> {
  let next = 0;
  const started = performance.now();
  const worker = async () => {
    while (next < count) {
      const i = next++;
      const { headers, body } = activationCodeRequest();
      const res = await fetch(`${url}/v1/activation-code-requests/${USERS[i % USERS.length]}`, { method: 'POST', headers, body });
      await res.arrayBuffer();
      if (res.status !== 200) throw new Error(`the hub answered ${res.status}`);
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  return count / ((performance.now() - started) / 1000);
}

function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return (Number(stat[11]) + Number(stat[12])) / 100;
}

async function commands(redis: ReturnType<typeof createClient>): Promise<Record<string, number>> {
  const info = await redis.info('commandstats');
  return Object.fromEntries([...info.matchAll(/^cmdstat_(\w+):calls=(\d+)/gm)].filter((m) => m[1] !== 'info').map((m) => [m[1], Number(m[2])]));
}

/** the hub's store calls (its own metric: each one round trip or more) */
async function storeCalls(adminPort: number): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${adminPort}/metrics`)).text();
  return [...text.matchAll(/^aid_gateway_store_operation_seconds_count\{[^}]*\} (\d+)/gm)].reduce((sum, m) => sum + Number(m[1]), 0);
}

async function measure(work: string, upstreamUrl: string, redisUrl: string, redis: ReturnType<typeof createClient>, journeys: boolean): Promise<Run> {
  const dir = path.join(work, journeys ? 'on' : 'off');
  writeHubConfig(dir, upstreamUrl, { settings: { journeys } });
  const [port, adminPort] = [await freePort(), await freePort()];
  const hub = await startHub(dir, port, adminPort, redisUrl);
  try {
    // every user's token learnt, the scripts loaded, the JIT warm
    await drive(`http://127.0.0.1:${port}`, USERS.length * 2);
    const [cpuBefore, commandsBefore, callsBefore] = [cpuSeconds(hub.pid as number), await commands(redis), await storeCalls(adminPort)];
    const rps = await drive(`http://127.0.0.1:${port}`, REQUESTS);
    const [cpu, commandsAfter, calls] = [cpuSeconds(hub.pid as number) - cpuBefore, await commands(redis), (await storeCalls(adminPort)) - callsBefore];
    const delta = (name: string) => (commandsAfter[name] ?? 0) - (commandsBefore[name] ?? 0);
    const total = Object.keys(commandsAfter).reduce((sum, name) => sum + delta(name), 0);
    // the outbox worker's polls (three store calls: a script, XAUTOCLAIM, XREADGROUP) are no request's
    const polls = delta('xreadgroup');
    const per = (n: number) => Number((n / REQUESTS).toFixed(3));
    return {
      journeys,
      rps: Math.round(rps),
      cpuMicros: Math.round((cpu / REQUESTS) * 1e6),
      storeCalls: per(calls - 3 * polls),
      scriptCalls: per(delta('evalsha') + delta('eval') - polls),
      redisCommands: per(total - 3 * polls),
    };
  } finally {
    hub.kill('SIGTERM');
    await new Promise((r) => hub.once('exit', r));
  }
}

async function main(): Promise<void> {
  const work = mkdtempSync(path.join(tmpdir(), 'aidgw-bench-journeys-'));
  const upstream = http.createServer((req, res) => req.resume().on('end', () => res.writeHead(200, { 'content-type': 'application/json' }).end(CODE)));
  await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', () => resolve()));
  const upstreamUrl = `http://127.0.0.1:${(upstream.address() as { port: number }).port}`;
  const redisPort = await freePort();
  const redisServer = await startRedis(redisPort);
  const redisUrl = `redis://127.0.0.1:${redisPort}`;
  const redis = createClient({ url: redisUrl });
  await redis.connect();
  try {
    const runs: Run[] = [];
    for (let round = 0; round < 2; round++) for (const journeys of [true, false]) runs.push(await measure(work, upstreamUrl, redisUrl, redis, journeys));
    console.log(
      `\naid-gateway journeys bench: ${cpus().length} x ${cpus()[0]?.model}, Node ${process.version}, one hub process, Request Activation Code, ${REQUESTS} requests per run, ${CONCURRENCY} at a time\n`,
    );
    console.log(
      "| journeys | req/s | hub CPU µs per request | store calls (round trips) per request | script calls per request (a journey's own flush included) | Redis commands per request (inside scripts too) |",
    );
    console.log('|---|---|---|---|---|---|');
    for (const r of runs) console.log(`| ${r.journeys ? 'on' : 'off'} | ${r.rps} | ${r.cpuMicros} | ${r.storeCalls} | ${r.scriptCalls} | ${r.redisCommands} |`);
  } finally {
    await redis.close();
    redisServer.kill('SIGTERM');
    upstream.close();
    rmSync(work, { recursive: true, force: true });
  }
}

void main();
