/**
 * How a request treats its store calls. Before the partner is called, a store failure refuses the
 * request (503, nothing has happened yet: `required`). After the partner answered, bookkeeping
 * that fails is logged and the partner's answer still reaches the caller (`bestEffort`), except
 * where losing the record would lose a delivery (the caller of `required` decides). The failure itself is counted once, per store
 * operation, by instrumentedStore.
 */
import { storeFailure } from './failureMapping';
import type { Logger } from '../log';

export async function required<T>(step: string, call: Promise<T>): Promise<T> {
  try {
    return await call;
  } catch (err) {
    throw storeFailure(err, step);
  }
}

/** `logs.log` is read only when there is something to log: a request's logger is made on first use */
export async function bestEffort(logs: { readonly log: Logger }, step: string, call: Promise<unknown>): Promise<void> {
  try {
    await call;
  } catch (err) {
    logs.log.error({ err, step }, 'state bookkeeping failed after the partner answered');
  }
}
