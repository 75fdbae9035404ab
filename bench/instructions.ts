/**
 * `npm run bench:instructions`: what one request costs the hub and its peers, counted rather than
 * timed, so that a change of a few percent shows whatever else the machine does.
 *
 * Each target is one process (the hub on Redis and in memory with every policy on, and the peers of
 * bench/peers.ts: the bare Node proxy, the same with the hub's two Redis round trips and nothing
 * else, the Koa proxy, fast-gateway) run as `node --predictable`
 * under callgrind with instrumentation off from the start. The bench's own Node upstream serves
 * canned AID.02 answers; one client here sends Request Activation Codes with fresh request ids over
 * one keep-alive connection, one at a time: WARMUP of them, then instrumentation on
 * (`callgrind_control -i on`) for COUNT, then off. Instructions per request are callgrind's total
 * over COUNT, less what V8's compilers took of it (a cost paid once; see callgrindProfile.ts),
 * which the table gives beside. System calls per request come from a second run of the same process without
 * valgrind: strace counts (-c -f) only while the COUNT measured requests run. Each target twice;
 * prints the table and the ratios to fast-gateway and writes bench/results/instructions.json.
 * Needs valgrind and strace (Debian packages); installs nothing.
 * Options: WARMUP (default 300), COUNT (default 500), ROUNDS (default 2), ONLY (targets, comma-separated),
 * PROFILE=1 (each target's functions by instructions per request, their own and with their callees,
 * JavaScript's named: bench/results/profile/<target>.txt; Node then runs with --perf-basic-prof).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { compilation, functionsByCost } from './callgrindProfile';
import { writeHubConfig } from './hubConfig';
import { createClient } from 'redis';
import { freePort, waitForPort } from './ports';

const ROOT = path.join(__dirname, '../..');
const MAIN = path.join(ROOT, 'dist/src/main.js');
const PEERS = path.join(__dirname, 'peers.js');
const WARMUP = Number(process.env.WARMUP ?? 300);
const COUNT = Number(process.env.COUNT ?? 500);
const ROUNDS = Number(process.env.ROUNDS ?? 2);
const PROFILE = Boolean(process.env.PROFILE);
const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
// as short as a deployment's prefix (`aidgw:`): every key a script call sends carries it, and each
// byte of a command is encoded and written (two UUIDs here cost the hub ~3 % of its request)
const RUN_PREFIX = `aidgw-bench:${randomBytes(4).toString('hex')}:`;
let runs = 0;
/** a key prefix of this run's own for one process */
const processPrefix = () => `${RUN_PREFIX}${(runs += 1)}:`;
const TOKEN = '3d8db5e5-dd84-40bf-836c-bb686f9f707e';
const EID = '89049032000001000000000831934057';
const AC = '{"iccid":"8949000000000000001","activationCode":"1$smdp.example.com$04386-AGYFT-A74Y8","profileType":"personal","swappedIccid":null}';

/** a process under valgrind runs tens of times slower: the partner call's budget is long enough
 * that no request of the bench goes asynchronous (201) for it */
const CALL_BUDGET_MS = 120_000;

type Peer = 'bare Node proxy' | 'Node + Redis' | 'Koa proxy' | 'fast-gateway';
type Target = 'hub (Redis)' | 'hub (memory)' | Peer;
const TARGETS: readonly Target[] = ['hub (Redis)', 'hub (memory)', 'bare Node proxy', 'Node + Redis', 'Koa proxy', 'fast-gateway'];
const PEER_KIND: Record<Peer, string> = { 'bare Node proxy': 'node', 'Node + Redis': 'node-redis', 'Koa proxy': 'koa', 'fast-gateway': 'fast-gateway' };

/** the upstream: Request Activation Code's canned answer */
function upstream(): Promise<{ server: http.Server; url: string }> {
  const server = http.createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(AC) });
      res.end(AC);
    });
  });
  server.keepAliveTimeout = 600_000;
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () => resolve({ server, url: `http://127.0.0.1:${(server.address() as { port: number }).port}` })),
  );
}

/** the command line of a target's process, Node's own flags first */
function command(target: Target, port: number, config: string, upstreamUrl: string): { args: string[]; env: NodeJS.ProcessEnv } {
  const env = { PATH: process.env.PATH, LOG_LEVEL: 'info' };
  if (target in PEER_KIND) {
    const peer = [PEERS, PEER_KIND[target as Peer], String(port), upstreamUrl, '1'];
    return { args: target === 'Node + Redis' ? [...peer, REDIS_URL, processPrefix()] : peer, env };
  }
  const state = target === 'hub (Redis)' ? ['--redis-url', REDIS_URL, '--redis-prefix', processPrefix()] : [];
  return { args: [MAIN, 'start', '--config', config, '--listen', `127.0.0.1:${port}`, '--admin-listen', 'off', '--workers', '1', ...state], env };
}

