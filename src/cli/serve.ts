/** Runs what `start` and the quick start serve: reloads on SIGHUP, stops gracefully on SIGTERM / SIGINT. */
import { ConfigError } from '../config/load';
import { SecretFileError } from '../config/envSecret';
import { Hub } from '../server/hub';
import type { Logger } from '../log';
import { startupFailure } from '../errors/startupError';
import { describeTarget, type RedisAccess } from '../state/redis/connection';
import { UsageError } from '../errors/usageError';

const SHUTDOWN_BOUND_MS = 15000;

export async function serve(start: () => Promise<Hub | { hub: Hub; close(): Promise<void> }>, log: Logger, redis?: RedisAccess): Promise<number> {
  let running;
  try {
    running = await start();
  } catch (err) {
    if (err instanceof ConfigError || err instanceof UsageError || err instanceof SecretFileError) {
      process.stderr.write(`${err.message}\n`);
      return err instanceof UsageError ? 2 : 1;
    }
    const line = startupFailure(err, redis && describeTarget(redis.target));
    if (line === undefined) throw err;
    process.stderr.write(`cannot start: ${line}\n`);
    return 1;
  }
  const hub = running instanceof Hub ? running : running.hub;
  stopIgnoringHangups();
  process.on('SIGHUP', () => hub.reload());
  return new Promise<number>((resolve) => {
    const stop = (signal: string) => {
      log.info({ signal }, 'stopping: finishing requests in flight');
      setTimeout(() => {
        log.error('requests still in flight after the shutdown bound; exiting anyway');
        resolve(1);
      }, SHUTDOWN_BOUND_MS).unref();
      running.close().then(
        // the log is written asynchronously: what is still buffered goes out before the exit
        () => log.flush(() => resolve(0)),
        (err: unknown) => {
          log.error({ err }, 'error while stopping');
          resolve(1);
        },
      );
    };
    process.once('SIGTERM', stop);
    process.once('SIGINT', stop);
  });
}

/** a SIGHUP before the hub runs (an orchestrator's reload racing the start) is no reason to die */
function ignoreEarlyHangup(): void {
  process.stderr.write('SIGHUP during start-up: ignored; send it again once the hub has started\n');
}

/** from the process's first moment: main.ts calls it before anything else */
export function ignoreHangupsUntilServing(): void {
  process.on('SIGHUP', ignoreEarlyHangup);
}

/** once something serves SIGHUP: the hub (reload) or the primary of --workers (passes it on) */
export function stopIgnoringHangups(): void {
  process.off('SIGHUP', ignoreEarlyHangup);
}
