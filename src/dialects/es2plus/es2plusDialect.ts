/**
 * The `es2plus` dialect: the hub itself is the MSP of the AID.02 MSP API (Annex B.2) for an
 * operator whose only machine interface is its SM-DP+. Request Activation Code orders on the
 * SM-DP+ (activation.ts); Send CSIM Status and Request Profile Status work on the hub's own
 * record of the operator's profiles; Request Invalidate MSP Token cancels every profile not yet
 * downloaded at once (AID.02 7.9). `operatorEvent` deliveries from the outbox go to the operator's
 * webhook. Works from the call alone (params, caller, parsed body), so the outbox can replay a call.
 */
import type { Logger } from '../../log';
import type { EsimProfile } from './profile';
import { UpstreamError, type Upstream } from '../../upstream/upstream';
import type { DialectAnswer, DialectCall, DialectInstance } from '../dialect';
import { cancel, requestActivationCode, type ActivationRequest } from './activation';
import { refusal } from './errorMapping';
import type { HubError } from '../../errors';
import { normalizeIccid } from './es2Messages';
import type { Es2Operator } from './operator';
import { afterCsimStatus, aid02Status, isCancellable, isLive, type CsimStatus } from './profileStates';

export function createEs2plusDialect(op: Es2Operator, webhook: Upstream | undefined): DialectInstance {
  return {
    async call(call: DialectCall): Promise<DialectAnswer> {
      const started = performance.now();
      if (call.operation === 'dialectEvent') {
        if (!webhook) throw new UpstreamError('refused', 'this operator has no webhook');
        return webhook.request({ ...call, operation: call.operation });
      }
      // the subscription is the msp_token the pipeline matched and canonicalised, never a segment
      // of the path split again (an empty segment once put every CMP into one subscription)
      const mspToken = call.params.msp_token;
      if (!mspToken) throw new Error(`es2plus: ${call.operation} carries no msp_token parameter`);
      const cmp = call.caller;
      const log = op.log.child({ requestId: call.headers['cmp-request-id'], correlationId: call.headers['correlation-id'], client: cmp, target: op.id });
      const deadline = Date.now() + call.timeoutMs;
      const body = (call.json ?? {}) as Record<string, unknown>;
      let answer: DialectAnswer;
      switch (call.operation) {
        case 'requestActivationCode':
          answer = await requestActivationCode(op, { ...(body as unknown as ActivationRequest), mspToken, cmp }, deadline, log);
          break;
        case 'sendCsimStatus':
          answer = await sendCsimStatus(op, mspToken, body as { iccid: string; eid: string; status: CsimStatus }, deadline, log);
          break;
        case 'requestProfileStatus':
          answer = await requestProfileStatus(op, mspToken, cmp, call.params.iccid ?? null);
          break;
        case 'requestInvalidateFederatedID':
          answer = await invalidate(op, mspToken, cmp, deadline, log);
          break;
        default:
          throw new Error(`the es2plus dialect does not serve ${call.operation}`);
      }
      return { ...answer, durationMs: performance.now() - started };
    },
  };
}

/** AID.02 7.8: the profile's new state; a deleted profile frees its slot (A.4) */
async function sendCsimStatus(op: Es2Operator, mspToken: string, body: { iccid: string; status: CsimStatus }, deadline: number, log: Logger): Promise<DialectAnswer> {
  return op.withSubscription(mspToken, deadline, async () => {
    const profile = await op.getProfile(normalizeIccid(body.iccid));
    if (!owned(profile, mspToken)) throw notOwned(profile);
    const state = afterCsimStatus(profile.state, body.status);
    const updated: EsimProfile = { ...profile, state, usedAt: Date.now() };
    await op.save(updated);
    if (state !== profile.state) op.es2Metrics.profiles.inc({ msp: op.id, event: body.status });
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
async function requestProfileStatus(op: Es2Operator, mspToken: string, cmp: string, iccid: string | null): Promise<DialectAnswer> {
  let profiles: EsimProfile[];
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

/**
 * AID.02 7.9: "the MSP must deactivate all profiles immediately". Profiles not yet downloaded are
 * cancelled on the SM-DP+; the others are on vehicles, beyond ES2+: the operator is told to
 * deactivate them in its network. An SM-DP+ that cannot be reached fails the call (the CMP retries;
 * profiles already cancelled are not asked again).
 */
async function invalidate(op: Es2Operator, mspToken: string, cmp: string, deadline: number, log: Logger): Promise<DialectAnswer> {
  return op.withSubscription(mspToken, deadline, async () => {
    // AID.02 7.9: the CMP withdraws its own federation; another CMP's vehicles keep their profiles
    const live = (await op.listProfiles(mspToken)).filter((p) => isLive(p.state) && p.cmp === cmp);
    let unreachable = false;
    const onVehicles: string[] = [];
    for (const profile of live) {
      if (!isCancellable(profile.state)) {
        onVehicles.push(profile.iccid);
        continue;
      }
      const outcome = await cancel(op, profile, 'Unavailable', deadline, log);
      if (outcome === 'cancelled') await op.save({ ...profile, state: 'cancelled', usedAt: Date.now() });
      else if (outcome === 'refused') onVehicles.push(profile.iccid);
      else unreachable = true;
    }
    if (unreachable) throw new UpstreamError('network', 'the SM-DP+ could not cancel every profile not yet downloaded');
    await op.tell('tokenInvalidated', { mspToken, cmp }, { deactivate: onVehicles });
    return { status: 204, body: Buffer.alloc(0), durationMs: 0 };
  });
}

/** a profile named by the CMP must belong to its token */
function owned(profile: EsimProfile | undefined, mspToken: string): profile is EsimProfile {
  return profile !== undefined && profile.mspToken === mspToken;
}

/** 61 when the operator has no such profile, 62 when it is another token's */
function notOwned(profile: EsimProfile | undefined): HubError {
  return refusal(profile ? 'profileNotLinked' : 'profileNotFound');
}
