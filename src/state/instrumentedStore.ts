/**
 * Measures every call into the store and its outbox (latency, failures), so that operations can
 * see Redis from the hub's side. A wrapper rather than code in each store: both stores, every
 * method, the same way.
 */
import type { Metrics } from '../metrics/metrics';
import type { Store } from './store';

export function instrumentStore(store: Store, metrics: Metrics): Store {
  const outbox = instrument(store.outbox, store.kind, 'outbox.', metrics);
  const records = (namespace: string) => instrument(store.records(namespace), store.kind, 'records.', metrics);
  return instrument(store, store.kind, '', metrics, { outbox, records });
}

function instrument<T extends object>(target: T, kind: string, prefix: string, metrics: Metrics, overrides: Partial<T> = {}): T {
  return new Proxy(target, {
    get(obj, prop, receiver) {
      if (Object.hasOwn(overrides, prop)) return overrides[prop as keyof T];
      const value = Reflect.get(obj, prop, receiver) as unknown;
      if (typeof value !== 'function' || typeof prop !== 'string' || prop === 'close') return value;
      const labels = { store: kind, operation: `${prefix}${prop}` };
      return async (...args: unknown[]) => {
        const stop = metrics.storeOperations.startTimer(labels);
        try {
          return await (value as (...a: unknown[]) => Promise<unknown>).apply(obj, args);
        } catch (err) {
          metrics.storeErrors.inc(labels);
          throw err;
        } finally {
          stop();
        }
      };
    },
  });
}

