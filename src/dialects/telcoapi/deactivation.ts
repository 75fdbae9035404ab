/**
 * A profile leaving a subscription, on the platform. The hub's record may lag behind the platform
 * (an event not delivered yet), so the platform's own state decides (`GET /profiles/{iccid}`):
 *
 * - not on a device yet (CREATED): Delete Profile, so no car downloads it any more;
 * - on a device (DOWNLOADED, INSTALLED, ENABLED, DISABLED): never deleted from under a car the hub
 *   does not know to have it; deactivated as the operator's `onInvalidate` says, Disable Profile
 *   (`POST /profiles/{iccid}/disable`, the default: the operator may still enable it again) or
 *   Delete Profile. AID.02 7.9: "The MSP must deactivate all profiles immediately after receiving
 *   'Request invalidate MSP token'"; AID.02 7.7.1: `swappedIccid` is "the profile which the MSP
 *   deactivated" (the CMP deletes it from the vehicle, 4.3.1);
 * - gone (404, or DELETED): deleted already.
 *
 * The seed does not say what Delete Profile answers for a profile deleted already: 404
 * PROFILE_NOT_FOUND, or 409 OPERATION_NOT_PERMITTED for a profile that stays readable as DELETED.
 * Both are "deleted" (the 409 once a read confirms DELETED); another refusal is reported as such.
 */
import type { Logger } from '../../log';
import { UpstreamError } from '../../errors/upstreamError';
import type { DeactivateOutcome, WithdrawOutcome } from '../../hostedMsp/operations';
import type { OperatorProfile } from '../../hostedMsp/profile';
import { isCancellable } from '../../hostedMsp/profileStates';
import { PlatformError } from './errorMapping';
import type { TelcoOperator } from './operator';

/** the platform's profile states in which a device has the profile */
const ON_A_DEVICE: ReadonlySet<string> = new Set(['DOWNLOADED', 'INSTALLED', 'ENABLED', 'DISABLED']);

/** AID.02 7.9 for a profile the hub's record has on a vehicle */
export async function deactivate(op: TelcoOperator, profile: OperatorProfile, deadline: number, log: Logger): Promise<DeactivateOutcome> {
  const outcome = await retire(op, profile, deadline, log);
  if (outcome === 'refused') log.warn('the platform refused to deactivate a profile of an invalidated msp_token');
  if (outcome === 'disabled' || outcome === 'deleted') log.info({ onPlatform: outcome }, 'profile deactivated on the platform');
  return outcome;
}

/**
 * A profile not on a vehicle by the hub's record: deleted on the platform while no device has it;
 * one a device has after all is deactivated instead, and is not withdrawn (a vehicle has it)
 */
export async function withdraw(op: TelcoOperator, profile: OperatorProfile, deadline: number, log: Logger): Promise<WithdrawOutcome> {
  const outcome = await retire(op, profile, deadline, log);
  if (outcome === 'deleted') return 'withdrawn';
  return outcome === 'unreachable' ? 'unreachable' : 'refused';
}

/** by the platform's state of the profile: deleted while no device has it, else deactivated */
export async function retire(op: TelcoOperator, profile: OperatorProfile, deadline: number, log: Logger): Promise<DeactivateOutcome> {
  return outcomeOf(async () => {
    const state = await platformState(op, profile, deadline, log);
    if (state === undefined || state === 'DELETED') return 'deleted';
    if (!ON_A_DEVICE.has(state)) {
      await deleteOnPlatform(op, profile, deadline, log);
      op.countProfileEvent('cancelled');
      return 'deleted';
    }
    log.info({ platformState: state }, 'a device has the profile on the platform: deactivated, not withdrawn');
    return deactivateOnPlatform(op, profile, state, deadline, log);
  });
}

/** the platform's `profileState` (an answer without one: the hub's record's); undefined when it has no such profile */
async function platformState(op: TelcoOperator, profile: OperatorProfile, deadline: number, log: Logger): Promise<string | undefined> {
  try {
    const { json } = await op.client.call('getProfile', { method: 'GET', path: pathOf(profile), expected: [404] }, deadline, log);
    if (typeof json.profileState === 'string') return json.profileState;
    return isCancellable(profile.state) ? 'CREATED' : 'ENABLED';
  } catch (err) {
    if (err instanceof PlatformError && err.httpStatus === 404) return undefined;
    throw err;
  }
}

/**
 * Disable Profile or, with `onInvalidate: delete`, Delete Profile. The seed names no state Disable
 * Profile starts from: a platform may disable only an ENABLED profile, and refuse (409) one a device
 * has but does not run (DOWNLOADED, INSTALLED), which is inactive as it is; DISABLED is left so.
 */
async function deactivateOnPlatform(op: TelcoOperator, profile: OperatorProfile, state: string, deadline: number, log: Logger): Promise<DeactivateOutcome> {
  if (op.settings.onInvalidate === 'delete') {
    await deleteOnPlatform(op, profile, deadline, log);
    return 'deleted';
  }
  if (state === 'DISABLED') return 'disabled';
  try {
    await op.client.call('disableProfile', { method: 'POST', path: `${pathOf(profile)}/disable`, expected: [404, 409] }, deadline, log);
  } catch (err) {
    if (!(err instanceof PlatformError && err.httpStatus === 409 && state !== 'ENABLED')) throw err;
  }
  return 'disabled';
}

/** Delete Profile; gone already (404, or 409 with the profile read as DELETED) is done */
async function deleteOnPlatform(op: TelcoOperator, profile: OperatorProfile, deadline: number, log: Logger): Promise<void> {
  try {
    await op.client.call('deleteProfile', { method: 'DELETE', path: pathOf(profile), expected: [404, 409] }, deadline, log);
  } catch (err) {
    if (err instanceof PlatformError && err.httpStatus === 404) return;
    if (err instanceof PlatformError && err.httpStatus === 409 && (await platformState(op, profile, deadline, log)) === 'DELETED') return;
    throw err;
  }
}

/** a platform error as an outcome: gone (404) is deleted, another refusal refused, no answer unreachable */
async function outcomeOf(run: () => Promise<DeactivateOutcome>): Promise<DeactivateOutcome> {
  try {
    return await run();
  } catch (err) {
    if (err instanceof PlatformError && err.httpStatus === 404) return 'deleted';
    if (err instanceof PlatformError && err.httpStatus < 500) return 'refused';
    if (err instanceof PlatformError || err instanceof UpstreamError) return 'unreachable';
    throw err;
  }
}

function pathOf(profile: OperatorProfile): string {
  return `/profiles/${encodeURIComponent(profile.iccid)}`;
}
