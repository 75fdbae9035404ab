/**
 * Bounds every call into a store and its outbox: a Redis that is connected but does not answer
 * fails the call after `ms` instead of holding the request. One deadline per call at the store's
 * boundary (on the process's deadline wheel), not per Redis command: node-redis's own command
 * timeout builds an AbortSignal (with its event target and DOMException) for every command, a
 * tenth of the hub's CPU under load.
 *
 * A call that failed for a connection reason (`retry.failedToConnect`: its connection closed, no
 * primary, no answer in time) is made again until `retry.withinMs` after the store began to fail,
 * so that a failover shorter than that costs the caller time, not a refusal, and a store away for
 * longer fails each call at once again (a request that can do without it, the rate limits, goes on
 * without it). Only methods that may run twice are made again: every step that must not be lost is
 * one script that, made again after it ran, changes nothing more (docs/operating/redis.md
 * lists them); `retry.once` names the others.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { deadlineIn } from '../deadlineWheel';

export class StoreDeadlineError extends Error {
  constructor(operation: string, ms: number) {
    super(`the store did not answer ${operation} within ${ms} ms`);
    this.name = 'StoreDeadlineError';
  }
}

export interface StoreRetry {
  /** a call is made again until this long after the store began to fail */
  readonly withinMs: number;
  /** a failure after which the call may be made again (the command may or may not have run) */
  readonly failedToConnect: (err: unknown) => boolean;
  /** methods never made again: a second run would count or take something twice */
  readonly once?: ReadonlySet<string>;
}

/** the pause between two attempts: short, so that a primary found again is used at once */
const RETRY_PAUSE_MS = [50, 100, 200, 400];

/** `ms` undefined: no deadline of its own (the outbox, called by the worker), only the retries */
/** since when the store's calls fail for a connection reason: shared by every port of one store */
export interface Outage {
  since?: number;
}

export function withDeadline<T extends object>(target: T, ms: number | undefined, retry?: StoreRetry & { readonly outage: Outage }): T {
  // one bounded function per method, made on first use
  const made = new Map<PropertyKey, unknown>();
  return new Proxy(target, {
    get(obj, prop, receiver) {
      const known = made.get(prop);
      if (known !== undefined) return known;
      const value = Reflect.get(obj, prop, receiver) as unknown;
      if (typeof value !== 'function' || typeof prop !== 'string') return value;
      const once = !retry || retry.once?.has(prop) === true;
      const bounded = (...args: unknown[]) => {
        const run = () => (value as (...a: unknown[]) => unknown).apply(obj, args);
        if (once) {
          const result = run();
          return result instanceof Promise && ms !== undefined ? within(result, ms, prop) : result;
        }
        return attempts(run, ms, prop, retry);
      };
      made.set(prop, bounded);
      return bounded;
    },
  });
}

async function attempts(run: () => unknown, ms: number | undefined, operation: string, retry: StoreRetry & { readonly outage: Outage }): Promise<unknown> {
  const began = Date.now();
  const { outage } = retry;
  for (let attempt = 0; ; attempt++) {
    const until = Math.min(began, outage.since ?? began) + retry.withinMs;
    const result = run();
    if (!(result instanceof Promise)) return result;
    try {
      // a retry gets what is left of the time, the first attempt its own deadline
      const value: unknown = await (ms === undefined ? result : within(result, attempt === 0 ? ms : Math.max(1, Math.min(ms, until - Date.now())), operation));
      outage.since = undefined;
      return value;
    } catch (err) {
      if (!retry.failedToConnect(err)) throw err;
      outage.since ??= began;
      const pause = RETRY_PAUSE_MS[Math.min(attempt, RETRY_PAUSE_MS.length - 1)];
      if (Math.min(began, outage.since) + retry.withinMs - Date.now() <= pause) throw err;
      await sleep(pause);
    }
  }
}

/** the work's outcome, or StoreDeadlineError after `ms`: one deadline of the process's wheel and
 * one promise (a race of two promises and a `finally` cost three) */
function within<T>(work: Promise<T>, ms: number, operation: string): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const deadline = deadlineIn(ms, () => reject(new StoreDeadlineError(operation, ms)));
    work.then(
      (value) => {
        deadline.cancel();
        resolve(value);
      },
      (err: unknown) => {
        deadline.cancel();
        reject(err);
      },
    );
  });
}
