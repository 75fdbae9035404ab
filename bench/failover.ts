/**
 * `npm run bench:failover`: what a Redis failover costs under load, counted from the partners' side.
 * A Sentinel group of real `redis-server` processes (a primary, two replicas, three Sentinels),
 * two hub processes (`--workers` each, `--redis-wait-replicas 2`: every replica, the setting under
 * which nothing accepted may be lost, docs/operating/redis.md) on it, an MSP that answers every
 * Request Activation Code with its code after the CMP's budget (so each is bridged: 201 at once,
 * the code later as Send Activation Code through the outbox), and CMP clients spread over both
 * hubs. The primary is SIGKILLed under load. Then every request answered 201 must end with exactly
 * one Send Activation Code (the code or an error). The killed node is started again as a replica
 * once the Sentinels have promoted another, as an orchestrator would. Counted are the lost (none
 * came), the duplicated (more than one), the refused (503 while the primary changed; the CMP tries
 * again after Retry-After, up to RETRIES times) and the unasked (a delivery for a request the CMP
 * was refused for good). Prints the figures as JSON.
 * Options: RATE (requests per second, default 50), SECONDS (of load, default 20), KILL_AT (seconds
 * into the load, default 5), WORKERS (per hub, default 2), DOWN_AFTER_MS (the Sentinels' wait before
 * a failover, default 1000).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { dump as stringify } from 'js-yaml';
import { freePort, waitForPort } from './ports';
import { paths, requestActivationCodeBody, sendMspTokenBody } from '../test/support/messages';
import { REPLICAS, SentinelGroup } from '../test/support/redisTopology';

const MAIN = path.join(__dirname, '../src/main.js');
/** the CMP's budget: the MSP answers after it, every request is bridged */
const BUDGET_MS = 300;
const MSP_ANSWERS_AFTER_MS = 500;
const BRIDGE_MS = 4000;
/** a CMP's attempts at one request */
const RETRIES = 5;

export interface FailoverOptions {
  readonly rate: number;
  readonly seconds: number;
  readonly killAt: number;
  readonly workers: number;
  /** how long the Sentinels wait before they fail the primary over (1 s by default); longer than
   * the hub's store retry window (6 s), the store is away for the hub: refusals, failed passes */
  readonly downAfterMs?: number;
  /** the built hub to run (dist/src/main.js of a checkout) */
  readonly main?: string;
}

export interface FailoverFigures {
  /** activation code requests, each tried up to RETRIES times while answered 503 */
  readonly requests: number;
  /** every answer, retries included */
  readonly statuses: Readonly<Record<string, number>>;
  /** answered 201 */
  readonly accepted: number;
  /** 201, and no Send Activation Code came */
  readonly lost: number;
  /** 201, and more than one Send Activation Code came (by their CMP-request-ids) */
  readonly duplicated: number;
  /** the same delivery again, under the same CMP-request-id (delivered, not acknowledged) */
  readonly redelivered: number;
  /** answers 503 (retries included) */
  readonly refused: number;
  /** requests still refused at their last attempt */
  readonly refusedForGood: number;
  /** the 503s by their error text */
  readonly refusedFor: Readonly<Record<string, number>>;
  /** a Send Activation Code for a request the CMP was answered something else than 201 */
  readonly unasked: number;
  /** Send Activation Codes carrying an error, not the code */
  readonly errors: number;
  readonly secondsRefusing: number;
}

/** what the CMP received: per activationCodeRequestID, the CMP-request-ids and whether it carried the code */
type Received = Map<string, { readonly id: string; readonly code: boolean }[]>;

