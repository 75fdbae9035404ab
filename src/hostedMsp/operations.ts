/**
 * What the hub does as the MSP (AID.02 Annex B.2) the same way for every operator without an AID.02
 * backend, whatever its partner system: the subscription's slots and the swap (4.3.1), Send CSIM
 * Status (7.8), Request Profile Status (7.10) and the withdrawal of Request Invalidate MSP Token
 * (7.9), all on the hub's own record of the operator's profiles. The dialect supplies what only its
 * partner system can do (order a profile, withdraw one not yet downloaded).
 */
import { HubError, type ErrorKind } from '../errors/catalogue';
import type { Logger } from '../log';
import { UpstreamError } from '../errors/upstreamError';
import type { DialectAnswer } from '../dialects/dialect';
import type { MspOperator } from './operator';
import { normalizeIccid } from '../esim/iccid';
import type { OperatorProfile } from './profile';
import type { CsimStatus } from '../esim/csimStatus';
import { afterCsimStatus, aid02Status, eventOf, isCancellable, isLive } from './profileStates';

export interface ActivationRequest {
  readonly mspToken: string;
  readonly cmp: string;
  readonly profileType: string;
  readonly eid: string;
  readonly activationCodeRequestID: string;
  /** AID.02 4.3.1: optional, and its content never an error; a string naming a live profile counts */
  readonly replaceIccid?: unknown;
  /** AID.02 deviceType, for a partner system that registers devices */
  readonly deviceType?: string;
}

/** the hub's own refusal as the MSP of such an operator: thrown, never dressed as a partner's
 * answer, so it is answered, logged and counted as the hub's */
export function refusal(kind: ErrorKind, detail?: string): HubError {
  return new HubError(kind, { detail, clientErrorStatus: 422 });
}

/** the time left for the next call to the partner system */
export function remaining(deadline: number, what: string): number {
  const ms = deadline - Date.now();
  if (ms <= 0) throw new UpstreamError('timeout', `no time left for ${what}`);
  return ms;
}

/** where a Request Activation Code stands, read under the subscription's lock */
export type Admission<P> =
  /** the request has its code already: answer it again */
  | { readonly answered: P }
  /** `resumed`: the request's profile, ordered before a failure, without its code yet; `others`:
   * the live profiles of the subscription besides it; `candidate`: the one to swap */
  | { readonly answered?: undefined; readonly resumed: P | undefined; readonly others: P[]; readonly candidate: P | undefined };

/** the request's earlier profile and the subscription's slots; a profile the request ordered and
 * that was cancelled since is ordered anew */
export async function admission<P extends OperatorProfile>(op: MspOperator<P>, req: ActivationRequest): Promise<Admission<P>> {
  const [earlier, profiles] = await Promise.all([op.findProfileByRequest(req.activationCodeRequestID), op.listProfiles(req.mspToken)]);
  const mine = earlier && earlier.mspToken === req.mspToken && earlier.cmp === req.cmp ? earlier : undefined;
  if (mine?.activationCode !== undefined) return { answered: mine };
  const resumed = mine?.state === 'ordered' ? mine : undefined;
  return { resumed, ...slotFor(op, profiles, req, resumed) };
}

/**
 * The live profiles of the subscription besides `resumed`, and the one to swap when they fill it
 * (AID.02 4.3.1 2c: the CMP deletes the swapped profile from its vehicle, so only a profile on this
 * CMP's vehicles can be swapped; none: no activation code, 422 code 49).
 */
function slotFor<P extends OperatorProfile>(
  op: MspOperator<P>,
  profiles: readonly P[],
  req: ActivationRequest,
  resumed: P | undefined,
): { others: P[]; candidate: P | undefined } {
  const others = profiles.filter((p) => isLive(p.state) && p.iccid !== resumed?.iccid);
  if (others.length < op.settings.profilesPerSubscription) return { others, candidate: undefined };
  const own = others.filter((p) => p.cmp === req.cmp);
  if (own.length === 0) throw refusal('noActivationCode', "every profile of the subscription is on another CMP's vehicles");
  return { others, candidate: swapCandidate(own, req.replaceIccid) };
}

/** AID.02 4.3.1 2c: the CMP's candidate if it can be used, else the hub's own (least recently
 * used); whatever else the CMP sent as replaceIccid is ignored, as 4.3.1 demands */
function swapCandidate<P extends OperatorProfile>(live: readonly P[], replaceIccid: unknown): P {
  const suggested = typeof replaceIccid === 'string' ? live.find((p) => p.iccid === normalizeIccid(replaceIccid)) : undefined;
  return suggested ?? [...live].sort((a, b) => a.usedAt - b.usedAt)[0];
}

/**
 * AID.02 4.3.1: the swapped profile leaves the subscription; the partner system withdraws it while no
 * vehicle has it (`withdraw`), and the operator is told whether it did, under `withdrawnKey` (the
 * dialect's word for it)
 */
export async function retireSwapped<P extends OperatorProfile>(
  op: MspOperator<P>,
  profile: P,
  withdrawnKey: string,
  withdraw: () => Promise<boolean>,
): Promise<void> {
  const withdrawn = isCancellable(profile.state) && (await withdraw());
  await op.save({ ...profile, state: 'swapped', usedAt: Date.now() });
  op.countProfileEvent('swapped');
  await op.tell('profileSwapped', { ...profile, state: 'swapped' }, { [withdrawnKey]: withdrawn });
}

