/**
 * Request Activation Code for a TelcoAPI operator (AID.02 4.3, 4.3.1, 7.7.1). The EID is checked
 * first (32 digits, SGP.29 check digits: 423 without asking the platform); then the device is
 * looked up or registered and its compatibility with the profile type checked; a profile the
 * operator made for the device itself and the hub has handed to no one is taken, else one is created
 * with the next ICCID of the operator's block; its activation code comes from the creation's answer
 * (or is generated). A full subscription swaps as for every MSP-side dialect; the swapped
 * profile is deleted on the platform while no device has it, else deactivated, and the operator is
 * told.
 *
 * The same activationCodeRequestID never creates a second profile: the profile is recorded with
 * its ICCID before the platform is asked to create it, so a retry after a lost answer asks the
 * platform about that ICCID again instead of creating another.
 */
import type { Logger } from '../../log';
import type { DialectAnswer } from '../dialect';
import { parseActivationCode, qrCodePayload } from '../../esim/activationCode';
import { isValidEid } from '../../esim/eid';
import { admission, codeAnswer, refusal, type ActivationRequest } from '../../hostedMsp/operations';
import { ICCID_PATTERN, normalizeIccid } from '../../esim/iccid';
import type { OperatorProfile } from '../../hostedMsp/profile';
import { retire } from './deactivation';
import { answerFor, PlatformError } from './errorMapping';
import type { TelcoOperator } from './operator';
import { isObject, type PlatformRequest } from './platformClient';
import type { ProfileTypeSettings } from './settings';

/** ICCIDs of the block tried when the platform says one is taken already (a block reused) */
const MAX_TAKEN_ICCIDS = 5;

export async function requestActivationCode(op: TelcoOperator, req: ActivationRequest, deadline: number, log: Logger): Promise<DialectAnswer> {
  const type = op.settings.profileTypes.get(req.profileType);
  if (!type) throw refusal('profileTypeUnknown', 'this MSP offers no such profile type');
  if (!isValidEid(req.eid)) throw refusal('invalidEid', 'an EID is 32 digits whose last two are its check digits (SGP.29)');
  return op.withSubscription(req.mspToken, deadline, async () => {
    const admitted = await admission(op, req);
    if (admitted.answered) return codeAnswer(admitted.answered);
    // a request that stopped after its ICCID was taken is resumed with that ICCID
    const { resumed, others, candidate } = admitted;
    try {
      await readyDevice(op, req, type, deadline, log);
      const waiting = resumed ? undefined : await waitingProfile(op, req, type, deadline, log);
      const ordered = resumed ? { ...resumed, swappedIccid: candidate?.iccid ?? null } : await order(op, req, candidate, deadline, waiting);
      const { profile, activationCode } = waiting
        ? { profile: ordered, activationCode: await generateCode(op, ordered, deadline, log) }
        : await create(op, ordered, type, resumed !== undefined, deadline, log);
      const released: OperatorProfile = { ...profile, activationCode, state: 'released', usedAt: Date.now() };
      await op.save(released);
      op.countProfileEvent('ordered');
      await op.tell('profileOrdered', released, { swappedIccid: released.swappedIccid, activationCode, qrCode: qrCodePayload(activationCode) });
      const swapped = released.swappedIccid === null ? undefined : others.find((p) => p.iccid === released.swappedIccid);
      if (swapped) await retireSwapped(op, swapped, deadline, log);
      return codeAnswer(released);
    } catch (err) {
      throw err instanceof PlatformError ? answerFor(err) : err;
    }
  });
}

/**
 * AID.02 4.3.1: the swapped profile leaves the subscription (7.7.1: `swappedIccid`, "the profile
 * which the MSP deactivated"). On the platform it is deleted while no device has it, else
 * deactivated (deactivation.ts: the platform's state decides, not the hub's record, which may lag);
 * the operator hears what the platform did (`onPlatform`; `deletedOnPlatform` as before).
 */
async function retireSwapped(op: TelcoOperator, profile: OperatorProfile, deadline: number, log: Logger): Promise<void> {
  const onPlatform = await retire(op, profile, deadline, log);
  const swapped: OperatorProfile = { ...profile, state: 'swapped', usedAt: Date.now() };
  await op.save(swapped);
  op.countProfileEvent('swapped');
  await op.tell('profileSwapped', swapped, { deletedOnPlatform: onPlatform === 'deleted', onPlatform });
}

