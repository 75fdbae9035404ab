/**
 * `npm run bench:tracing`: what OpenTelemetry tracing costs per request. One hub process (memory
 * store, every policy of a route on) serves Request Activation Code to a canned upstream, three
 * ways in turn, interleaved twice in one run: tracing off; on, every request sampled and exported
 * over OTLP/HTTP to a collector stand-in (which reads and counts what arrives); on, every request
 * sampled out (`OTEL_TRACES_SAMPLER=traceidratio`, ratio 0: the spans are made, nothing is sent).
 * For each: requests per second, and the hub's CPU per request (process CPU over requests answered)
 * with the hub on a core of its own and the load generator, upstream and collector on the others.
 * Needs nothing but Node. `CALLGRIND=1` counts instructions per request instead, under valgrind's
 * callgrind (exact and the same from run to run, but about a hundred times slower): the hub is
 * warmed up, its counters zeroed, then N requests are sent one after another.
 * Options: DURATION=seconds per run (default 8), CONNECTIONS (default 16), N (callgrind, default 400),
 * ONLY (callgrind: the variants whose name contains it).
 */
import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import { availableParallelism, cpus, tmpdir } from 'node:os';
import path from 'node:path';
import { activationCodeRequest, writeHubConfig } from './hubConfig';
import { Pool } from 'undici';

const ROOT = path.join(__dirname, '../..');
const MAIN = path.join(ROOT, 'dist/src/main.js');
const DURATION = Number(process.env.DURATION ?? 8);
const CONNECTIONS = Number(process.env.CONNECTIONS ?? 16);
const CALLGRIND = process.env.CALLGRIND === '1';
const N = Number(process.env.N ?? 400);
const TOKEN = '3d8db5e5-dd84-40bf-836c-bb686f9f707e';
const ANSWER = JSON.stringify({
  iccid: '8949000000000000001',
  activationCode: '1$smdp.example.com$04386-AGYFT-A74Y8',
  profileType: 'personal',
  swappedIccid: null,
});

interface Variant {
  readonly name: string;
  readonly args: readonly string[];
  readonly env: Readonly<Record<string, string>>;
}

interface Run {
  readonly rps: number;
  readonly cpuMicros: number;
  readonly spans: number;
}

function listen(handler: http.RequestListener): Promise<http.Server> {
  const server = http.createServer(handler);
  server.keepAliveTimeout = 60000;
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

function urlOf(server: http.Server): string {
  return `http://127.0.0.1:${(server.address() as net.AddressInfo).port}`;
}

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const server = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

async function waitForPort(port: number, tries = 600): Promise<void> {
  for (let i = 0; i < tries; i++) {
    const open = await new Promise<boolean>((resolve) => {
      const socket = net.connect(port, '127.0.0.1', () => resolve(socket.end() !== undefined));
      socket.on('error', () => resolve(false));
    });
    if (open) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`nothing listens on ${port}`);
}

/** the CPU seconds a process has used (user and system, all its threads) */
function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return (Number(stat[11]) + Number(stat[12])) / 100;
}

/** the last core for the hub, the others for everything else; undefined on one core or without taskset */
function cores(): { hub: string; rest: string } | undefined {
  const count = availableParallelism();
  if (count < 2 || spawnSync('sh', ['-c', 'command -v taskset']).status !== 0) return undefined;
  return { hub: String(count - 1), rest: count === 2 ? '0' : `0-${count - 2}` };
}

function pin(pid: number, list: string): void {
  execFileSync('taskset', ['-a', '-cp', list, String(pid)], { stdio: 'ignore' });
}

/** Request Activation Code with a fresh request id: 2xx answers counted */
async function send(pool: Pool): Promise<boolean> {
  const { headers, body } = activationCodeRequest();
  const res = await pool.request({ method: 'POST', path: `/v1/activation-code-requests/${TOKEN}`, headers, body });
  await res.body.dump();
  return res.statusCode >= 200 && res.statusCode < 300;
}

/** CONNECTIONS loops of one request after another for `seconds`: the 2xx answers */
async function load(url: string, seconds: number): Promise<number> {
  const pool = new Pool(url, { connections: CONNECTIONS, pipelining: 1 });
  const end = Date.now() + seconds * 1000;
  let answered = 0;
  let refused = 0;
  await Promise.all(
    Array.from({ length: CONNECTIONS }, async () => {
      while (Date.now() < end) {
        if (await send(pool)) answered++;
        else refused++;
      }
    }),
  );
  await pool.close();
  if (refused > 0) throw new Error(`${refused} answers other than 2xx: the run measured something else`);
  return answered;
}

async function startHub(dir: string, variant: Variant, prefix: readonly string[] = []): Promise<{ child: ChildProcess; url: string }> {
  const port = await freePort();
  const hubArgs = [MAIN, 'start', '--config', dir, '--listen', `127.0.0.1:${port}`, '--admin-listen', 'off', '--workers', '1', ...variant.args];
  const [command, ...args] = [...prefix, process.execPath, ...hubArgs];
  const child = spawn(command, args, { stdio: ['ignore', 'ignore', 'inherit'], env: { PATH: process.env.PATH, LOG_LEVEL: 'info', ...variant.env } });
  // under callgrind the hub takes minutes to start
  await waitForPort(port, prefix.length > 0 ? 6000 : 600);
  return { child, url: `http://127.0.0.1:${port}` };
}

async function stop(child: ChildProcess): Promise<void> {
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  await exited;
}

