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

/** writes one access line: the request's ids, names, statuses and times */
export type AccessLog = (fields: Readonly<Record<string, unknown>>) => void;

/**
 * The access line, written straight to the logger's destination in the logger's own format (its
 * level, time and bindings), without the redaction every other line goes through: on every
 * request, pino's redaction cost more than building the line. Safe by construction: the caller
 * passes ids (clipped), partner and operation names, statuses, durations and flags, never a body,
 * a header or a credential.
 */
export function accessLogOf(log: Logger): AccessLog {
  const stream = (log as unknown as Record<symbol, DestinationStream>)[pino.symbols.streamSym];
  const bindings = (log as unknown as Record<symbol, string>)[pino.symbols.chindingsSym];
  const level = log.levels.values.info;
  return (fields) => {
    if (!log.isLevelEnabled('info')) return;
    const body = JSON.stringify(fields);
    stream.write(`{"level":${level},"time":"${new Date().toISOString()}"${bindings}${body.length > 2 ? `,${body.slice(1, -1)}` : ''},"msg":"request"}\n`);
  };
}
