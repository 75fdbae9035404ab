/**
 * How an ES2+ operator's profile moves: from the SM-DP+'s download progress (the seed's
 * notification points 1-4), from the CMP's Send CSIM Status (AID.02 7.8), and what AID.02 status
 * (7.10: prepared, installed, enabled, disabled) the CMP is told. A profile never goes back from
 * what the vehicle reported to what the download reported, and a deleted, swapped or cancelled
 * profile only ever becomes deleted.
 */
import type { ProfileState } from './profile';

export type CsimStatus = 'deleted' | 'enabled' | 'disabled' | 'installed' | 'installation_failed';
export type Aid02ProfileStatus = 'prepared' | 'installed' | 'enabled' | 'disabled';

const GONE: ReadonlySet<ProfileState> = new Set(['deleted', 'swapped', 'cancelled']);
/** not yet on an eUICC: the SM-DP+ may still cancel its order */
const NOT_DOWNLOADED: ReadonlySet<ProfileState> = new Set(['ordered', 'released']);
/** what the download may still change */
const DOWNLOADING: ReadonlySet<ProfileState> = new Set(['released', 'downloaded', 'installationFailed']);

/** holds a slot of the subscription */
export function isLive(state: ProfileState): boolean {
  return !GONE.has(state);
}

export function isCancellable(state: ProfileState): boolean {
  return NOT_DOWNLOADED.has(state);
}

/** the notification points the seed defines; 0-99 are reserved, >= 100 are the operator's own */
export const NOTIFICATION_POINTS: Readonly<Record<number, string>> = {
  1: 'eligibility and retry limit check',
  2: 'confirmation failure',
  3: 'BPP download',
  4: 'BPP installation',
};

export function afterProgress(state: ProfileState, notificationPointId: number, succeeded: boolean): ProfileState {
  if (!DOWNLOADING.has(state)) return state;
  switch (notificationPointId) {
    case 1:
    case 2:
      return succeeded ? state : 'installationFailed';
    case 3:
      return succeeded ? (state === 'released' ? 'downloaded' : state) : 'installationFailed';
    case 4:
      return succeeded ? 'installed' : 'installationFailed';
    default:
      return state;
  }
}

export function afterCsimStatus(state: ProfileState, status: CsimStatus): ProfileState {
  if (status === 'deleted') return 'deleted';
  if (!isLive(state)) return state;
  return status === 'installation_failed' ? 'installationFailed' : status;
}

/** what Request Profile Status reports; undefined for a profile it does not list */
export function aid02Status(state: ProfileState): Aid02ProfileStatus | undefined {
  switch (state) {
    case 'released':
    case 'downloaded':
    // a failed installation may be tried again with the same activation code (SGP.22 retry limit)
    case 'installationFailed':
      return 'prepared';
    case 'installed':
    case 'enabled':
    case 'disabled':
      return state;
    default:
      return undefined;
  }
}
