/**
 * Request Activation Code for an ES2+ operator (AID.02 4.3, 4.3.1, 7.7.1): DownloadOrder for the
 * EID and the mapped profile type, ConfirmOrder with releaseFlag true, the activation code built
 * from the MatchingID and the SM-DP+ address; 200 at once. A full subscription swaps: the CMP's
 * candidate when it is a live profile of the token, else the least recently used one; the swapped
 * profile is cancelled on the SM-DP+ while it has not been downloaded, and the operator is told.
 * The same activationCodeRequestID always gets the same code: a request found in the Store is
 * answered from it, or resumed where it stopped, and never orders a second profile.
 */
import { randomInt } from 'node:crypto';
import type { Logger } from '../../log';
import type { EsimProfile } from './profile';
import type { DialectAnswer } from '../dialect';
import { buildActivationCode, qrCodePayload } from '../../esim/activationCode';
import { answerKindOf } from './errorMapping';
import { EID_PATTERN, executed, type StatusCodeData } from './es2Messages';
import type { Es2Operator } from './operator';
import { admission, codeAnswer, refusal, remaining, retireSwapped, type ActivationRequest } from '../../hostedMsp/operations';
import { ICCID_PATTERN, normalizeIccid } from '../../esim/iccid';

/** a profile whose activation code has been made */
type Released = EsimProfile & { readonly activationCode: string };

/** refused before the SM-DP+ is asked */
function checkActivationRequest(op: Es2Operator, req: ActivationRequest): void {
  if (!op.settings.profileTypes.has(req.profileType)) throw refusal('profileTypeUnknown', 'this MSP offers no such profile type');
  if (!EID_PATTERN.test(req.eid)) throw refusal('invalidEid', 'an EID is 32 digits (SGP.22 4.3.1)');
}

export async function requestActivationCode(op: Es2Operator, req: ActivationRequest, deadline: number, log: Logger): Promise<DialectAnswer> {
  checkActivationRequest(op, req);
  return op.withSubscription(req.mspToken, deadline, async () => {
    const admitted = await admission(op, req);
    if (admitted.answered) return codeAnswer(admitted.answered);
    // an order that stopped after DownloadOrder is resumed with its ICCID and MatchingID
    const { resumed, others, candidate } = admitted;

    const ordered = resumed ? { ...resumed, swappedIccid: candidate?.iccid ?? null } : await downloadOrder(op, req, candidate, deadline, log);
    const released = await confirmOrder(op, ordered, resumed !== undefined, deadline, log);
    op.countProfileEvent('ordered');
    // the operator's back office may hand the code out itself (a printed QR code for a workshop)
    await op.tell('profileOrdered', released, {
      swappedIccid: released.swappedIccid,
      activationCode: released.activationCode,
      qrCode: qrCodePayload(released.activationCode),
    });
    const swapped = released.swappedIccid === null ? undefined : others.find((p) => p.iccid === released.swappedIccid);
    // the SM-DP+ cancels it while it has not been downloaded
    if (swapped) await retireSwapped(op, swapped, 'cancelledOnSmdp', async () => (await cancel(op, swapped, 'Unavailable', deadline, log)) === 'cancelled');
    return codeAnswer(released);
  });
}

async function downloadOrder(op: Es2Operator, req: ActivationRequest, candidate: EsimProfile | undefined, deadline: number, log: Logger): Promise<EsimProfile> {
  const answer = await op.client.call(
    'downloadOrder',
    { eid: req.eid, profileType: op.settings.profileTypes.get(req.profileType) },
    remaining(deadline, 'ES2+ downloadOrder'),
    log,
  );
  if (!executed(answer.execution)) throw refusal(answerKindOf(answer.execution));
  const iccid = answer.data.iccid;
  if (typeof iccid !== 'string' || !ICCID_PATTERN.test(iccid)) {
    log.error({ function: 'downloadOrder' }, 'ES2+ DownloadOrder answered without a valid ICCID');
    throw refusal('smdpFailed', 'the SM-DP+ returned no ICCID');
  }
  const now = Date.now();
  const profile: EsimProfile = {
    msp: op.id,
    iccid: normalizeIccid(iccid),
    smdpIccid: iccid,
    mspToken: req.mspToken,
    cmp: req.cmp,
    eid: req.eid,
    profileType: req.profileType,
    activationCodeRequestId: req.activationCodeRequestID,
    matchingId: newMatchingId(),
    swappedIccid: candidate?.iccid ?? null,
    state: 'ordered',
    createdAt: now,
    usedAt: now,
    progress: [],
  };
  // recorded before ConfirmOrder: a retry resumes with this ICCID and MatchingID
  await op.save(profile);
  return profile;
}

