/**
 * Measures every call into the store and its outbox (latency, failures), so that operations can
 * see Redis from the hub's side. A wrapper rather than code in each store: both stores, every
 * method, the same way.
 */
import type { Metrics } from '../metrics/metrics';
import type { Store } from './store';

export function instrumentStore(store: Store, metrics: Metrics): Store {
  const port = <T extends object>(target: T, name: string) => instrument(target, store.kind, `${name}.`, metrics);
  return {
    kind: store.kind,
    bindings: port(store.bindings, 'bindings'),
    ledger: port(store.ledger, 'ledger'),
    limits: port(store.limits, 'limits'),
    outbox: port(store.outbox, 'outbox'),
    records: (namespace) => port(store.records(namespace), 'records'),
    ping: () => store.ping(),
    close: () => store.close(),
  };
}

function instrument<T extends object>(target: T, kind: string, prefix: string, metrics: Metrics): T {
  return new Proxy(target, {
    get(obj, prop, receiver) {
      const value = Reflect.get(obj, prop, receiver) as unknown;
      if (typeof value !== 'function' || typeof prop !== 'string') return value;
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

