/**
 * AID.02 7.9 on the platform for a profile already on a vehicle: "The MSP must deactivate all
 * profiles immediately after receiving 'Request invalidate MSP token'". The operator's
 * `onInvalidate` chooses how: Disable Profile (`POST /profiles/{iccid}/disable`, the default: the
 * operator may still enable it again) or Delete Profile (`DELETE /profiles/{iccid}`). A profile the
 * platform no longer has is deleted already; another refusal is reported as such.
 */
import type { Logger } from '../../log';
import { UpstreamError } from '../../upstream/upstreamError';
import type { DeactivateOutcome } from '../../hostedMsp/operations';
import type { OperatorProfile } from '../../hostedMsp/profile';
import { PlatformError } from './errorMapping';
import type { TelcoOperator } from './operator';

export async function deactivate(op: TelcoOperator, profile: OperatorProfile, deadline: number, log: Logger): Promise<DeactivateOutcome> {
  const path = `/profiles/${encodeURIComponent(profile.iccid)}`;
  const deleting = op.settings.onInvalidate === 'delete';
  try {
    if (deleting) await op.client.call('deleteProfile', { method: 'DELETE', path }, deadline, log);
    else await op.client.call('disableProfile', { method: 'POST', path: `${path}/disable` }, deadline, log);
  } catch (err) {
    if (err instanceof PlatformError && err.httpStatus === 404) return 'deleted';
    if (err instanceof PlatformError && err.httpStatus < 500) {
      log.warn({ httpStatus: err.httpStatus, code: err.code }, 'the platform refused to deactivate a profile of an invalidated msp_token');
      return 'refused';
    }
    if (err instanceof PlatformError || err instanceof UpstreamError) return 'unreachable';
    throw err;
  }
  log.info({ onPlatform: deleting ? 'deleted' : 'disabled' }, 'profile of an invalidated msp_token deactivated on the platform');
  return deleting ? 'deleted' : 'disabled';
}