async function measure(dir: string, variant: Variant, collector: { spans: number }, placement: ReturnType<typeof cores>): Promise<Run> {
  const { child, url } = await startHub(dir, variant);
  try {
    if (placement) pin(child.pid as number, placement.hub);
    await load(url, 2);
    const spansBefore = collector.spans;
    const before = cpuSeconds(child.pid as number);
    const answered = await load(url, DURATION);
    const used = cpuSeconds(child.pid as number) - before;
    // what the hub still holds goes out within its batch delay
    await new Promise((r) => setTimeout(r, 600));
    return { rps: Math.round(answered / DURATION), cpuMicros: Math.round((used / answered) * 1e6), spans: collector.spans - spansBefore };
  } finally {
    await stop(child);
  }
}

/** instructions per request under callgrind: warmed up, zeroed, N requests one after another, dumped */
async function instructions(dir: string, variant: Variant, work: string): Promise<number> {
  const out = path.join(work, `callgrind-${randomUUID()}`);
  mkdirSync(out);
  const { child, url } = await startHub(dir, variant, ['valgrind', '--tool=callgrind', `--callgrind-out-file=${out}/callgrind.out.%p`, '--dump-instr=no']);
  try {
    const pool = new Pool(url, { connections: 1 });
    // the first requests under callgrind can outlast the listener's timeouts: those are sent again
    for (let i = 0; i < 300; i++) await send(pool).catch(() => send(pool));
    // the node process under valgrind is the spawned one itself
    execFileSync('callgrind_control', ['-z', String(child.pid)], { stdio: 'ignore' });
    for (let i = 0; i < N; i++) if (!(await send(pool))) throw new Error('an answer other than 2xx');
    execFileSync('callgrind_control', ['-d', String(child.pid)], { stdio: 'ignore' });
    await pool.close();
  } finally {
    await stop(child);
  }
  // the dump after zeroing is the file with the highest part number (callgrind.out.PID.N)
  const dumps = readdirSync(out).filter((f) => /\.\d+$/.test(f) && !f.endsWith(`.${child.pid}`));
  const last = dumps.sort((a, b) => Number(a.split('.').pop()) - Number(b.split('.').pop())).pop();
  if (last === undefined) throw new Error('callgrind wrote no dump');
  const totals = /^(?:summary|totals):\s+(\d+)/m.exec(readFileSync(path.join(out, last), 'utf8'));
  if (!totals) throw new Error('no totals in the callgrind dump');
  return Math.round(Number(totals[1]) / N);
}

async function main(): Promise<void> {
  if (!existsSync(MAIN)) throw new Error('build first: npm run build');
  if (CALLGRIND && spawnSync('sh', ['-c', 'command -v valgrind && command -v callgrind_control']).status !== 0)
    throw new Error('CALLGRIND=1 needs valgrind (with callgrind_control)');
  const upstream = await listen((req, res) => {
    req.resume();
    req.on('end', () => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(ANSWER);
    });
  });
  const collector = { spans: 0 };
  const sink = await listen((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { resourceSpans?: { scopeSpans?: { spans?: unknown[] }[] }[] };
      for (const r of body.resourceSpans ?? []) for (const s of r.scopeSpans ?? []) collector.spans += s.spans?.length ?? 0;
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{}');
    });
  });
  const work = mkdtempSync(path.join(tmpdir(), 'aidgw-bench-tracing-'));
  const dir = path.join(work, 'config');
  writeHubConfig(dir, urlOf(upstream), { route: { responseValidation: 'refuse' } });
  const variants: Variant[] = [
    { name: 'tracing off', args: [], env: {} },
    { name: 'tracing on, every request exported', args: ['--otlp-endpoint', urlOf(sink)], env: { OTEL_BSP_SCHEDULE_DELAY: '200' } },
    {
      name: 'tracing on, every request sampled out',
      args: ['--otlp-endpoint', urlOf(sink)],
      env: { OTEL_TRACES_SAMPLER: 'traceidratio', OTEL_TRACES_SAMPLER_ARG: '0' },
    },
  ];
  try {
    if (CALLGRIND) {
      // ONLY=sampled: the variants whose name has that text (a run of all three takes half an hour)
      const only = process.env.ONLY;
      console.log(`\naid-gateway tracing bench under callgrind: ${N} Request Activation Codes one after another, after 300 to warm up\n`);
      console.log('| run | instructions per request | / tracing off |');
      console.log('|---|---|---|');
      let off: number | undefined;
      for (const variant of variants.filter((v) => only === undefined || v.name.includes(only))) {
        const count = await instructions(dir, variant, work);
        if (variant === variants[0]) off = count;
        console.log(`| ${variant.name} | ${count} | ${off === undefined ? '' : (count / off).toFixed(3)} |`);
      }
      return;
    }
    const placement = cores();
    if (placement) pin(process.pid, placement.rest);
    const runs = new Map<string, Run[]>();
    for (let round = 0; round < 2; round++) {
      for (const variant of variants) runs.set(variant.name, [...(runs.get(variant.name) ?? []), await measure(dir, variant, collector, placement)]);
    }
    console.log(
      `\naid-gateway tracing bench: ${cpus().length} x ${cpus()[0]?.model}, Node ${process.version}, ${CONNECTIONS} connections, ${DURATION} s per run, two rounds interleaved${placement ? `, the hub alone on core ${placement.hub}` : ''}\n`,
    );
    console.log('| run | req/s (round 1, 2) | CPU µs per request (round 1, 2) | spans received |');
    console.log('|---|---|---|---|');
    for (const variant of variants) {
      const r = runs.get(variant.name) ?? [];
      console.log(`| ${variant.name} | ${r.map((x) => x.rps).join(', ')} | ${r.map((x) => x.cpuMicros).join(', ')} | ${r.map((x) => x.spans).join(', ')} |`);
    }
  } finally {
    upstream.close();
    sink.close();
    upstream.closeAllConnections();
    sink.closeAllConnections();
    rmSync(work, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