/** `count` Request Activation Codes, one at a time over one keep-alive connection */
async function drive(agent: http.Agent, port: number, count: number): Promise<void> {
  for (let i = 0; i < count; i++) {
    const id = randomUUID();
    const body = `{"profileType":"personal","deviceType":"tcu","eid":"${EID}","activationCodeRequestID":"${id}","replaceIccid":null}`;
    const status = await new Promise<number>((resolve, reject) => {
      const req = http.request(
        {
          agent,
          host: '127.0.0.1',
          port,
          method: 'POST',
          path: `/v1/activation-code-requests/${TOKEN}`,
          headers: {
            'api-key': 'bench-key',
            'client-id': 'cmpA',
            'target-id': 'mspA',
            'CMP-request-id': id,
            'correlation-id': id,
            'content-type': 'application/json',
            'content-length': Buffer.byteLength(body),
          },
        },
        (res) => {
          res.resume();
          res.on('end', () => resolve(res.statusCode ?? 0));
        },
      );
      req.on('error', reject);
      req.end(body);
    });
    if (status !== 200) throw new Error(`answer ${status} at request ${i}`);
  }
}

function run(cmd: string, args: string[]): void {
  const result = spawnSync(cmd, args, { encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`${cmd} ${args.join(' ')}: ${result.stderr}`);
}

async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  await exited;
}

/** what callgrind counted per measured request: all of it, and the part V8's compilers took (see
 * `compilation`), which a process pays once, not per request, however long it runs */
interface Counted {
  readonly all: number;
  readonly compilation: number;
}

