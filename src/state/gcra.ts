/**
 * The generic cell rate algorithm (GCRA): `requests` per `perSeconds`, up to `burst` at once, kept
 * as one number per key, the theoretical arrival time (TAT) of the next request. As a check
 * (maxWaitMs 0) it admits or refuses with the time to wait; as a schedule (maxWaitMs > 0) it
 * reserves the next free slot and says how long to wait for it.
 */
import type { RateLimit } from '../config/types';

/** one limit to check, under its key */
export interface LimitCheck {
  readonly key: string;
  readonly limit: RateLimit;
}

/** several limits checked at once: admitted by all (each counts the request; `waitMs` until the slot
 * reserved, 0 for a check), or refused by the first that has no room, none counting it */
export type AdmitResult =
  { readonly allowed: true; readonly waitMs: number } | { readonly allowed: false; readonly refusedBy: number; readonly waitMs: number };

export function intervalMs(limit: RateLimit): number {
  return (limit.perSeconds * 1000) / limit.requests;
}

/** one GCRA step: the decision, the wait (refused: until there is room; admitted: until the slot)
 * and the TAT to store when admitted */
export function gcraStep(
  tat: number | undefined,
  now: number,
  limit: RateLimit,
  maxWaitMs: number,
): { readonly allowed: boolean; readonly waitMs: number; readonly tat: number } {
  const interval = intervalMs(limit);
  const next = Math.max(tat ?? now, now) + interval;
  const waitMs = Math.max(0, next - now - limit.burst * interval);
  if (waitMs > maxWaitMs) return { allowed: false, waitMs: Math.ceil(waitMs), tat: tat ?? now };
  return { allowed: true, waitMs: Math.ceil(waitMs), tat: next };
}

/** GCRA on this process's memory: the in-memory store, and the fallback while Redis is away */
export class LocalGcra {
  private readonly tats = new Map<string, number>();

  admit(checks: readonly LimitCheck[], maxWaitMs = 0): AdmitResult {
    const now = Date.now();
    const steps = checks.map((c) => gcraStep(this.tats.get(c.key), now, c.limit, maxWaitMs));
    const refusedBy = steps.findIndex((step) => !step.allowed);
    if (refusedBy >= 0) return { allowed: false, refusedBy, waitMs: steps[refusedBy].waitMs };
    steps.forEach((step, i) => this.tats.set(checks[i].key, step.tat));
    // keys whose TAT has passed carry no information: drop them so the map stays small
    if (this.tats.size > 10000) for (const [k, t] of this.tats) if (t < now) this.tats.delete(k);
    return { allowed: true, waitMs: Math.max(0, ...steps.map((step) => step.waitMs)) };
  }
}
