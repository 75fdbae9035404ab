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
  'activation_code',
  'matchingId',
  'eid',
  'account_id',
  'api-key',
  'authorization',
  'password',
  'apiKey',
];

const REDACTED = new Set(REDACTED_FIELDS);
const CENSOR = '[redacted]';

export function createLogger(options: { level?: string; destination?: DestinationStream } = {}): Logger {
  const log = pino(
    {
      level: options.level ?? process.env.LOG_LEVEL ?? 'info',
      base: { service: 'aid-gateway' },
      // a partner's answer or a task logged whole carries its codes nested: censored at any depth
      formatters: { log: redacted },
      timestamp: pino.stdTimeFunctions.isoTime,
    },
    options.destination ?? batchedStdout(),
  );
  // pino gives a child's bindings no formatter (nor its redaction): every child, made from this
  // logger or a child of it, inherits this one. Pino's own method is called on the logger it was
  // called on (a grandchild keeps its parent's bindings), so it is taken unbound, typed as such
  const child = Reflect.get(log, 'child') as (this: Logger, ...args: Parameters<Logger['child']>) => ReturnType<Logger['child']>;
  log.child = function (this: Logger, bindings, childOptions) {
    return child.call(this, redacted(bindings), childOptions);
  } as Logger['child'];
  return log;
}

/**
 * The object with every redacted field censored, however deep. Copies only the objects on the way
 * to a censored field (the hub's lines are flat and clean: they are walked, not copied); an error's
 * message and stack go with its copy.
 */
function redacted<T extends Record<string, unknown>>(object: T): T {
  return censor(object, new Set()) as T;
}

function censor(value: unknown, seen: Set<object>): unknown {
  if (typeof value !== 'object' || value === null) return value;
  // a copy's reference back to an ancestor would be the uncensored original
  if (seen.has(value)) return '[Circular]';
  seen.add(value);
  const record = value as Record<string, unknown>;
  let copy: Record<string, unknown> | undefined;
  for (const key of Object.keys(record)) {
    const clean = REDACTED.has(key) ? CENSOR : censor(record[key], seen);
    if (clean === record[key]) continue;
    copy ??= copyOf(record);
    copy[key] = clean;
  }
  seen.delete(value);
  return copy ?? value;
}

/** an array stays an array (its indices are its keys), an error an error */
function copyOf(record: Record<string, unknown>): Record<string, unknown> {
  if (Array.isArray(record)) return [...record] as unknown as Record<string, unknown>;
  const copy: Record<string, unknown> = Object.assign(Object.create(Object.getPrototypeOf(record) as object | null) as object, record);
  if (record instanceof Error) Object.assign(copy, { message: record.message, stack: record.stack });
  return copy;
}

/** Linux's PIPE_BUF: a write to a pipe up to this size is never interleaved with another
 * process's (the workers share the primary's stdout), so a batch never splits a line */
const BATCH_BYTES = 4096;
const BATCH_MS = 200;

/**
 * stdout in batches of whole lines: a busy hub writes one batch per BATCH_BYTES, a quiet one still
 * has every line out within BATCH_MS, and what is gathered goes out when the logger is flushed (at
 * shutdown) and before the process exits. Each batch is written synchronously (pino's SonicBoom,
 * which waits out a full pipe): handing a write to libuv's thread pool costs several times the
 * write itself, and a batch is written in microseconds. A line longer than a batch goes alone.
 */
function batchedStdout(): DestinationStream & { flush(cb: (err?: Error) => void): void } {
  const out = pino.destination({ dest: 1, sync: true });
  let lines: string[] = [];
  let bytes = 0;
  const release = () => {
    if (lines.length === 0) return;
    const text = lines.length === 1 ? lines[0] : lines.join('');
    lines = [];
    bytes = 0;
    out.write(text);
  };
  setInterval(release, BATCH_MS).unref();
  process.once('exit', release);
  return {
    write(line: string) {
      const size = Buffer.byteLength(line);
      if (bytes + size > BATCH_BYTES) release();
      lines.push(line);
      bytes += size;
      if (bytes >= BATCH_BYTES) release();
    },
    flush(cb) {
      release();
      cb();
    },
  };
}

/** what the access line says of a request besides its ids: names, statuses, times and flags */
export interface AccessEntry {
  readonly operation: string;
  readonly method: string;
  readonly status: number;
  readonly durationMs: number;
  readonly upstreamMs?: number;
  readonly error?: { readonly kind: string; readonly code: string; readonly message: string };
  readonly replayed?: boolean;
  readonly bridged?: boolean;
  readonly stored?: boolean;
}

/** writes one access line: the request's ids (its log bindings), then the entry */
export type AccessLog = (ids: Readonly<Record<string, string | number | undefined>>, entry: AccessEntry) => void;

/**
 * The access line, written straight to the logger's destination in the logger's own format (its
 * level, time and bindings), without the redaction every other line goes through: on every
 * request, pino's redaction cost more than building the line. Safe by construction: the caller
 * passes ids (clipped), partner and operation names, statuses, durations and flags, never a body,
 * a header or a credential. Built as text field by field: an object spread and JSON.stringify of
 * it cost more than the rest of the line.
 */
export function accessLogOf(log: Logger): AccessLog {
  const stream = (log as unknown as Record<symbol, DestinationStream>)[pino.symbols.streamSym];
  const bindings = (log as unknown as Record<symbol, string>)[pino.symbols.chindingsSym];
  const level = log.levels.values.info;
  return (ids, entry) => {
    if (!log.isLevelEnabled('info')) return;
    let line = `{"level":${level},"time":"${isoNow()}"${bindings}`;
    for (const name in ids) line += field(name, ids[name]);
    line += `${field('operation', entry.operation)}${field('method', entry.method)},"status":${entry.status},"durationMs":${entry.durationMs}${field('upstreamMs', entry.upstreamMs)}`;
    if (entry.error !== undefined) line += `,"error":${JSON.stringify(entry.error)}`;
    stream.write(`${line}${field('replayed', entry.replayed)}${field('bridged', entry.bridged)}${field('stored', entry.stored)},"msg":"request"}\n`);
  };
}

let isoAt = 0;
let iso = '';

/** the time as pino's isoTime writes it, made once per millisecond */
function isoNow(): string {
  const now = Date.now();
  if (now !== isoAt) {
    isoAt = now;
    iso = new Date(now).toISOString();
  }
  return iso;
}

/** `,"name":value`, or nothing for a value left out */
function field(name: string, value: string | number | boolean | undefined): string {
  if (value === undefined) return '';
  return `,"${name}":${typeof value === 'string' ? JSON.stringify(value) : value}`;
}