export async function runFailover(options: FailoverOptions): Promise<FailoverFigures> {
  const group = await SentinelGroup.start('hubmaster', options.downAfterMs);
  const dir = mkdtempSync(path.join(tmpdir(), 'aidgw-failover-'));
  const received: Received = new Map();
  const msp = await serve((_req, body, res) => {
    const request = JSON.parse(body) as { activationCodeRequestID: string };
    setTimeout(
      () =>
        json(res, 200, {
          iccid: '8949000000000000001',
          activationCode: `1$smdp.example.com$${request.activationCodeRequestID}`,
          profileType: 'personal',
          swappedIccid: null,
        }),
      MSP_ANSWERS_AFTER_MS,
    );
  });
  const cmp = await serve((req, body, res) => {
    if (req.url?.startsWith('/cesim/msp/v1/activation-codes/')) {
      const delivery = JSON.parse(body) as { activationCodeRequestID: string; activationCode: string | null };
      const list = received.get(delivery.activationCodeRequestID) ?? [];
      list.push({ id: String(req.headers['cmp-request-id']), code: delivery.activationCode !== null });
      received.set(delivery.activationCodeRequestID, list);
      json(res, 200);
      return;
    }
    json(res, 201);
  });
  const hubs: ChildProcess[] = [];
  try {
    writeConfig(dir, msp.url, cmp.url);
    const prefix = `failover-${randomUUID()}:`;
    const ports = [await freePort(), await freePort()];
    for (const port of ports) hubs.push(await startHub(options, dir, port, group, prefix));
    const urls = ports.map((p) => `http://127.0.0.1:${p}`);
    const token = randomUUID();
    const onboarded = await call(urls[0], 'mspA', 'cmpA', paths.sendMspToken(), sendMspTokenBody(token));
    if (onboarded.status !== 201) throw new Error(`Send MSP Token answered ${onboarded.status}: ${onboarded.text}`);

    const statuses = new Map<number, number>();
    const accepted = new Set<string>();
    const answeredOtherwise = new Set<string>();
    const refusedFor = new Map<string, number>();
    let refusedForGood = 0;
    let firstRefusal = 0;
    let lastRefusal = 0;
    const started = Date.now();
    const load: Promise<void>[] = [];
    const killing = sleep(options.killAt * 1000)
      .then(() => group.killPrimary())
      .then((port) => group.bringBack(port));
    // arrivals at a steady rate, each request on the next hub in turn
    for (let n = 0; Date.now() - started < options.seconds * 1000; n++) {
      const due = started + (n * 1000) / options.rate;
      if (due > Date.now()) await sleep(due - Date.now());
      const url = urls[n % 2];
      load.push(
        (async () => {
          const requestId = randomUUID();
          // a 503 is tried again after its Retry-After, as a CMP does, a few times
          for (let attempt = 1; ; attempt++) {
            const answer = await call(url, 'cmpA', 'mspA', paths.requestActivationCode(token), requestActivationCodeBody(requestId)).catch(() => ({
              status: 0,
              text: '',
            }));
            statuses.set(answer.status, (statuses.get(answer.status) ?? 0) + 1);
            if (answer.status === 503) {
              const error = String((JSON.parse(answer.text) as { error?: unknown }).error);
              refusedFor.set(error, (refusedFor.get(error) ?? 0) + 1);
              firstRefusal ||= Date.now();
              lastRefusal = Date.now();
              if (attempt < RETRIES) {
                await sleep(1000);
                continue;
              }
            }
            if (answer.status === 201) accepted.add(requestId);
            else answeredOtherwise.add(requestId);
            if (answer.status === 503) refusedForGood += 1;
            return;
          }
        })(),
      );
    }
    await killing;
    await Promise.all(load);
    // every bridged request ends by its deadline entry at the latest; the outbox then delivers it
    const settleBy = Date.now() + BRIDGE_MS + 20000;
    while (Date.now() < settleBy && [...accepted].some((id) => !received.has(id))) await sleep(200);
    await sleep(2000);

    const counts = [...accepted].map((id) => received.get(id) ?? []);
    return {
      requests: accepted.size + answeredOtherwise.size,
      statuses: Object.fromEntries([...statuses].map(([status, n]) => [status === 0 ? 'no answer' : String(status), n])),
      accepted: accepted.size,
      lost: counts.filter((c) => c.length === 0).length,
      duplicated: counts.filter((c) => new Set(c.map((d) => d.id)).size > 1).length,
      redelivered: counts.filter((c) => c.length > new Set(c.map((d) => d.id)).size).length,
      refused: statuses.get(503) ?? 0,
      refusedForGood,
      refusedFor: Object.fromEntries(refusedFor),
      unasked: [...answeredOtherwise].filter((id) => received.has(id)).length,
      errors: counts.flat().filter((d) => !d.code).length,
      secondsRefusing: firstRefusal === 0 ? 0 : Number(((lastRefusal - firstRefusal) / 1000).toFixed(1)),
    };
  } finally {
    await Promise.all(hubs.map(stop));
    await Promise.all([msp.close(), cmp.close()]);
    await group.remove();
    rmSync(dir, { recursive: true, force: true });
  }
}

