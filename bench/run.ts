/**
 * `npm run bench`: the hub against its peers (a bare Node proxy, the same with the hub's two Redis
 * round trips, a Koa proxy, fast-gateway; bench/peers.ts), nginx and a direct call, in one run, on
 * this machine.
 *
 * On 127.0.0.1: nginx serves canned AID.02 answers (the upstream, never the bottleneck) and, in
 * the same process, a plain proxy_pass with keep-alive to it; the hub (`--workers` = cores, api-key
 * auth, request and response validation, rate limits, metrics, Redis) in front of the same
 * upstream. wrk drives each over Request Activation Code, Send CSIM Status and Request Profile
 * Status with the same connections and duration, interleaved (hub, nginx, direct, then again) so
 * drift hits all. Then latency at 1,000 req/s (hub and the Node peers, arrivals at random and in
 * step) and the hub's added latency at half its maximum (wrk paced), its CPU and RSS, CPU per
 * request of one process each (cores shared, then a core of its own), what each feature costs (one
 * hub process, each of request validation, response validation, metrics and Redis switched off in
 * turn, interleaved twice), and a config-scale run (1,000 partners, 10,000 routes). Prints tables
 * and writes JSON to bench/results/latest.json. Installs nothing: it says what is missing.
 * Options: DURATION=seconds per run (default 8), CONNECTIONS (default 32), ROUNDS of the interleaved
 * throughput runs (default 3; each target's median is reported), THROUGHPUT_ONLY=1 to stop after them.
 */
import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus, tmpdir } from 'node:os';
import path from 'node:path';
import { dump as stringify } from 'js-yaml';
import { freePort, waitForPort } from './ports';
import { createClient } from 'redis';

const ROOT = path.join(__dirname, '../..');
const MAIN = path.join(ROOT, 'dist/src/main.js');
const DURATION = Number(process.env.DURATION ?? 8);
const ROUNDS = Number(process.env.ROUNDS ?? 3);
const CONNECTIONS = Number(process.env.CONNECTIONS ?? 32);
const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
/** every hub of this run keeps its keys under it; they are deleted when the run ends */
const RUN_PREFIX = `aidgw-bench:${randomUUID()}:`;
const TOKEN = '3d8db5e5-dd84-40bf-836c-bb686f9f707e';
const EID = '89049032000001000000000831934057';
// nginx reads $ as a variable: ${d} is a literal $ (see the geo block below)
const AC = '{"iccid":"8949000000000000001","activationCode":"1${d}smdp.example.com${d}04386-AGYFT-A74Y8","profileType":"personal","swappedIccid":null}';
const STATUS = '{"profiles":[{"iccid":"8949000000000000001","status":"enabled"}]}';

type Operation = 'requestActivationCode' | 'sendCsimStatus' | 'requestProfileStatus';
const OPERATIONS: Operation[] = ['requestActivationCode', 'sendCsimStatus', 'requestProfileStatus'];

interface WrkResult {
  readonly rps: number;
  readonly p50ms: number;
  readonly p99ms: number;
  readonly non2xx: number;
}

function missing(): string[] {
  return ['nginx', 'wrk'].filter((tool) => spawnSync('sh', ['-c', `command -v ${tool}`]).status !== 0);
}

function nginxConfig(dir: string, upstreamPort: number, proxyPort: number): string {
  return `worker_processes ${availableParallelism()};
pid ${dir}/nginx.pid;
error_log ${dir}/nginx-error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path ${dir}/body; proxy_temp_path ${dir}/proxy; fastcgi_temp_path ${dir}/fcgi; uwsgi_temp_path ${dir}/uwsgi; scgi_temp_path ${dir}/scgi;
  keepalive_requests 1000000;
  geo $d { default "$"; }
  server {
    listen 127.0.0.1:${upstreamPort};
    default_type application/json;
    location /v1/activation-code-requests/ { return 200 '${AC}'; }
    location /v1/statuses/ { return 201; }
    location /v1/profiles/status/ { return 200 '${STATUS}'; }
  }
  upstream partner { server 127.0.0.1:${upstreamPort}; keepalive 64; }
  server {
    listen 127.0.0.1:${proxyPort};
    location / { proxy_pass http://partner; proxy_http_version 1.1; proxy_set_header Connection ""; }
  }
}
`;
}

