/** Rate limits and failure counts in memory: GCRA through LocalGcra (gcra.ts). */
import type { Budget, ExpiringMap } from './expiringMap';
import { LocalGcra, type AdmitResult, type LimitCheck } from '../gcra';
import type { FailureCount, RateLimits } from '../rateLimits';

export class MemoryRateLimits implements RateLimits {
  private readonly gcra = new LocalGcra();
  private readonly failures: ExpiringMap<{ count: number; resetAt: number }>;

  constructor(budget: Budget) {
    this.failures = budget.map();
  }

  async admit(checks: readonly LimitCheck[], maxWaitMs = 0): Promise<AdmitResult> {
    return this.gcra.admit(checks, maxWaitMs);
  }

  async countFailures(keys: readonly string[], windowSeconds: number): Promise<FailureCount[]> {
    return keys.map((key) => {
      const window = this.failures.get(key);
      if (window) {
        window.count += 1;
        return { ...window };
      }
      const started = { count: 1, resetAt: Date.now() + windowSeconds * 1000 };
      this.failures.set(key, started, windowSeconds);
      return { ...started };
    });
  }
}
