/**
 * How an operator's profile moves when the hub is its MSP: from what the partner system reports
 * (an ES2+ download progress, a platform's webhook), from the CMP's Send CSIM Status (AID.02 7.8),
 * and what AID.02 status (7.10: prepared, installed, enabled, disabled) the CMP is told. A profile
 * never goes back from what the vehicle reported to what the download reported, and a deleted,
 * swapped or cancelled profile only ever becomes deleted.
 *
 * `ordered`: reserved on the partner system, no code yet; `released`: its activation code handed
 * out; then what the system and the CMP report. `deleted`, `swapped` and `cancelled` profiles hold
 * no slot of the subscription.
 */
import type { CsimStatus } from '../esim/csimStatus';

export type ProfileState =
  'ordered' | 'released' | 'downloaded' | 'installed' | 'enabled' | 'disabled' | 'installationFailed' | 'deleted' | 'swapped' | 'cancelled';

export type Aid02ProfileStatus = 'prepared' | 'installed' | 'enabled' | 'disabled';

const GONE: ReadonlySet<ProfileState> = new Set(['deleted', 'swapped', 'cancelled']);
/** not yet on an eUICC: the partner system may still withdraw it */
const NOT_DOWNLOADED: ReadonlySet<ProfileState> = new Set(['ordered', 'released']);

/** holds a slot of the subscription */
export function isLive(state: ProfileState): boolean {
  return !GONE.has(state);
}

export function isCancellable(state: ProfileState): boolean {
  return NOT_DOWNLOADED.has(state);
}

export function afterCsimStatus(state: ProfileState, status: CsimStatus): ProfileState {
  if (status === 'deleted') return 'deleted';
  if (!isLive(state)) return state;
  return status === 'installation_failed' ? 'installationFailed' : status;
}

/** the metric event of a state */
export function eventOf(state: ProfileState): string {
  return state === 'installationFailed' ? 'installation_failed' : state;
}

/** what Request Profile Status reports; undefined for a profile it does not list */
export function aid02Status(state: ProfileState): Aid02ProfileStatus | undefined {
  switch (state) {
    case 'released':
    case 'downloaded':
    case 'installationFailed': // may be tried again with the same activation code (SGP.22 retry limit)
      return 'prepared';
    case 'installed':
    case 'enabled':
    case 'disabled':
      return state;
    default:
      return undefined;
  }
}