/** the device known to the platform (looked up, else registered) and able to take the type */
async function readyDevice(op: TelcoOperator, req: ActivationRequest, type: ProfileTypeSettings, deadline: number, log: Logger): Promise<void> {
  const eid = encodeURIComponent(req.eid);
  try {
    // not registered yet (404) is the usual first visit of a car
    await op.client.call('getDevice', { method: 'GET', path: `/devices/${eid}`, expected: [404] }, deadline, log);
  } catch (err) {
    if (!(err instanceof PlatformError && err.httpStatus === 404)) throw err;
    const deviceInfo = { manufacturer: req.cmp, model: req.deviceType ?? 'unknown', osVersion: 'unknown', lpaVersion: 'unknown', capabilities: [] };
    try {
      await op.client.call('registerDevice', { method: 'POST', path: '/devices', body: { eid: req.eid, deviceInfo }, expected: [409] }, deadline, log);
    } catch (registered) {
      // another request registered it meanwhile
      if (!(registered instanceof PlatformError && registered.httpStatus === 409)) throw registered;
    }
  }
  const json = await compatibility(op, eid, type, deadline, log);
  if (json !== undefined && json.compatible !== true) {
    // the platform's words may name the device
    const reasons = Array.isArray(json.reasons)
      ? json.reasons
          .filter((r): r is string => typeof r === 'string')
          .slice(0, 5)
          .map((r) => op.client.wordsFit(r).slice(0, 200))
      : [];
    log.warn({ reasons }, 'the platform finds the device not compatible with the profile type');
    throw new PlatformError(200, 'DEVICE_NOT_COMPATIBLE', 'not compatible');
  }
}

/**
 * The seed names two forms of the compatibility check: the API Reference's `GET
 * /devices/{eid}/compatibility?profileType=` and the endpoint list's `POST
 * /devices/{eid}/check-compatibility` (no body given; the hub sends the profile type). The one the
 * operator's `compatibility` names is asked first; a 404 or 405 (no such endpoint; a 404 that names
 * the device is about the device) is asked the other way, and the form that answered is asked first
 * from then on. A platform with neither: undefined, and Create Profile refuses a device it cannot serve.
 */
async function compatibility(
  op: TelcoOperator,
  eid: string,
  type: ProfileTypeSettings,
  deadline: number,
  log: Logger,
): Promise<Record<string, unknown> | undefined> {
  for (const form of op.compatibilityForms()) {
    const request: PlatformRequest =
      form === 'get'
        ? { method: 'GET', path: `/devices/${eid}/compatibility?profileType=${type.platformType}`, expected: [404, 405] }
        : { method: 'POST', path: `/devices/${eid}/check-compatibility`, body: { profileType: type.platformType }, expected: [404, 405] };
    try {
      const { json } = await op.client.call('checkCompatibility', request, deadline, log);
      op.compatibilityAnswered(form);
      return json;
    } catch (err) {
      const noEndpoint = err instanceof PlatformError && (err.httpStatus === 405 || (err.httpStatus === 404 && !/DEVICE|EID/.test(err.code)));
      if (!noEndpoint) throw err;
    }
  }
  log.warn('the platform offers neither compatibility endpoint; devices are not checked before Create Profile');
  return undefined;
}

/**
 * A profile the operator made for this device on the platform itself (a batch, say) and the hub has
 * handed to no one: of the profile type and the operator's MNO, still CREATED. The seed's
 * getAvailableProfiles answers a list; a `{profiles: [...]}` object is taken too.
 */
async function waitingProfile(
  op: TelcoOperator,
  req: ActivationRequest,
  type: ProfileTypeSettings,
  deadline: number,
  log: Logger,
): Promise<string | undefined> {
  const { value } = await op.client.call('deviceProfiles', { method: 'GET', path: `/devices/${encodeURIComponent(req.eid)}/profiles` }, deadline, log);
  const listed = Array.isArray(value) ? value : isObject(value) && Array.isArray(value.profiles) ? value.profiles : [];
  for (const item of listed) {
    if (!isObject(item) || typeof item.iccid !== 'string' || !ICCID_PATTERN.test(item.iccid)) continue;
    if (item.profileState !== 'CREATED' || item.profileType !== type.platformType || item.mno !== op.settings.mno || item.eid !== req.eid) continue;
    if ((await op.getProfile(normalizeIccid(item.iccid))) === undefined) return normalizeIccid(item.iccid);
  }
  return undefined;
}

/** a new profile of the subscription (the device's waiting one, else the next ICCID of the block),
 * recorded before the platform is asked for its code */
async function order(
  op: TelcoOperator,
  req: ActivationRequest,
  candidate: OperatorProfile | undefined,
  deadline: number,
  waiting: string | undefined,
): Promise<OperatorProfile> {
  const now = Date.now();
  const profile: OperatorProfile = {
    msp: op.id,
    iccid: waiting ?? (await op.nextIccid(req.profileType, deadline)),
    mspToken: req.mspToken,
    cmp: req.cmp,
    eid: req.eid,
    profileType: req.profileType,
    activationCodeRequestId: req.activationCodeRequestID,
    swappedIccid: candidate?.iccid ?? null,
    state: 'ordered',
    createdAt: now,
    usedAt: now,
  };
  await op.save(profile);
  return profile;
}

