/**
 * The structured logger (pino, JSON). The hub logs ids, partners, operations and outcomes, never a
 * body; the redact list is the second line of defence for fields that must never appear in clear.
 */
import pino, { type DestinationStream, type Logger } from 'pino';

export type { Logger };

export const REDACTED_FIELDS = [
  'phoneNumber',
  'iv',
  'activationCode',
  'matchingId',
  'eid',
  'account_id',
  'api-key',
  'authorization',
  'password',
  'apiKey',
];

export function createLogger(options: { level?: string; destination?: DestinationStream } = {}): Logger {
  return pino(
    {
      level: options.level ?? process.env.LOG_LEVEL ?? 'info',
      base: { service: 'aid-gateway' },
      // one level deep: the hub logs flat objects; deeper wildcards cost on every line written
      redact: { paths: REDACTED_FIELDS.flatMap((f) => [`"${f}"`, `*."${f}"`]), censor: '[redacted]' },
      timestamp: pino.stdTimeFunctions.isoTime,
    },
    // stdout written asynchronously: a busy hub coalesces its lines into fewer writes
    options.destination ?? pino.destination({ dest: 1, sync: false }),
  );
}
