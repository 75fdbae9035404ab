/**
 * Measures every call into the store and its outbox (latency, failures), so that operations can
 * see Redis from the hub's side. A wrapper rather than code in each store: both stores, every
 * method, the same way.
 */
import type { Metrics } from '../metrics/metrics';
import type { Store } from './store';
import { mapPorts } from './storePorts';

export function instrumentStore(store: Store, metrics: Metrics): Store {
  return mapPorts(store, (target, name) => instrument(target, store.kind, `${name}.`, metrics));
}

function instrument<T extends object>(target: T, kind: string, prefix: string, metrics: Metrics): T {
  // one measured function per method, made on first use
  const measured = new Map<string, unknown>();
  return new Proxy(target, {
    get(obj, prop, receiver) {
      const value = Reflect.get(obj, prop, receiver) as unknown;
      if (typeof value !== 'function' || typeof prop !== 'string') return value;
      const known = measured.get(prop);
      if (known !== undefined) return known;
      const operation = `${prefix}${prop}`;
      const timing = metrics.storeOperations.labels(kind, operation);
      // at 0 from the first use: the operation's first failure shows as one, not as a new series
      const failures = metrics.storeErrors.labels(kind, operation);
      const wrapper = async (...args: unknown[]) => {
        const started = performance.now();
        try {
          return await (value as (...a: unknown[]) => Promise<unknown>).apply(obj, args);
        } catch (err) {
          failures.inc();
          throw err;
        } finally {
          timing.observe((performance.now() - started) / 1000);
        }
      };
      measured.set(prop, wrapper);
      return wrapper;
    },
  });
}