/** one wrk script per operation: fresh request ids in every request, as real partners send; the
 * operation and a random run number are part of the id, so no run reuses another's ids */
function wrkScript(op: Operation): string {
  const target = op === 'requestActivationCode' || op === 'requestProfileStatus' || op === 'sendCsimStatus' ? 'mspA' : 'cmpA';
  const lines = [
    'local n = 0',
    'local threads = 0',
    'local run = 0',
    'function setup(thread) threads = threads + 1; thread:set("tid", threads) end',
    'function init(args) math.randomseed(os.time() * 1000 + tid); run = math.random(0, 4095) end',
    'function request()',
    '  n = n + 1',
    `  local id = string.format("%08x-%04x-4000-8000-%012x", tid, ${OPERATIONS.indexOf(op)} * 4096 + run, n)`,
    `  local headers = { ["api-key"] = "bench-key", ["client-id"] = "cmpA", ["target-id"] = "${target}", ["CMP-request-id"] = id, ["correlation-id"] = id, ["content-type"] = "application/json" }`,
  ];
  if (op === 'requestActivationCode') {
    lines.push(
      `  return wrk.format("POST", "/v1/activation-code-requests/${TOKEN}", headers, '{"profileType":"personal","deviceType":"tcu","eid":"${EID}","activationCodeRequestID":"' .. id .. '","replaceIccid":null}')`,
    );
  } else if (op === 'sendCsimStatus') {
    lines.push(`  return wrk.format("POST", "/v1/statuses/${TOKEN}", headers, '{"iccid":"8949000000000000001","eid":"${EID}","status":"enabled"}')`);
  } else {
    lines.push(`  return wrk.format("GET", "/v1/profiles/status/${TOKEN}", headers)`);
  }
  lines.push('end');
  return lines.join('\n');
}

/** wrk, on `cores` (a taskset list) where given */
function runWrk(url: string, script: string, seconds = DURATION, cores?: string): WrkResult {
  const wrk = ['wrk', '-t2', `-c${CONNECTIONS}`, `-d${seconds}s`, '--latency', '-s', script, url];
  const [command, ...args] = cores === undefined ? wrk : ['taskset', '-c', cores, ...wrk];
  return parseWrk(execFileSync(command, args, { encoding: 'utf8' }));
}

/**
 * The cores to measure one process on its own: the last core for it, the others for wrk (and, as
 * the kernel places them, nginx and Redis). Undefined on one core or without taskset.
 */
interface OwnCore {
  readonly process: string;
  readonly rest: string;
}

function ownCore(): OwnCore | undefined {
  const count = availableParallelism();
  if (count < 2 || spawnSync('sh', ['-c', 'command -v taskset']).status !== 0) return undefined;
  return { process: String(count - 1), rest: count === 2 ? '0' : `0-${count - 2}` };
}

/** every thread of a running process onto `cores` */
function pin(pid: number, cores: string): void {
  execFileSync('taskset', ['-a', '-cp', cores, String(pid)], { stdio: 'ignore' });
}

function parseWrk(out: string): WrkResult {
  const rps = Number(/Requests\/sec:\s+([\d.]+)/.exec(out)?.[1] ?? 0);
  const ms = (label: string) => {
    const match = new RegExp(`\\s${label}%\\s+([\\d.]+)(us|ms|s)`).exec(out);
    if (!match) return NaN;
    const value = Number(match[1]);
    return match[2] === 'us' ? value / 1000 : match[2] === 's' ? value * 1000 : value;
  };
  const non2xx = Number(/Non-2xx or 3xx responses:\s+(\d+)/.exec(out)?.[1] ?? 0);
  return { rps, p50ms: ms('50'), p99ms: ms('99'), non2xx };
}

/** how the connections space their requests at a fixed rate */
type Pacing = 'in step' | 'random';

/**
 * Latency at a fixed rate, with wrk itself (C, so the generator never competes with the hub for
 * the CPU the way a Node generator on the same two cores would). wrk's `delay()` pauses a
 * connection between an answer and its next request, so each of the connections sends one request
 * per (gap + latency): a short calibration run measures the latency, and the gap is set so that
 * the connections together offer `rps` (reported: the rate achieved). `in step`: the same gap for
 * every connection, so the connections stay in phase and arrive as bursts of all of them at once;
 * `random`: gaps drawn from an exponential distribution of the same mean, arrivals independent of
 * each other as from many partners.
 */