/**
 * Creates the profile on the platform and returns its activation code. An ICCID the platform has
 * already is refused 409, or 400 `INVALID_REQUEST` naming the field `iccid` (the seed's own 400
 * example; it names no reason): either way `GET /profiles/{iccid}` decides. This request's own
 * profile when it names the same EID (a retry after a lost answer); someone else's, and the next
 * ICCID of the block is taken; none at all after a 400, and the 400 stands (the ICCID was refused
 * for its format).
 */
async function create(
  op: TelcoOperator,
  ordered: OperatorProfile,
  type: ProfileTypeSettings,
  resumed: boolean,
  deadline: number,
  log: Logger,
): Promise<{ profile: OperatorProfile; activationCode: string }> {
  let profile = ordered;
  for (let taken = 0; ; taken++) {
    let refused: PlatformError;
    try {
      const { json } = await op.client.call('createProfile', { method: 'POST', path: '/profiles', body: createBody(op, profile, type) }, deadline, log);
      const given = typeof json.activationCode === 'string' ? json.activationCode : undefined;
      return { profile, activationCode: usable(given) ?? (await generateCode(op, profile, deadline, log)) };
    } catch (err) {
      if (!(err instanceof PlatformError && mayExist(err))) throw err;
      refused = err;
    }
    const holder = await holderOf(op, profile, type, deadline, log);
    if (holder === 'this request') return { profile, activationCode: await generateCode(op, profile, deadline, log) };
    if (holder === 'nobody' && refused.httpStatus === 400) throw refused;
    if (taken + 1 >= MAX_TAKEN_ICCIDS) throw refusal('noActivationCode', 'the platform has the next ICCIDs of the block already');
    log.warn({ resumed }, 'the platform has this ICCID already; the next one of the block is taken');
    await op.save({ ...profile, state: 'cancelled' });
    profile = { ...profile, iccid: await op.nextIccid(profile.profileType, deadline) };
    await op.save(profile);
  }
}

/** Create Profile's refusals that may mean "this ICCID exists" */
function mayExist(err: PlatformError): boolean {
  if (err.httpStatus === 409) return true;
  return err.httpStatus === 400 && err.code === 'INVALID_REQUEST' && (err.field === undefined || err.field === 'iccid');
}

/**
 * whose the platform's profile of this ICCID is: this request's only when it is what the hub's
 * Create Profile asked for (the EID, the operator's MNO, the platform type) and not deleted; a
 * profile someone else made for the same device is not handed to the CMP
 */
async function holderOf(
  op: TelcoOperator,
  profile: OperatorProfile,
  type: ProfileTypeSettings,
  deadline: number,
  log: Logger,
): Promise<'this request' | 'someone else' | 'nobody'> {
  try {
    const { json } = await op.client.call(
      'getProfile',
      { method: 'GET', path: `/profiles/${encodeURIComponent(profile.iccid)}`, expected: [404] },
      deadline,
      log,
    );
    const asCreated = json.eid === profile.eid && json.mno === op.settings.mno && json.profileType === type.platformType;
    return asCreated && json.profileState !== 'DELETED' ? 'this request' : 'someone else';
  } catch (err) {
    if (err instanceof PlatformError && err.httpStatus === 404) return 'nobody';
    throw err;
  }
}

/** seed: Create Profile's request body */
function createBody(op: TelcoOperator, profile: OperatorProfile, type: ProfileTypeSettings): Record<string, unknown> {
  return {
    iccid: profile.iccid,
    eid: profile.eid,
    profileType: type.platformType,
    mno: op.settings.mno,
    metadata: { name: type.name, description: `AID.02 profile type ${profile.profileType}`, policies: [], features: [] },
  };
}

async function generateCode(op: TelcoOperator, profile: OperatorProfile, deadline: number, log: Logger): Promise<string> {
  const { json } = await op.client.call(
    'generateActivationCode',
    { method: 'POST', path: `/profiles/${encodeURIComponent(profile.iccid)}/activation-code` },
    deadline,
    log,
  );
  const code = usable(typeof json.activationCode === 'string' ? json.activationCode : undefined);
  if (!code) {
    log.error({ function: 'generateActivationCode' }, 'the platform gave no activation code in the SGP.22 format');
    throw refusal('platformFailed', 'the platform gave no usable activation code');
  }
  return code;
}

/**
 * An activation code in the SGP.22 format (4.1), or undefined. A platform may give the text of a QR
 * code (`LPA:1$…`); AID.02 7.7.1 carries the code itself (`1$…`): the prefix goes.
 */
function usable(code: string | undefined): string | undefined {
  if (code === undefined) return undefined;
  const bare = code.trim().replace(/^LPA:/i, '');
  try {
    parseActivationCode(bare);
    return bare;
  } catch {
    return undefined;
  }
}
