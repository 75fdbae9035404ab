/**
 * `--workers N`: N hub processes (node:cluster) sharing the listening ports, so the hub uses every
 * core. They share their state through Redis, which is why more than one worker needs Redis. The
 * primary passes SIGHUP and SIGTERM on to the workers, replaces a worker that dies unasked, and
 * exits when all have stopped. It also serves the one admin listener: /metrics aggregates every
 * worker's registry (prom-client's AggregatorRegistry: counters and histograms summed, gauges by
 * their own aggregator), /healthz and /readyz answer for all workers, /admin/partners merges their
 * views; each worker answers the primary over the cluster channel.
 */
import cluster, { type Worker } from 'node:cluster';
import http from 'node:http';
import { randomUUID } from 'node:crypto';
import { AggregatorRegistry, type Registry } from 'prom-client';
import { buildAdminApp, type AdminViews, type PartnerView, type Readiness } from '../admin/adminApp';
import type { HubOptions } from './hub';
import type { Logger } from '../log';

const VIEW = 'aid-gateway:view';
/** a worker's word that it serves */
export const WORKER_STARTED = 'aid-gateway:started';
/** a worker that does not answer within this is not ready */
const VIEW_TIMEOUT_MS = 2000;

type ViewName = 'readiness' | 'partners';
interface ViewRequest {
  readonly type: typeof VIEW;
  readonly id: string;
  readonly view: ViewName;
}
interface ViewAnswer {
  readonly type: typeof VIEW;
  readonly id: string;
  readonly result: unknown;
}

/** in a worker: the registry the primary aggregates, and its views on request */
export function serveClusterViews(registry: Registry, views: AdminViews): void {
  // prom-client answers the primary only once an AggregatorRegistry exists in the process
  new AggregatorRegistry();
  AggregatorRegistry.setRegistries([registry]);
  process.on('message', (message: ViewRequest) => {
    if (message?.type !== VIEW) return;
    const view = message.view === 'readiness' ? views.readiness() : views.partners();
    void view.then((result) => process.send?.({ type: VIEW, id: message.id, result } satisfies ViewAnswer));
  });
}

/** `heapMb` bounds each worker's V8 old space: without it V8 grows the heap far past what the hub
 * keeps alive before it collects (measured: 30-40 MB live, 170 MB used, 300 MB RSS under load) */
export function runWorkers(count: number, log: Logger, heapMb: number, admin: HubOptions['admin']): Promise<number> {
  const given = process.execArgv.some((a) => a.startsWith('--max-old-space-size')) || /--max-old-space-size/.test(process.env.NODE_OPTIONS ?? '');
  cluster.setupPrimary({ execArgv: given ? process.execArgv : [...process.execArgv, `--max-old-space-size=${heapMb}`] });
  let stopping = false;
  let stop: (code: number) => void = () => undefined;
  const fork = (index: number): Worker => {
    const worker = cluster.fork();
    let started = false;
    worker.on('message', (message: { type?: string }) => {
      if (message?.type === WORKER_STARTED) started = true;
    });
    worker.on('exit', (code, signal) => {
      if (stopping) return;
      // a worker that cannot start would fail again: the whole hub stops, so an orchestrator sees it
      if (!started) {
        log.error({ worker: index, code, signal }, 'a worker could not start; stopping every worker');
        stop(1);
        return;
      }
      log.error({ worker: index, code, signal }, 'worker died; starting another');
      fork(index);
    });
    return worker;
  };
  for (let i = 0; i < count; i++) fork(i);
  log.info({ workers: count }, 'hub workers started');
  const server = admin ? startAdmin(count, admin, log) : undefined;
  const each = (signal: NodeJS.Signals) => Object.values(cluster.workers ?? {}).forEach((w) => w?.process.kill(signal));
  process.on('SIGHUP', () => each('SIGHUP'));
  return new Promise((resolve) => {
    stop = (exitCode: number) => {
      if (stopping) return;
      stopping = true;
      let failed = exitCode !== 0;
      const done = () => {
        if (!server) resolve(failed ? 1 : 0);
        else server.close(() => resolve(failed ? 1 : 0));
        server?.closeAllConnections();
      };
      if (Object.keys(cluster.workers ?? {}).length === 0) return done();
      cluster.on('exit', (_worker, code) => {
        failed ||= code !== 0;
        if (Object.keys(cluster.workers ?? {}).length === 0) done();
      });
      each('SIGTERM');
    };
    process.once('SIGTERM', () => stop(0));
    process.once('SIGINT', () => stop(0));
  });
}

