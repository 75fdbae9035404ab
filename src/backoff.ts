/** Exponential backoff with equal jitter: half the delay fixed, half random, bounded by `maxMs`.
 * The partner retries of dispatch and the outbox's redeliveries both wait this way. */
export function backoffMs(baseMs: number, maxMs: number, attempt: number): number {
  const delay = Math.min(maxMs, baseMs * 2 ** attempt);
  return delay / 2 + (Math.random() * delay) / 2;
}