function wrkAtRate(url: string, op: Operation, rps: number, dir: string, pacing: Pacing, seconds = 8): WrkResult {
  const connections = 32;
  const paced = (gapMs: number, runSeconds: number): WrkResult => {
    const file = path.join(dir, `${op}-paced.lua`);
    const gap = Math.max(0, gapMs).toFixed(3);
    const delay = pacing === 'in step' ? gap : `-math.log(1 - math.random()) * ${gap}`;
    writeFileSync(file, `${wrkScript(op)}\nfunction delay() return ${delay} end\n`);
    return parseWrk(execFileSync('wrk', ['-t2', `-c${connections}`, `-d${runSeconds}s`, '--latency', '-s', file, url], { encoding: 'utf8' }));
  };
  const cycleMs = (connections * 1000) / rps;
  const calibration = paced(cycleMs, 3);
  return paced(cycleMs - calibration.p50ms, seconds);
}

function hubConfig(dir: string, upstreamUrl: string, extraPartners = 0, responseValidation = 'refuse'): void {
  mkdirSync(path.join(dir, 'partners'), { recursive: true });
  const unlimited = { requests: 1000000000, perSeconds: 60 };
  writeFileSync(
    path.join(dir, 'partners', 'cmpA.yaml'),
    stringify({ id: 'cmpA', role: 'cmp', rateLimit: unlimited, inbound: { apiKeys: ['bench-key'] }, upstream: { url: 'http://127.0.0.1:1' } }),
  );
  writeFileSync(
    path.join(dir, 'partners', 'mspA.yaml'),
    stringify({ id: 'mspA', role: 'msp', inbound: { apiKeys: ['k'] }, upstream: { url: upstreamUrl, auth: { apiKey: 'hub-key' }, connections: 64 } }),
  );
  const routes: Record<string, unknown>[] = [{ from: 'cmpA', to: 'mspA', rateLimit: unlimited, responseValidation }];
  for (let i = 0; i < extraPartners; i++) {
    const role = i % 2 === 0 ? 'msp' : 'cmp';
    writeFileSync(
      path.join(dir, 'partners', `p${i}.yaml`),
      stringify({ id: `p${i}`, role, inbound: { apiKeys: [`key-${i}`] }, upstream: { url: `http://127.0.0.1:${10000 + (i % 1000)}` } }),
    );
  }
  // 20 routes per generated pair of partners: 1,000 partners give 10,000 routes
  const cmpOps = ['requestActivationCode', 'sendCsimStatus', 'requestProfileStatus', 'requestInvalidateFederatedID'];
  const mspOps = ['sendMspToken', 'notifyMspTokenInvalid', 'sendProfileInformation', 'updateSubscriptionInfo', 'submitActivationCode'];
  for (let i = 0; i + 1 < extraPartners; i += 2) {
    const next = (i + 2) % extraPartners;
    for (const op of cmpOps) routes.push({ from: `p${i + 1}`, to: `p${i}`, operations: [op], timeoutMs: 3000 });
    for (const op of mspOps) routes.push({ from: `p${i}`, to: `p${i + 1}`, operations: [op], timeoutMs: 4000 });
    for (const op of cmpOps) routes.push({ from: `p${i + 1}`, to: `p${next}`, operations: [op], tokenBinding: 'strict' });
    for (const op of mspOps) routes.push({ from: `p${i}`, to: `p${next + 1}`, operations: [op], responseValidation: 'refuse' });
    routes.push({ from: `p${i + 1}`, to: 'mspA', operations: ['sendCsimStatus'] }, { from: `p${i + 1}`, to: 'mspA', operations: ['requestProfileStatus'] });
  }
  writeFileSync(path.join(dir, 'routes.yaml'), stringify({ defaults: { tokenBinding: 'learn' }, routes }));
}

type Peer = 'node' | 'node-redis' | 'koa' | 'fast-gateway';
const PEERS: readonly Peer[] = ['node', 'node-redis', 'koa', 'fast-gateway'];

