/**
 * How the SM-DP+'s download progress (the seed's notification points 1-4) moves an ES2+ operator's
 * profile; the rest of a profile's life is every MSP-side dialect's (hostedMsp/profileStates.ts).
 */
import type { ProfileState } from '../../hostedMsp/profileStates';

/** what the download may still change */
const DOWNLOADING: ReadonlySet<ProfileState> = new Set(['released', 'downloaded', 'installationFailed']);

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