async function confirmOrder(op: Es2Operator, profile: EsimProfile, resumed: boolean, deadline: number, log: Logger): Promise<Released> {
  const answer = await op.client.call(
    'confirmOrder',
    { iccid: smdpIccidOf(profile), eid: profile.eid, matchingId: profile.matchingId, releaseFlag: true },
    remaining(deadline, 'ES2+ confirmOrder'),
    log,
  );
  // a resumed request whose first ConfirmOrder went through (its answer was lost): the SM-DP+ says
  // the ICCID is already confirmed (8.2.1 / 3.3) or our MatchingID is already in use (8.2.6 / 3.3);
  // either way the order stands with our MatchingID and must not be cancelled
  const alreadyConfirmed = resumed && answer.execution.status === 'Failed' && isAlreadyConfirmed(answer.execution.statusCodeData);
  if (!executed(answer.execution) && !alreadyConfirmed) {
    // never handed out: back to the inventory
    await cancel(op, profile, 'Available', deadline, log);
    await op.save({ ...profile, state: 'cancelled' });
    throw refusal(answerKindOf(answer.execution));
  }
  const matchingId = typeof answer.data.matchingId === 'string' && answer.data.matchingId !== '' ? answer.data.matchingId : profile.matchingId;
  const smdpAddress = typeof answer.data.smdpAddress === 'string' && answer.data.smdpAddress !== '' ? answer.data.smdpAddress : op.settings.smdpAddress;
  let activationCode: string;
  try {
    activationCode = buildActivationCode({ smdpAddress, matchingId, smdpOid: op.settings.smdpOid });
  } catch (err) {
    log.error({ reason: (err as Error).message }, 'no activation code can be built from the ConfirmOrder answer');
    throw refusal('smdpFailed', 'the SM-DP+ returned an unusable MatchingID or address');
  }
  const released: Released = { ...profile, matchingId, activationCode, state: 'released', usedAt: Date.now() };
  await op.save(released);
  return released;
}

export type CancelOutcome = 'cancelled' | 'refused' | 'unreachable';

/**
 * CancelOrder. Whatever the SM-DP+ does is logged and counted here; the caller decides what an
 * unreachable SM-DP+ means for the CMP's answer.
 */
export async function cancel(
  op: Es2Operator,
  profile: EsimProfile,
  finalProfileStatusIndicator: 'Available' | 'Unavailable',
  deadline: number,
  log: Logger,
): Promise<CancelOutcome> {
  try {
    const answer = await op.client.call(
      'cancelOrder',
      { iccid: smdpIccidOf(profile), eid: profile.eid, matchingId: profile.matchingId, finalProfileStatusIndicator },
      remaining(deadline, 'ES2+ cancelOrder'),
      log,
    );
    if (!executed(answer.execution)) return 'refused';
    op.countProfileEvent('cancelled');
    return 'cancelled';
  } catch (err) {
    log.warn({ err: (err as Error).message, function: 'cancelOrder' }, 'ES2+ CancelOrder not carried out');
    return 'unreachable';
  }
}

const ALREADY_CONFIRMED: readonly (readonly [string, string])[] = [
  ['8.2.1', '3.3'],
  ['8.2.6', '3.3'],
];

function isAlreadyConfirmed(data: StatusCodeData | undefined): boolean {
  return data !== undefined && ALREADY_CONFIRMED.some(([subject, reason]) => data.subjectCode === subject && data.reasonCode === reason);
}

/** the ICCID as the SM-DP+ wrote it, for the ES2+ calls that name the profile */
function smdpIccidOf(profile: EsimProfile): string {
  return profile.smdpIccid ?? profile.iccid;
}

const MATCHING_ID_ALPHABET = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ';

/** `XXXXX-XXXXX-XXXXX-XXXXX`, the shape of the seed's examples (about 103 bits) */
export function newMatchingId(): string {
  const groups = Array.from({ length: 4 }, () => Array.from({ length: 5 }, () => MATCHING_ID_ALPHABET[randomInt(MATCHING_ID_ALPHABET.length)]).join(''));
  return groups.join('-');
}