/** a peer proxy of bench/peers.ts; undefined when it cannot start (fast-gateway not installed) */
async function startPeer(kind: Peer, port: number, upstreamUrl: string, workers: number): Promise<ChildProcess | undefined> {
  const child = spawn(process.execPath, [path.join(__dirname, 'peers.js'), kind, String(port), upstreamUrl, String(workers), REDIS_URL, `${RUN_PREFIX}peer:`], {
    stdio: ['ignore', 'ignore', 'ignore'],
  });
  const exited = new Promise<undefined>((resolve) => child.once('exit', () => resolve(undefined)));
  const started = await Promise.race([waitForPort(port).then(() => child), exited]);
  if (!started) console.error(`peer ${kind} did not start; left out`);
  return started;
}

async function startHub(
  dir: string,
  port: number,
  workers: number,
  options: { redis?: boolean; switchOff?: string; adminPort?: number } = {},
): Promise<ChildProcess> {
  const state = options.redis === false ? [] : ['--redis-url', REDIS_URL, '--redis-prefix', `${RUN_PREFIX}${randomUUID()}:`];
  const admin = options.adminPort === undefined ? 'off' : `127.0.0.1:${options.adminPort}`;
  const child = spawn(
    process.execPath,
    [MAIN, 'start', '--config', dir, '--listen', `127.0.0.1:${port}`, '--admin-listen', admin, '--workers', String(workers), ...state],
    {
      stdio: ['ignore', 'ignore', 'inherit'],
      env: { PATH: process.env.PATH, LOG_LEVEL: 'info', ...(options.switchOff ? { AID_GATEWAY_SWITCH_OFF: options.switchOff } : {}) },
    },
  );
  await waitForPort(port);
  await new Promise((r) => setTimeout(r, 1000));
  return child;
}

/** one hub process with one feature off at a time (Request Activation Code): what each costs */
async function featureCosts(work: string, upstreamUrl: string, script: string): Promise<FeatureRun[]> {
  const variants: { readonly feature: string; readonly config: string; readonly redis?: boolean; readonly switchOff?: string }[] = [
    { feature: 'everything on', config: 'small' },
    { feature: 'request validation off', config: 'small', switchOff: 'requestValidation' },
    { feature: 'response validation off', config: 'noResponseValidation' },
    { feature: 'metrics off', config: 'small', switchOff: 'metrics' },
    { feature: 'Redis -> memory store', config: 'small', redis: false },
  ];
  hubConfig(path.join(work, 'noResponseValidation'), upstreamUrl, 0, 'off');
  const runs = new Map<string, WrkResult[]>();
  for (let round = 0; round < 2; round++) {
    for (const variant of variants) {
      const port = await freePort();
      const hub = await startHub(path.join(work, variant.config), port, 1, variant);
      try {
        runWrk(`http://127.0.0.1:${port}`, script, 2);
        const result = runWrk(`http://127.0.0.1:${port}`, script);
        runs.set(variant.feature, [...(runs.get(variant.feature) ?? []), result]);
      } finally {
        hub.kill('SIGTERM');
        await new Promise((r) => hub.once('exit', r));
      }
    }
  }
  const baseline = Math.max(...(runs.get('everything on') ?? []).map((r) => r.rps));
  return variants.map(({ feature }) => {
    const best = (runs.get(feature) ?? []).reduce((a, b) => (b.rps > a.rps ? b : a));
    return { feature, rps: Math.round(best.rps), p50ms: best.p50ms, p99ms: best.p99ms, overEverythingOn: Number((best.rps / baseline).toFixed(3)) };
  });
}

interface PerRequest {
  readonly process: string;
  readonly rps: number;
  /** the cores shared with wrk, nginx and Redis */
  readonly cpuMicros: number;
  /** on a core of its own (undefined on one core or without taskset) */
  readonly ownCoreRps?: number;
  readonly ownCoreCpuMicros?: number;
  readonly storeCalls?: number;
  readonly redisCommands?: number;
}

