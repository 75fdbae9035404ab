/**
 * Rate limits (GCRA, gcra.ts) and failure counts, shared by every hub instance through the store.
 * `withLocalFallback` keeps them working while the shared store is away: each instance then counts
 * on its own, so a Redis outage never turns into errors.
 */
import type { AdmitResult, LimitCheck } from './gcra';
import { LocalGcra } from './gcra';

export interface FailureCount {
  readonly count: number;
  /** epoch ms when the window ends and the count starts again */
  readonly resetAt: number;
}

export interface RateLimits {
  /**
   * GCRA over several limits in one step: all admit and count the request, or none counts it. With
   * `maxWaitMs` 0 a check; above, a reservation of the next slot within that wait.
   */
  admit(checks: readonly LimitCheck[], maxWaitMs?: number): Promise<AdmitResult>;
  /** counts one more failure under each key in a fixed window that starts with its first
   * failure: each key's count so far and when its window ends */
  countFailures(keys: readonly string[], windowSeconds: number): Promise<FailureCount[]>;
}

/** the limits of `shared`, or while it fails, this process's own count; `onFallback` is told */
export function withLocalFallback(shared: RateLimits, onFallback: () => void): Pick<RateLimits, 'admit'> {
  const local = new LocalGcra();
  return {
    admit: (checks, maxWaitMs = 0) =>
      shared.admit(checks, maxWaitMs).catch(() => {
        onFallback();
        return local.admit(checks, maxWaitMs);
      }),
  };
}
