/** A store with each of its ports passed through one wrapper: what measures or breaks every call of a store does it here once. */
import type { Store } from './store';

export function mapPorts(
  store: Store,
  wrap: <T extends object>(port: T, name: string) => T,
  recordsName: (namespace: string) => string = () => 'records',
): Store {
  return {
    kind: store.kind,
    bindings: wrap(store.bindings, 'bindings'),
    ledger: wrap(store.ledger, 'ledger'),
    limits: wrap(store.limits, 'limits'),
    checks: wrap(store.checks, 'checks'),
    outbox: wrap(store.outbox, 'outbox'),
    records: (namespace) => wrap(store.records(namespace), recordsName(namespace)),
    // unwrapped: recording an event is no call into the store (it rides on the next one)
    journeys: store.journeys,
    ping: () => store.ping(),
    close: () => store.close(),
  };
}