/**
 * One process each (the hub with every policy on, the Node peers), Request Activation Code for
 * DURATION: process CPU over the requests answered; for the hub also its store calls (its own
 * counter, each at least one Redis round trip) and the Redis commands (INFO commandstats) per
 * request. Twice: first with the cores shared with wrk, nginx and Redis as the kernel places them,
 * then with the process on a core of its own: a process that shares its core is switched out and
 * back in mid-burst and pays more per request the more often it waits (the hub waits on Redis
 * twice per request), so the second is what the process itself costs.
 */
async function costPerRequest(config: string, upstreamUrl: string, script: string): Promise<PerRequest[]> {
  const results: PerRequest[] = [];
  const cores = ownCore();
  const redis = createClient({ url: REDIS_URL });
  await redis.connect();
  try {
    for (const kind of ['hub', 'node', 'node-redis', 'koa'] as const) {
      const port = await freePort();
      const adminPort = await freePort();
      const child = kind === 'hub' ? await startHub(config, port, 1, { adminPort }) : await startPeer(kind, port, upstreamUrl, 1);
      if (!child) continue;
      try {
        runWrk(`http://127.0.0.1:${port}`, script, 2);
        const storeBefore = kind === 'hub' ? await storeCalls(adminPort) : 0;
        const commandsBefore = await redisCommands(redis);
        const cpuBefore = usage(child.pid as number).cpuSeconds;
        const run = runWrk(`http://127.0.0.1:${port}`, script);
        const cpu = usage(child.pid as number).cpuSeconds - cpuBefore;
        const requests = run.rps * DURATION;
        const perRequest = (n: number) => Number((n / requests).toFixed(2));
        const counts =
          kind === 'hub'
            ? { storeCalls: perRequest((await storeCalls(adminPort)) - storeBefore), redisCommands: perRequest((await redisCommands(redis)) - commandsBefore) }
            : {};
        const own = cores ? onOwnCore(child.pid as number, `http://127.0.0.1:${port}`, script, cores) : {};
        results.push({ process: kind, rps: Math.round(run.rps), cpuMicros: Math.round((cpu / requests) * 1e6), ...counts, ...own });
      } finally {
        child.kill('SIGTERM');
        await new Promise((r) => child.once('exit', r));
      }
    }
  } finally {
    await redis.close();
  }
  return results;
}

/** a running process's CPU per request on a core of its own, wrk on the others */
function onOwnCore(pid: number, url: string, script: string, cores: OwnCore): Pick<PerRequest, 'ownCoreRps' | 'ownCoreCpuMicros'> {
  pin(pid, cores.process);
  runWrk(url, script, 1, cores.rest);
  const cpuBefore = usage(pid).cpuSeconds;
  const run = runWrk(url, script, DURATION, cores.rest);
  const requests = run.rps * DURATION;
  return { ownCoreRps: Math.round(run.rps), ownCoreCpuMicros: Math.round(((usage(pid).cpuSeconds - cpuBefore) / requests) * 1e6) };
}

/** the hub's store calls so far, from its own metric */
async function storeCalls(adminPort: number): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${adminPort}/metrics`)).text();
  return [...text.matchAll(/^aid_gateway_store_operation_seconds_count\{[^}]*\} (\d+)/gm)].reduce((sum, m) => sum + Number(m[1]), 0);
}

/** every command Redis has run (INFO commandstats), the INFO itself left out */
async function redisCommands(redis: ReturnType<typeof createClient>): Promise<number> {
  const info = await redis.info('commandstats');
  return [...info.matchAll(/^cmdstat_(\w+):calls=(\d+)/gm)].filter((m) => m[1] !== 'info').reduce((sum, m) => sum + Number(m[2]), 0);
}

interface FeatureRun {
  readonly feature: string;
  readonly rps: number;
  readonly p50ms: number;
  readonly p99ms: number;
  readonly overEverythingOn: number;
}

/** CPU seconds and RSS of a process and its children, from /proc */
function usage(pid: number): { cpuSeconds: number; rssMb: number[] } {
  const pids = [
    pid,
    ...String(spawnSync('pgrep', ['-P', String(pid)]).stdout)
      .split('\n')
      .filter(Boolean)
      .map(Number),
  ];
  const tick = 100;
  let cpu = 0;
  const rss: number[] = [];
  for (const p of pids) {
    try {
      const stat = readFileSync(`/proc/${p}/stat`, 'utf8').split(') ')[1].split(' ');
      cpu += (Number(stat[11]) + Number(stat[12])) / tick;
      const vmRss = /VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${p}/status`, 'utf8'))?.[1];
      if (p !== pid || pids.length === 1) rss.push(Math.round(Number(vmRss) / 1024));
    } catch {
      // the process is gone
    }
  }
  return { cpuSeconds: cpu, rssMb: rss };
}

