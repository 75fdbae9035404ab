/**
 * Bounds every call into a store and its outbox: a Redis that is connected but does not answer
 * fails the call after `ms` instead of holding the request. One timer per call at the store's
 * boundary, not per Redis command: node-redis's own command timeout builds an AbortSignal (with its
 * event target and DOMException) for every command, a tenth of the hub's CPU under load.
 */
export class StoreDeadlineError extends Error {
  constructor(operation: string, ms: number) {
    super(`the store did not answer ${operation} within ${ms} ms`);
    this.name = 'StoreDeadlineError';
  }
}

export function withDeadline<T extends object>(target: T, ms: number, nested: readonly (keyof T)[] = []): T {
  // one bounded function per method, made on first use
  const made = new Map<PropertyKey, unknown>(nested.map((key) => [key, withDeadline(target[key] as object, ms)]));
  return new Proxy(target, {
    get(obj, prop, receiver) {
      const known = made.get(prop);
      if (known !== undefined) return known;
      const value = Reflect.get(obj, prop, receiver) as unknown;
      if (typeof value !== 'function' || typeof prop !== 'string') return value;
      const bounded = (...args: unknown[]) => {
        const result = (value as (...a: unknown[]) => unknown).apply(obj, args);
        return result instanceof Promise ? within(result, ms, prop) : result;
      };
      made.set(prop, bounded);
      return bounded;
    },
  });
}

/** the work's outcome, or StoreDeadlineError after `ms`: one timer and one promise (a race of two
 * promises and a `finally` cost three) */
function within<T>(work: Promise<T>, ms: number, operation: string): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(new StoreDeadlineError(operation, ms)), ms);
    work.then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      (err: unknown) => {
        clearTimeout(timer);
        reject(err);
      },
    );
  });
}
