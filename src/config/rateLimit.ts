/**
 * A rate limit as partner files write it (`requests` per `perSeconds`, an optional `burst`) and as
 * the hub uses it.
 */
import type { RateLimit } from './types';

export type RawRateLimit = { requests: number; perSeconds: number; burst?: number };

/** a burst not given is the whole budget of one period */
export function rateLimitOf(raw: RawRateLimit | undefined): RateLimit | undefined {
  return raw && Object.freeze({ requests: raw.requests, perSeconds: raw.perSeconds, burst: raw.burst ?? raw.requests });
}
