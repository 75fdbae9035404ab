/** `HOST:PORT` of a listener on the command line (`[::1]:8080` too; an empty host is every address) */
import type { Listen } from '../server/hub';
import { UsageError } from '../errors/usageError';

export function parseListen(value: string, option: string): Listen {
  const match = /^(.*):(\d{1,5})$/.exec(value);
  const port = Number(match?.[2]);
  if (!match || port > 65535) throw new UsageError(`${option} takes HOST:PORT, got ${value}`);
  return { host: match[1].replace(/^\[(.*)\]$/, '$1') || '0.0.0.0', port };
}
