/**
 * How a command ends on an error: a usage error is exit 2 with one line, a secret file that cannot
 * be read or a start-up failure (Redis away, a file missing) one line and exit 1; anything else is
 * a defect and goes up whole (main.ts prints its stack).
 */
import { SecretFileError } from '../config/envSecret';
import { startupFailure } from '../errors/startupError';
import { UsageError } from '../errors/usageError';

export function commandFailed(what: string, err: unknown, redis: string | undefined): number {
  if (err instanceof UsageError) return usage(err.message);
  if (err instanceof SecretFileError) return failed(err.message);
  const line = startupFailure(err, redis);
  if (line === undefined) throw err;
  return failed(`cannot ${what}: ${line}`);
}

export function failed(message: string): number {
  process.stderr.write(`${message}\n`);
  return 1;
}

export function usage(message: string): number {
  process.stderr.write(`${message}\n`);
  return 2;
}