/** instructions per measured request under callgrind */
async function instructions(target: Target, config: string, upstreamUrl: string, work: string): Promise<Counted> {
  const port = await freePort();
  const { args, env } = command(target, port, config, upstreamUrl);
  const outDir = mkdtempSync(path.join(work, 'cg-'));
  const child = spawn(
    'valgrind',
    [
      '--tool=callgrind',
      '--instr-atstart=no',
      `--callgrind-out-file=${outDir}/out.%p`,
      process.execPath,
      '--predictable',
      ...(PROFILE ? ['--perf-basic-prof'] : []),
      ...args,
    ],
    { env, stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  try {
    await waitForPort(port, 900_000);
    await drive(agent, port, WARMUP);
    const pid = String(child.pid);
    run('callgrind_control', ['-i', 'on', pid]);
    await drive(agent, port, COUNT);
    run('callgrind_control', ['-i', 'off', pid]);
    // a process killed by a signal writes nothing: the counts are dumped while it runs
    run('callgrind_control', ['-d', pid]);
  } catch (err) {
    console.error(stderr.slice(-2000));
    throw err;
  } finally {
    agent.destroy();
    await stop(child);
  }
  const dump = readdirSync(outDir).find((f) => f.endsWith('.1'));
  const total = dump ? Number(/^totals: (\d+)/m.exec(readFileSync(path.join(outDir, dump), 'utf8'))?.[1] ?? 0) : 0;
  if (!dump || total === 0) throw new Error(`${target}: callgrind counted nothing`);
  if (PROFILE) writeProfile(target, path.join(outDir, dump), child.pid as number);
  return { all: total / COUNT, compilation: compilation(path.join(outDir, dump)) / COUNT };
}

/** the measured requests' functions by cost, named through the map Node wrote (V8 writes it in /tmp) */
function writeProfile(target: Target, dump: string, pid: number): void {
  const map = path.join('/tmp', `perf-${pid}.map`);
  const dir = path.join(ROOT, 'bench/results/profile');
  mkdirSync(dir, { recursive: true });
  const file = path.join(dir, `${target.replace(/[^a-zA-Z0-9]+/g, '-').replace(/-$/, '')}.txt`);
  // paths as the project names them: this checkout's without its place, Node's from its deps/
  const named = (lines: string[]) => lines.map((line) => line.replaceAll(`${ROOT}/`, '').replace(/\S*\/deps\//, 'deps/'));
  writeFileSync(
    file,
    [
      `${target}: thousands of instructions per request (${COUNT} measured after ${WARMUP}, node --perf-basic-prof)`,
      '\nown:',
      ...named(functionsByCost(dump, map, COUNT, false, 80)),
      '\nwith callees:',
      ...named(functionsByCost(dump, map, COUNT, true, 250)),
      '',
    ].join('\n'),
  );
  rmSync(map, { force: true });
  console.error(`${target}: profile in ${path.relative(ROOT, file)}`);
}

/** system calls per measured request, strace attached only for them */
async function systemCalls(target: Target, config: string, upstreamUrl: string): Promise<number> {
  const port = await freePort();
  const { args, env } = command(target, port, config, upstreamUrl);
  const child = spawn(process.execPath, ['--predictable', ...args], { env, stdio: ['ignore', 'ignore', 'ignore'] });
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  try {
    await waitForPort(port, 120_000);
    await drive(agent, port, WARMUP);
    const strace = spawn('strace', ['-c', '-f', '-p', String(child.pid)], { stdio: ['ignore', 'ignore', 'pipe'] });
    let report = '';
    strace.stderr?.on('data', (d: Buffer) => (report += d.toString()));
    // strace says when it is attached to every thread; wait for its first line
    await new Promise((r) => strace.stderr?.once('data', r));
    await drive(agent, port, COUNT);
    const done = new Promise((r) => strace.once('exit', r));
    strace.kill('SIGINT');
    await done;
    const total = /^\s*100\.00\s+\S+\s+\S+\s+(\d+)/m.exec(report);
    if (!total) throw new Error(`strace: no total in ${report}`);
    return Number(total[1]) / COUNT;
  } finally {
    agent.destroy();
    await stop(child);
  }
}

async function deleteRunKeys(): Promise<void> {
  const client = createClient({ url: REDIS_URL });
  await client.connect();
  try {
    for await (const keys of client.scanIterator({ MATCH: `${RUN_PREFIX}*`, COUNT: 5000 })) if (keys.length > 0) await client.unlink(keys);
  } finally {
    await client.close();
  }
}

async function main(): Promise<void> {
  const absent = ['valgrind', 'callgrind_control', 'strace'].filter((tool) => spawnSync('sh', ['-c', `command -v ${tool}`]).status !== 0);
  if (absent.length > 0) {
    console.error(`missing: ${absent.join(', ')} (Debian packages: valgrind strace); nothing was installed`);
    process.exit(1);
  }
  const only = process.env.ONLY?.split(',').map((s) => s.trim());
  const work = mkdtempSync(path.join(tmpdir(), 'aidgw-instructions-'));
  const { server, url } = await upstream();
  const targets = TARGETS.filter((t) => !only || only.includes(t));
  const config = path.join(work, 'config');
  // the outbox polled once a minute rather than 4 times a second: under callgrind a request takes
  // 100-200 ms, so each poll (a store round trip) would weigh on every request about as much as
  // half a request's own round trips, where at full speed it comes once per thousand requests
  writeHubConfig(config, url, { route: { responseValidation: 'refuse', timeoutMs: CALL_BUDGET_MS }, settings: { outboxPollMs: 60_000 } });
  const figures = new Map<Target, { counted: Counted[]; syscalls: number[] }>(targets.map((t) => [t, { counted: [], syscalls: [] }]));
  try {
    for (let round = 0; round < ROUNDS; round++) {
      for (const target of targets) {
        const figure = figures.get(target)!;
        const counted = await instructions(target, config, url, work);
        figure.counted.push(counted);
        figure.syscalls.push(await systemCalls(target, config, url));
        console.error(
          `round ${round + 1}: ${target} ${Math.round(counted.all)} instructions (${Math.round(counted.compilation)} of them compiling), ${figure.syscalls.at(-1)!.toFixed(2)} system calls per request`,
        );
      }
    }
  } finally {
    server.close();
    server.closeAllConnections();
    rmSync(work, { recursive: true, force: true });
    await deleteRunKeys();
  }
  const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
  /** a target's instructions per request outside compilation, over its rounds */
  const served = (target: Target) => mean(figures.get(target)!.counted.map((c) => c.all - c.compilation));
  const hub = figures.has('hub (Redis)') ? served('hub (Redis)') : undefined;
  const gateway = figures.has('fast-gateway') ? served('fast-gateway') : undefined;
  console.log(
    `\ninstructions per request (callgrind, node --predictable ${process.version}), Request Activation Code, ${WARMUP} warm-up, ${COUNT} measured, ${ROUNDS} rounds\n`,
  );
  console.log(
    '| target | outside compilation (k), each round | compiling (k), each round | system calls per request | hub (Redis) / target | target / fast-gateway |',
  );
  console.log('|---|---|---|---|---|---|');
  const kilo = (xs: number[]) => xs.map((n) => (n / 1000).toFixed(1)).join(', ');
  const rows = targets.map((target) => {
    const f = figures.get(target)!;
    const overHub = hub ? (hub / served(target)).toFixed(2) : '';
    const overGateway = gateway ? (served(target) / gateway).toFixed(2) : '';
    console.log(
      `| ${target} | ${kilo(f.counted.map((c) => c.all - c.compilation))} | ${kilo(f.counted.map((c) => c.compilation))} | ${f.syscalls.map((n) => n.toFixed(2)).join(', ')} | ${overHub} | ${overGateway} |`,
    );
    return {
      target,
      instructionsK: Number((served(target) / 1000).toFixed(1)),
      rounds: f.counted.map((c) => ({ all: Math.round(c.all), compilation: Math.round(c.compilation) })),
      syscalls: f.syscalls.map((n) => Number(n.toFixed(2))),
    };
  });
  mkdirSync(path.join(ROOT, 'bench/results'), { recursive: true });
  writeFileSync(
    path.join(ROOT, 'bench/results/instructions.json'),
    `${JSON.stringify({ node: process.version, warmup: WARMUP, count: COUNT, rows }, null, 2)}\n`,
  );
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
