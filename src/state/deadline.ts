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
  const wrapped = new Map<PropertyKey, unknown>(nested.map((key) => [key, withDeadline(target[key] as object, ms)]));
  return new Proxy(target, {
    get(obj, prop, receiver) {
      if (wrapped.has(prop)) return wrapped.get(prop);
      const value = Reflect.get(obj, prop, receiver) as unknown;
      if (typeof value !== 'function' || typeof prop !== 'string') return value;
      return (...args: unknown[]) => {
        const result = (value as (...a: unknown[]) => unknown).apply(obj, args);
        if (!(result instanceof Promise)) return result;
        let timer: NodeJS.Timeout | undefined;
        const expired = new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new StoreDeadlineError(prop, ms)), ms);
        });
        return Promise.race([result, expired]).finally(() => clearTimeout(timer));
      };
    },
  });
}