function configScale(dir: string, upstreamUrl: string): { loadMs: number; rssMb: number; partners: number; routes: number } {
  hubConfig(dir, upstreamUrl, 998);
  const script = `const t=performance.now();const c=require(${JSON.stringify(path.join(ROOT, 'dist/src/config/load.js'))}).loadConfig(${JSON.stringify(dir)},require(${JSON.stringify(path.join(ROOT, 'dist/src/dialects/index.js'))}).DIALECTS,{});const ms=performance.now()-t;global.gc&&global.gc();console.log(JSON.stringify({loadMs:ms,rssMb:Math.round(process.memoryUsage().rss/1048576),partners:c.partners.size,routes:c.routes.size}))`;
  return JSON.parse(execFileSync(process.execPath, ['-e', script], { encoding: 'utf8' })) as {
    loadMs: number;
    rssMb: number;
    partners: number;
    routes: number;
  };
}

/** a run leaves millions of request ids and replay records behind, with TTLs of up to a week */
async function deleteRunKeys(): Promise<void> {
  const client = createClient({ url: REDIS_URL });
  await client.connect();
  try {
    for await (const keys of client.scanIterator({ MATCH: `${RUN_PREFIX}*`, COUNT: 5000 })) {
      if (keys.length > 0) await client.unlink(keys);
    }
  } finally {
    await client.close();
  }
}

interface Throughput {
  readonly operation: Operation;
  readonly rps: Record<string, number>;
  readonly hubOver: Record<string, number>;
  readonly non2xx: Record<string, number>;
  readonly rounds: Record<string, number[]>;
}

/** the interleaved runs' table: each target's median req/s, the hub's ratios, every round's figure */
function printThroughput(machine: { cpus: number; model?: string; workers: number }, names: string[], throughput: readonly Throughput[]): void {
  console.log(
    `\naid-gateway bench: ${machine.cpus} x ${machine.model}, Node ${process.version}, wrk -t2 -c${CONNECTIONS} -d${DURATION}s, hub and Node peers --workers ${machine.workers}, Redis, median of ${ROUNDS} interleaved rounds\n`,
  );
  const others = names.filter((n) => n !== 'hub');
  console.log(`| operation | ${names.map((n) => `${n} req/s`).join(' | ')} | ${others.map((n) => `hub / ${n}`).join(' | ')} |`);
  console.log(`|---|${names.map(() => '---').join('|')}|${others.map(() => '---').join('|')}|`);
  for (const t of throughput) console.log(`| ${t.operation} | ${names.map((n) => t.rps[n]).join(' | ')} | ${others.map((n) => t.hubOver[n]).join(' | ')} |`);
  for (const t of throughput) console.log(`${t.operation}, each round: ${names.map((n) => `${n} ${t.rounds[n].join(' / ')}`).join('; ')}`);
  const refused = throughput.flatMap((t) => names.filter((n) => t.non2xx[n] > 0).map((n) => `${n} ${t.operation}: ${t.non2xx[n]}`));
  console.log(
    refused.length === 0
      ? 'every answer of every run was 2xx'
      : `answers other than 2xx (a run that counts them measured something else): ${refused.join('; ')}`,
  );
}

