/**
 * `--redis-wait-replicas N`: a write that a partner is then told about (a 201 recorded, a delivery
 * queued, a token bound) returns only once N replicas have it too (Redis WAIT on the connection
 * that carried it). Redis replicates asynchronously, so without it a primary that dies a moment
 * after a write can take the write with it when a replica is promoted.
 */
export function afterWrites<T extends object>(port: T, writes: readonly (keyof T & string)[], wait: () => Promise<void>): T {
  const chosen = new Set<string>(writes);
  return new Proxy(port, {
    get(obj, prop, receiver) {
      const value = Reflect.get(obj, prop, receiver) as unknown;
      if (typeof value !== 'function' || typeof prop !== 'string' || !chosen.has(prop)) return value;
      return async (...args: unknown[]) => {
        const result: unknown = await (value as (...a: unknown[]) => Promise<unknown>).apply(obj, args);
        await wait();
        return result;
      };
    },
  });
}