export const isPrimary = (): boolean => cluster.isPrimary;

function startAdmin(count: number, admin: NonNullable<HubOptions['admin']>, log: Logger): http.Server {
  const app = buildAdminApp(clusterViews(count), admin.auth).callback();
  const server = http.createServer((req, res) => void app(req, res));
  server.on('error', (err) => log.error({ err: err.message }, 'admin listener failed'));
  server.listen(admin.listen.port, admin.listen.host, () =>
    log.info({ admin: `http://${admin.listen.host}:${(server.address() as { port: number }).port}` }, 'admin listener started for all workers'),
  );
  return server;
}

function workers(): Worker[] {
  return Object.values(cluster.workers ?? {}).filter((w): w is Worker => w !== undefined);
}

/** every worker's answer to `view` (undefined where one did not answer in time) */
function ask(view: ViewName): Promise<unknown[]> {
  return Promise.all(
    workers().map(
      (worker) =>
        new Promise<unknown>((resolve) => {
          const id = randomUUID();
          const timer = setTimeout(() => finish(undefined), VIEW_TIMEOUT_MS);
          const onMessage = (message: ViewAnswer) => {
            if (message?.type === VIEW && message.id === id) finish(message.result);
          };
          function finish(result: unknown): void {
            clearTimeout(timer);
            worker.off('message', onMessage);
            resolve(result);
          }
          worker.on('message', onMessage);
          worker.send({ type: VIEW, id, view } satisfies ViewRequest);
        }),
    ),
  );
}

function clusterViews(count: number): AdminViews {
  const registry = new AggregatorRegistry();
  return {
    metrics: async () => ({ contentType: registry.contentType, text: await registry.clusterMetrics() }),
    alive: () => {
      const running = workers().filter((w) => !w.isDead()).length;
      return { alive: running === count, detail: `${running} of ${count} workers running` };
    },
    readiness: async () => {
      const answers = (await ask('readiness')) as (Readiness | undefined)[];
      const ready = answers.length === count && answers.every((a) => a?.ready === true);
      return {
        ready,
        checks: {
          workers: `${answers.filter((a) => a?.ready).length} of ${count} ready`,
          each: answers.map((a) => a ?? { ready: false, checks: { answer: 'none in time' } }),
        },
      };
    },
    partners: async () => ({ partners: mergePartners((await ask('partners')) as ({ partners: PartnerView[] } | undefined)[]) }),
  };
}

/** one view of each partner over all workers: calls and failures summed, the worst breaker shown,
 * every worker's breakers listed with its index */
function mergePartners(answers: readonly ({ partners: PartnerView[] } | undefined)[]): PartnerView[] {
  const merged = new Map<string, PartnerView>();
  const rank = (state: string) => ['closed', 'halfOpen', 'open'].indexOf(state);
  answers.forEach((answer, worker) => {
    for (const view of answer?.partners ?? []) {
      const breakers = view.breakers.map((b) => ({ ...b, worker }));
      const seen = merged.get(view.id);
      if (!seen) {
        merged.set(view.id, { ...view, breakers });
        continue;
      }
      const calls = seen.recent.calls + view.recent.calls;
      const failures = seen.recent.errorRatio * seen.recent.calls + view.recent.errorRatio * view.recent.calls;
      const latency = seen.recent.latencyMeanMs * seen.recent.calls + view.recent.latencyMeanMs * view.recent.calls;
      merged.set(view.id, {
        ...seen,
        breaker: rank(view.breaker) > rank(seen.breaker) ? view.breaker : seen.breaker,
        breakers: [...seen.breakers, ...breakers],
        recent: { calls, errorRatio: calls === 0 ? 0 : failures / calls, latencyMeanMs: calls === 0 ? 0 : latency / calls },
      });
    }
  });
  return [...merged.values()];
}
