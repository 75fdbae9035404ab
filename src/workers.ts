/**
 * `--workers N`: N hub processes (node:cluster) sharing the listening ports, so the hub uses every
 * core. They share their state through Redis, which is why more than one worker needs Redis. The
 * primary passes SIGHUP and SIGTERM on to the workers, replaces a worker that dies unasked, and
 * exits when all have stopped.
 */
import cluster, { type Worker } from 'node:cluster';
import type { Logger } from './log';

/** which worker this process is (0 for a hub without workers) */
export function workerIndex(): number {
  return Number(process.env.AID_GATEWAY_WORKER ?? 0);
}

/** `heapMb` bounds each worker's V8 old space: without it V8 grows the heap far past what the hub
 * keeps alive before it collects (measured: 30-40 MB live, 170 MB used, 300 MB RSS under load) */
export function runWorkers(count: number, log: Logger, heapMb: number): Promise<number> {
  const given = process.execArgv.some((a) => a.startsWith('--max-old-space-size')) || /--max-old-space-size/.test(process.env.NODE_OPTIONS ?? '');
  cluster.setupPrimary({ execArgv: given ? process.execArgv : [...process.execArgv, `--max-old-space-size=${heapMb}`] });
  let stopping = false;
  const fork = (index: number): Worker => {
    const worker = cluster.fork({ AID_GATEWAY_WORKER: String(index) });
    worker.on('exit', (code, signal) => {
      if (stopping) return;
      log.error({ worker: index, code, signal }, 'worker died; starting another');
      fork(index);
    });
    return worker;
  };
  for (let i = 0; i < count; i++) fork(i);
  log.info({ workers: count }, 'hub workers started');
  const each = (signal: NodeJS.Signals) => Object.values(cluster.workers ?? {}).forEach((w) => w?.process.kill(signal));
  process.on('SIGHUP', () => each('SIGHUP'));
  return new Promise((resolve) => {
    const stop = () => {
      stopping = true;
      let failed = false;
      cluster.on('exit', (_worker, code) => {
        failed ||= code !== 0;
        if (Object.keys(cluster.workers ?? {}).length === 0) resolve(failed ? 1 : 0);
      });
      each('SIGTERM');
    };
    process.once('SIGTERM', stop);
    process.once('SIGINT', stop);
  });
}

export const isPrimary = (): boolean => cluster.isPrimary;
