/**
 * A hub that cannot start says why in one line (never a stack trace), for the operator and for an
 * orchestrator's log: the address taken, a TLS file missing or not matching its key, Redis away.
 * Anything it does not recognise is undefined, and the caller shows it whole.
 */

interface SystemError extends Error {
  readonly code?: string;
  readonly syscall?: string;
  readonly address?: string;
  readonly port?: number;
  readonly path?: string;
}

const LISTEN_CODES: Readonly<Record<string, string>> = {
  EADDRINUSE: 'the address is in use',
  EACCES: 'permission denied (a port below 1024 needs privileges)',
  EADDRNOTAVAIL: 'this machine has no such address',
};

/** Redis could not be reached, or refused the hub, while the hub was starting */
export class RedisStartupError extends Error {
  constructor(
    readonly reason: string,
    options?: { cause?: unknown },
  ) {
    super(`cannot connect to Redis at start: ${reason}`, options);
    this.name = 'RedisStartupError';
  }
}

const UNREACHABLE = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EHOSTUNREACH', 'ETIMEDOUT', 'ECONNRESET', 'EAI_AGAIN']);

/** the one line for a start-up failure, or undefined */
/** `redis`: where Redis was looked for, without credentials (connection.ts describeTarget) */
export function startupFailure(err: unknown, redis: string | undefined): string | undefined {
  const e = err as SystemError;
  if (!(err instanceof Error)) return undefined;
  // a worker of --workers binds through the primary: 'bind'
  if ((e.syscall === 'listen' || e.syscall === 'bind') && e.code && LISTEN_CODES[e.code])
    return `cannot listen on ${e.address}:${e.port}: ${LISTEN_CODES[e.code]}`;
  if (e.syscall === 'open' && e.path)
    return `cannot read ${e.path}: ${e.code === 'ENOENT' ? 'no such file' : e.code === 'EACCES' ? 'permission denied' : e.code}`;
  // Redis's own refusals first: a TLS alert from Redis is about Redis, not the hub's listener files
  const redisCause = err instanceof RedisStartupError ? err.reason.split('\n')[0] : undefined;
  if (redis && (redisCause !== undefined || UNREACHABLE.has(e.code ?? ''))) return `Redis at ${redis} cannot be reached: ${redisCause ?? e.code}`;
  if (/key values mismatch|KEY_VALUES_MISMATCH/i.test(`${e.code ?? ''} ${e.message}`))
    return 'the TLS certificate and key do not belong together (--tls-cert, --tls-key)';
  if (/^ERR_OSSL|PEM|certificate|x509/i.test(`${e.code ?? ''} ${e.message}`) && !UNREACHABLE.has(e.code ?? ''))
    return `a TLS file cannot be used: ${e.message.split('\n')[0]}`;
  return undefined;
}
