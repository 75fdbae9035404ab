/**
 * Store calls from the pipeline. Before the partner is called, a store failure refuses the request
 * (503, nothing has happened yet), unless the call is only a safety net (`optional`). After the
 * partner answered, bookkeeping that fails is logged and counted, and the partner's answer still
 * reaches the caller, except where losing the record would lose a delivery (the caller of
 * `required` decides).
 */
import { HubError } from '../errors';
import { StoreFullError } from '../state/store';
import type { HubContext, PipelineDeps } from './types';

/** entries expire over minutes to days: a full store is not emptier a second later */
const FULL_RETRY_AFTER_SECONDS = 30;

export async function required<T>(deps: Pick<PipelineDeps, 'metrics'>, step: string, call: Promise<T>): Promise<T> {
  try {
    return await call;
  } catch (err) {
    deps.metrics.stateErrors.inc({ step });
    if (err instanceof StoreFullError) throw new HubError('stateFull', { detail: step, headers: { 'retry-after': String(FULL_RETRY_AFTER_SECONDS) }, cause: err });
    throw new HubError('stateUnavailable', { detail: step, headers: { 'retry-after': '1' }, cause: err });
  }
}

export async function bestEffort(ctx: HubContext, deps: PipelineDeps, step: string, call: Promise<unknown>): Promise<void> {
  try {
    await call;
  } catch (err) {
    deps.metrics.stateErrors.inc({ step });
    ctx.state.log.error({ err, step }, 'state bookkeeping failed after the partner answered');
  }
}

/** a check that is skipped, not failed, while the store is away */
export async function optional<T>(ctx: HubContext, deps: PipelineDeps, step: string, call: Promise<T>): Promise<T | undefined> {
  try {
    return await call;
  } catch (err) {
    deps.metrics.stateErrors.inc({ step });
    ctx.state.log.warn({ err: (err as Error).message, step }, 'check skipped: state store unavailable');
    return undefined;
  }
}