function writeConfig(dir: string, mspUrl: string, cmpUrl: string): void {
  mkdirSync(path.join(dir, 'partners'), { recursive: true });
  const unlimited = { requests: 1000000000, perSeconds: 60 };
  writeFileSync(
    path.join(dir, 'partners', 'mspA.yaml'),
    stringify({ id: 'mspA', role: 'msp', rateLimit: unlimited, inbound: { apiKeys: ['key-mspA'] }, upstream: { url: mspUrl, auth: { apiKey: 'hub-key' } } }),
  );
  writeFileSync(
    path.join(dir, 'partners', 'cmpA.yaml'),
    stringify({ id: 'cmpA', role: 'cmp', rateLimit: unlimited, inbound: { apiKeys: ['key-cmpA'] }, upstream: { url: cmpUrl, auth: { apiKey: 'hub-key' } } }),
  );
  writeFileSync(
    path.join(dir, 'routes.yaml'),
    stringify({
      settings: { outboxPollMs: 50 },
      defaults: { tokenBinding: 'learn' },
      routes: [
        { from: 'cmpA', to: 'mspA', rateLimit: unlimited, timeoutMs: BUDGET_MS, bridgeTimeoutMs: BRIDGE_MS },
        { from: 'mspA', to: 'cmpA', rateLimit: unlimited },
      ],
    }),
  );
}

async function startHub(options: FailoverOptions, dir: string, port: number, group: SentinelGroup, prefix: string): Promise<ChildProcess> {
  const redis = [
    '--redis-sentinel',
    group.sentinels.join(','),
    '--redis-sentinel-master',
    group.master,
    '--redis-wait-replicas',
    String(REPLICAS),
    '--redis-prefix',
    prefix,
  ];
  const child = spawn(
    process.execPath,
    [options.main ?? MAIN, 'start', '--config', dir, '--listen', `127.0.0.1:${port}`, '--admin-listen', 'off', '--workers', String(options.workers), ...redis],
    {
      stdio: ['ignore', 'ignore', 'inherit'],
      env: { PATH: process.env.PATH, LOG_LEVEL: 'error' },
    },
  );
  await waitForPort(port, 30000);
  return child;
}

async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  await exited;
}

interface Answer {
  readonly status: number;
  readonly text: string;
}

async function call(url: string, from: string, to: string, pathname: string, body: unknown): Promise<Answer> {
  const res = await fetch(`${url}${pathname}`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      'api-key': `key-${from}`,
      'client-id': from,
      'target-id': to,
      'cmp-request-id': randomUUID(),
      'correlation-id': randomUUID(),
    },
    body: JSON.stringify(body),
  });
  return { status: res.status, text: await res.text() };
}

type Handler = (req: http.IncomingMessage, body: string, res: http.ServerResponse) => void;

async function serve(handle: Handler): Promise<{ url: string; close(): Promise<void> }> {
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => handle(req, Buffer.concat(chunks).toString('utf8'), res));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const { port } = server.address() as net.AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

function json(res: http.ServerResponse, status: number, body?: unknown): void {
  const text = body === undefined ? '' : JSON.stringify(body);
  res.writeHead(status, text === '' ? {} : { 'content-type': 'application/json' });
  res.end(text);
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

if (require.main === module) {
  const options: FailoverOptions = {
    rate: Number(process.env.RATE ?? 50),
    seconds: Number(process.env.SECONDS ?? 20),
    killAt: Number(process.env.KILL_AT ?? 5),
    workers: Number(process.env.WORKERS ?? 2),
    downAfterMs: Number(process.env.DOWN_AFTER_MS ?? 1000),
  };
  runFailover(options).then(
    (figures) => process.stdout.write(`${JSON.stringify({ ...options, ...figures })}\n`),
    (err: unknown) => {
      process.stderr.write(`${(err as Error).stack ?? String(err)}\n`);
      process.exitCode = 1;
    },
  );
}