async function main(): Promise<void> {
  const absent = missing();
  if (absent.length > 0) {
    console.error(`missing: ${absent.join(', ')} (Debian packages: ${absent.join(' ')}); nothing was installed`);
    process.exit(1);
  }
  const work = mkdtempSync(path.join(tmpdir(), 'aidgw-bench-'));
  const [upstreamPort, proxyPort, hubPort] = [await freePort(), await freePort(), await freePort()];
  writeFileSync(path.join(work, 'nginx.conf'), nginxConfig(work, upstreamPort, proxyPort));
  const nginx = spawn('nginx', ['-p', work, '-c', path.join(work, 'nginx.conf'), '-g', 'daemon off;'], { stdio: 'inherit' });
  const children: ChildProcess[] = [nginx];
  try {
    await waitForPort(proxyPort);
    const upstreamUrl = `http://127.0.0.1:${upstreamPort}`;
    const small = path.join(work, 'small');
    hubConfig(small, upstreamUrl);
    const workers = availableParallelism();
    const hub = await startHub(small, hubPort, workers);
    children.push(hub);
    const peers: Partial<Record<Peer, string>> = {};
    for (const kind of PEERS) {
      const port = await freePort();
      const peer = await startPeer(kind, port, upstreamUrl, workers);
      if (!peer) continue;
      children.push(peer);
      peers[kind] = `http://127.0.0.1:${port}`;
    }
    const scripts = Object.fromEntries(
      OPERATIONS.map((op) => {
        const file = path.join(work, `${op}.lua`);
        writeFileSync(file, wrkScript(op));
        return [op, file];
      }),
    ) as Record<Operation, string>;
    const targets: Record<string, string> = { hub: `http://127.0.0.1:${hubPort}`, ...peers, nginx: `http://127.0.0.1:${proxyPort}`, direct: upstreamUrl };
    // warm-up: JIT, pools, the token binding learnt
    for (const url of Object.values(targets)) runWrk(url, scripts.requestActivationCode, 2);

    const runs: Record<string, WrkResult[]> = {};
    const before = usage(hub.pid as number);
    let hubRequests = 0;
    for (let round = 0; round < ROUNDS; round++) {
      for (const op of OPERATIONS) {
        for (const [name, url] of Object.entries(targets)) {
          const result = runWrk(url, scripts[op]);
          (runs[`${op} ${name}`] ??= []).push(result);
          if (name === 'hub') hubRequests += result.rps * DURATION;
        }
      }
    }
    const after = usage(hub.pid as number);
    // the median round of each target (of an even number, the lower of the two in the middle)
    const median = (key: string) => [...runs[key]].sort((a, b) => a.rps - b.rps)[Math.floor((runs[key].length - 1) / 2)];
    const names = Object.keys(targets);
    const throughput = OPERATIONS.map((op) => {
      const rps = Object.fromEntries(names.map((name) => [name, Math.round(median(`${op} ${name}`).rps)]));
      const ratios = Object.fromEntries(names.filter((n) => n !== 'hub').map((n) => [n, Number((rps.hub / rps[n]).toFixed(3))]));
      const non2xx = Object.fromEntries(names.map((name) => [name, runs[`${op} ${name}`].reduce((sum, r) => sum + r.non2xx, 0)]));
      const rounds = Object.fromEntries(names.map((name) => [name, runs[`${op} ${name}`].map((r) => Math.round(r.rps))]));
      return { operation: op, rps, hubOver: ratios, non2xx, rounds };
    });
    const machine = {
      cpus: cpus().length,
      model: cpus()[0]?.model,
      node: process.version,
      duration: DURATION,
      connections: CONNECTIONS,
      workers,
      rounds: ROUNDS,
    };
    printThroughput(machine, names, throughput);
    if (process.env.THROUGHPUT_ONLY) {
      mkdirSync(path.join(ROOT, 'bench/results'), { recursive: true });
      writeFileSync(path.join(ROOT, 'bench/results/throughput.json'), `${JSON.stringify({ machine, throughput }, null, 2)}\n`);
      return;
    }
    const cpuPer10k = ((after.cpuSeconds - before.cpuSeconds) / hubRequests) * 10000;
    const pacings: Pacing[] = ['random', 'in step'];
    const atRate = pacings.map((pacing) => {
      const byName: Record<string, WrkResult> = { hub: wrkAtRate(targets.hub, 'requestActivationCode', 1000, work, pacing) };
      for (const kind of ['node', 'node-redis'] as const) {
        const url = peers[kind];
        if (url) byName[kind] = wrkAtRate(url, 'requestActivationCode', 1000, work, pacing);
      }
      return { pacing, byName };
    });
    const halfLoad = Math.round(throughput[0].rps.hub / 2);
    const viaHub = wrkAtRate(targets.hub, 'requestActivationCode', halfLoad, work, 'random');
    const direct = wrkAtRate(targets.direct, 'requestActivationCode', halfLoad, work, 'random');
    hub.kill('SIGTERM');
    for (const child of children.slice(2)) child.kill('SIGTERM');
    const perRequest = await costPerRequest(small, upstreamUrl, scripts.requestActivationCode);
    const features = await featureCosts(work, upstreamUrl, scripts.requestActivationCode);

    const scale = configScale(path.join(work, 'scale'), upstreamUrl);

    const result = {
      machine,
      throughput,
      p99At1000: atRate.map(({ pacing, byName }) => ({
        pacing,
        ...Object.fromEntries(Object.entries(byName).map(([name, r]) => [name, { rps: Math.round(r.rps), p50ms: r.p50ms, p99ms: r.p99ms }])),
      })),
      addedLatencyAtHalfLoad: {
        rps: halfLoad,
        hub: viaHub,
        direct,
        addedP50ms: Number((viaHub.p50ms - direct.p50ms).toFixed(3)),
        addedP99ms: Number((viaHub.p99ms - direct.p99ms).toFixed(3)),
      },
      hubResources: { cpuSecondsPer10k: Number(cpuPer10k.toFixed(3)), rssMbPerWorker: after.rssMb },
      perRequest,
      featureCosts: features,
      configScale: scale,
    };
    console.log('\nRequest Activation Code at 1,000 req/s offered, 32 connections:');
    for (const { pacing, byName } of atRate) {
      console.log(
        `- ${pacing}: ${Object.entries(byName)
          .map(([n, r]) => `${n} p50 ${r.p50ms.toFixed(2)} ms, p99 ${r.p99ms.toFixed(2)} ms (${r.rps} req/s achieved)`)
          .join('; ')}`,
      );
    }
    const a = result.addedLatencyAtHalfLoad;
    console.log(
      `at ${a.rps} req/s offered at random (half the hub's max; achieved: hub ${Math.round(a.hub.rps)}, direct ${Math.round(a.direct.rps)}): hub p50 ${a.hub.p50ms.toFixed(3)} ms, p99 ${a.hub.p99ms.toFixed(3)} ms; direct p50 ${a.direct.p50ms.toFixed(3)} ms, p99 ${a.direct.p99ms.toFixed(3)} ms`,
    );
    console.log(
      `hub: ${result.hubResources.cpuSecondsPer10k} CPU seconds per 10k requests; RSS per worker ${result.hubResources.rssMbPerWorker.join(', ')} MB`,
    );
    console.log('\none process each, Request Activation Code, CPU per request (process CPU / requests answered):\n');
    console.log(
      '| process | req/s, cores shared | CPU µs per request, cores shared | req/s, own core | CPU µs per request, own core | store calls (round trips) per request | Redis commands per request (inside scripts too) |',
    );
    console.log('|---|---|---|---|---|---|---|');
    for (const r of perRequest)
      console.log(
        `| ${r.process} | ${r.rps} | ${r.cpuMicros} | ${r.ownCoreRps ?? ''} | ${r.ownCoreCpuMicros ?? ''} | ${r.storeCalls ?? ''} | ${r.redisCommands ?? ''} |`,
      );
    console.log('\none hub process, Request Activation Code, one feature off at a time:\n');
    console.log('| run | req/s | p50 ms | p99 ms | / everything on |');
    console.log('|---|---|---|---|---|');
    for (const f of features) console.log(`| ${f.feature} | ${f.rps} | ${f.p50ms.toFixed(2)} | ${f.p99ms.toFixed(2)} | ${f.overEverythingOn} |`);
    console.log(`\nconfig scale: ${scale.partners} partners, ${scale.routes} routes loaded in ${scale.loadMs.toFixed(0)} ms, RSS ${scale.rssMb} MB`);
    mkdirSync(path.join(ROOT, 'bench/results'), { recursive: true });
    writeFileSync(path.join(ROOT, 'bench/results/latest.json'), `${JSON.stringify(result, null, 2)}\n`);
  } finally {
    for (const child of children) child.kill('SIGTERM');
    rmSync(work, { recursive: true, force: true });
    await deleteRunKeys();
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