/** the answer of Request Activation Code (AID.02 7.7.1) */
export function codeAnswer(profile: OperatorProfile): DialectAnswer {
  const body = { iccid: profile.iccid, activationCode: profile.activationCode, profileType: profile.profileType, swappedIccid: profile.swappedIccid };
  return { status: 200, contentType: 'application/json', body: Buffer.from(JSON.stringify(body)), durationMs: 0 };
}

/** AID.02 7.8: the profile's new state; a deleted profile frees its slot (A.4) */
export async function sendCsimStatus<P extends OperatorProfile>(
  op: MspOperator<P>,
  mspToken: string,
  body: { iccid: string; status: CsimStatus },
  deadline: number,
  log: Logger,
): Promise<DialectAnswer> {
  return op.withSubscription(mspToken, deadline, async () => {
    const profile = await op.getProfile(normalizeIccid(body.iccid));
    if (!owned(profile, mspToken)) throw notOwned(profile);
    const state = afterCsimStatus(profile.state, body.status);
    const updated: P = { ...profile, state, usedAt: Date.now() };
    await op.save(updated);
    if (state !== profile.state) op.countProfileEvent(eventOf(state));
    log.info({ profileState: state, reported: body.status }, 'CSIM status recorded');
    await op.tell('profileStatus', updated, { reported: body.status });
    return { status: 201, body: Buffer.alloc(0), durationMs: 0 };
  });
}

/**
 * AID.02 7.10: every profile of the token on this CMP's vehicles that is not deleted, or the one
 * `iccid`. A profile the operator does not know, another token's or another CMP's, is "404 User or
 * specified profile cannot be found" (code 65), never a hint that it exists elsewhere.
 */
export async function requestProfileStatus<P extends OperatorProfile>(
  op: MspOperator<P>,
  mspToken: string,
  cmp: string,
  iccid: string | null,
): Promise<DialectAnswer> {
  let profiles: P[];
  if (iccid !== null) {
    const profile = await op.getProfile(normalizeIccid(iccid));
    profiles = owned(profile, mspToken) && profile.cmp === cmp ? [profile] : [];
  } else {
    profiles = (await op.listProfiles(mspToken)).filter((p) => p.cmp === cmp);
  }
  const listed = profiles.flatMap((p) => {
    const status = aid02Status(p.state);
    return status ? [{ iccid: p.iccid, status }] : [];
  });
  if (iccid !== null && listed.length === 0) throw refusal('profileStatusNotFound');
  return { status: 200, contentType: 'application/json', body: Buffer.from(JSON.stringify({ profiles: listed })), durationMs: 0 };
}

/** what the partner system did with a profile the hub asked it to withdraw */
export type WithdrawOutcome = 'withdrawn' | 'refused' | 'unreachable';

/** what the partner system did with a profile on a vehicle the hub asked it to deactivate */
export type DeactivateOutcome = 'disabled' | 'deleted' | 'refused' | 'unreachable';

/**
 * AID.02 7.9: "the MSP must deactivate all profiles immediately". Profiles of this CMP not yet
 * downloaded are withdrawn on the partner system at once (`withdraw`); the others are on vehicles:
 * a system that can act on them (`deactivate`) disables or deletes each, and the operator is told
 * what became of each (`deactivated`); every one of them is also named to the operator to
 * deactivate in its network (`deactivate`). A system that cannot be reached fails the call (the CMP
 * retries; profiles already withdrawn or deleted are not asked again).
 */
export async function invalidateSubscription<P extends OperatorProfile>(
  op: MspOperator<P>,
  mspToken: string,
  cmp: string,
  deadline: number,
  withdraw: (profile: P) => Promise<WithdrawOutcome>,
  deactivate?: (profile: P) => Promise<DeactivateOutcome>,
): Promise<DialectAnswer> {
  return op.withSubscription(mspToken, deadline, async () => {
    // AID.02 7.9: the CMP withdraws its own federation; another CMP's vehicles keep their profiles
    const live = (await op.listProfiles(mspToken)).filter((p) => isLive(p.state) && p.cmp === cmp);
    let unreachable = false;
    const onVehicles: string[] = [];
    const deactivated: Record<string, Exclude<DeactivateOutcome, 'unreachable'>> = {};
    for (const profile of live) {
      if (isCancellable(profile.state)) {
        const outcome = await withdraw(profile);
        if (outcome === 'withdrawn') await op.save({ ...profile, state: 'cancelled', usedAt: Date.now() });
        else if (outcome === 'refused') onVehicles.push(profile.iccid);
        else unreachable = true;
        continue;
      }
      onVehicles.push(profile.iccid);
      const outcome = deactivate && (await deactivate(profile));
      if (outcome === 'unreachable') unreachable = true;
      else if (outcome) deactivated[profile.iccid] = outcome;
      if (outcome === 'disabled' || outcome === 'deleted') {
        await op.save({ ...profile, state: outcome, usedAt: Date.now() });
        op.countProfileEvent(outcome);
      }
    }
    if (unreachable) throw new UpstreamError('network', 'the partner system could not withdraw or deactivate every profile');
    await op.tell('tokenInvalidated', { mspToken, cmp }, { deactivate: onVehicles, ...(deactivate ? { deactivated } : {}) });
    return { status: 204, body: Buffer.alloc(0), durationMs: 0 };
  });
}

/** a profile named by the CMP must belong to its token */
function owned<P extends OperatorProfile>(profile: P | undefined, mspToken: string): profile is P {
  return profile !== undefined && profile.mspToken === mspToken;
}

/** 61 when the operator has no such profile, 62 when it is another token's */
function notOwned(profile: OperatorProfile | undefined): HubError {
  return refusal(profile ? 'profileNotLinked' : 'profileNotFound');
}
