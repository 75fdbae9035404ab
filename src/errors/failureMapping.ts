/**
 * Failures become the hub's answers here, and only here: a partner that could not be called or did
 * not answer, and a state store that failed, each by its kind, to the catalogue entry (errors.ts)
 * that answers the caller. Partners' own answers never pass through: they are forwarded as they came.
 */
import { HubError, type ErrorKind } from './catalogue';
import { StoreFullError } from './storeFullError';
import type { UpstreamError } from './upstreamError';

/** entries expire over minutes to days: a full store is not emptier a second later */
const FULL_RETRY_AFTER_SECONDS = 30;

/**
 * The answer to a partner call that failed. `unreachable`: what a dialect that plays the partner
 * itself says of its partner's system being away (its policy), instead of the hub's 502.
 */
export function upstreamFailure(err: UpstreamError, target: string, unreachable?: ErrorKind): HubError {
  const detail = `${target}: ${err.message}`;
  const retryAfter = { 'retry-after': String(Math.max(1, Math.ceil((err.retryAfterMs ?? 0) / 1000))) };
  switch (err.failure) {
    case 'timeout':
      return new HubError('upstreamTimeout', { detail, cause: err });
    case 'breakerOpen':
      return new HubError('breakerOpen', { detail, headers: retryAfter, cause: err });
    case 'busy':
      return new HubError('upstreamBusy', { detail, headers: retryAfter, cause: err });
    default:
      return unreachable ? new HubError(unreachable, { detail, headers: retryAfter, cause: err }) : new HubError('upstreamUnreachable', { detail, cause: err });
  }
}

/** the answer to a request whose state `step` could not be read or written: nothing happened yet */
export function storeFailure(err: unknown, step: string): HubError {
  if (err instanceof HubError) return err;
  if (err instanceof StoreFullError)
    return new HubError('stateFull', { detail: step, headers: { 'retry-after': String(FULL_RETRY_AFTER_SECONDS) }, cause: err });
  return new HubError('stateUnavailable', { detail: step, headers: { 'retry-after': '1' }, cause: err });
}
