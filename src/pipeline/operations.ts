/**
 * Each AID.02 operation as one straight-line function, built once when the hub starts (in the
 * spirit of KrakenD's per-endpoint stacks and lura's typed proxies): what an operation does is
 * written here, in order, and each step hands the next a typed value (request.ts). Every operation
 * starts alike: the caller authenticated, the route, the body read and validated, one spelling of
 * ids (a `Request`), the state checks (a `Checked`, on Redis one round trip); then its own checks,
 * the partner's call and what is kept after it (afterCall.ts). Only what waits on I/O is awaited.
 */
import type { DialectCall } from '../dialects/dialect';
import type { Switchable } from '../measurementSwitches';
import { isSuccess } from '../dialects/dialect';
import type { ApiOperation } from '../openapi/apis';
import type { OperationId } from '../openapi/operations';
import type { StoredAnswer } from '../state/ledger';
import { afterCall } from './afterCall';
import { authenticatePartner } from './authenticate';
import { canonicalRequest } from './canonicalIds';
import { answerWith, callBridged, callOnce, callWithRetries, dialectCall, storeAndForward } from './dispatch';
import { claimOrReplay, keepFailure, refuseReusedId, replay } from './idempotency';
import { withJourney } from './journey';
import { activationOf, checkClaim, checkState, releaseUnused } from './rateLimitsAndChecks';
import { readJsonBody } from './readBody';
import type { Answered, Request } from './request';
import { routeOf } from './route';
import { matchDelivery } from './settlePending';
import { admitIssue, admitUse, tokenPolicyOf, type TokenPolicy, type TokenUse } from './tokenBinding';
import type { HubContext, Operation, PipelineDeps } from './types';
import { validateRequest } from './validateRequest';

/** each operation's handler */
export function operationHandlers(deps: PipelineDeps, switchedOff: ReadonlySet<Switchable>): ReadonlyMap<OperationId, Operation> {
  const validates = !switchedOff.has('requestValidation');
  return new Map(deps.apis.all.map((op) => [op.id, handlerOf(op, deps, validates)]));
}

type Rest<Id extends OperationId> = (ctx: HubContext, request: Request<Id>) => Promise<Answered | undefined>;

function handlerOf(op: ApiOperation, deps: PipelineDeps, validates: boolean): Operation {
  switch (op.id) {
    case 'sendMspToken':
      return handler(op, deps, validates, sendMspToken(deps));
    case 'requestActivationCode':
      return handler(op, deps, validates, requestActivationCode(deps));
    case 'submitActivationCode':
      return handler(op, deps, validates, submitActivationCode(deps));
    case 'sendCsimStatus':
      return handler(op, deps, validates, onToken(deps, { refuseInvalidated: false, invalidates: false }, sendCsimStatusCall));
    // repeating these cannot duplicate an effect (AID.02 7.9, 7.10): a partner that failed is asked again
    case 'requestProfileStatus':
      return handler(op, deps, validates, onToken(deps, { refuseInvalidated: false, invalidates: false }, callWithRetries));
    case 'requestInvalidateFederatedID':
      return handler(op, deps, validates, onToken(deps, { refuseInvalidated: false, invalidates: true }, callWithRetries));
    // the MSP declares its token invalid (AID.02 7.4): the pair's binding with it
    case 'notifyMspTokenInvalid':
      return handler(op, deps, validates, onToken(deps, { refuseInvalidated: false, invalidates: true }, callOnce));
    case 'sendProfileInformation':
    case 'updateSubscriptionInfo':
      return handler(op, deps, validates, onToken(deps, { refuseInvalidated: false, invalidates: false }, callOnce));
  }
}

/** the front every operation shares, then its own rest, its journey told */
function handler<Id extends OperationId>(op: ApiOperation, deps: PipelineDeps, validates: boolean, rest: Rest<Id>): Operation {
  return async (ctx) => {
    const caller = await authenticatePartner(ctx, deps, op.clientErrorStatus); // credential of client-id (401)
    const routed = routeOf(ctx, op, caller); // role, target (93), routes.yaml (403)
    const read = op.hasBody ? await readJsonBody(ctx, op.clientErrorStatus, op.bodyRequired) : undefined; // (60, 91)
    if (validates) validateRequest(deps, ctx, op, read?.body); // OpenAPI and the prose's rules (60, 91)
    const request = canonicalRequest<Id>(ctx, routed, read); // one spelling of every UUID
    await withJourney(ctx, deps, request, () => rest(ctx, request));
  };
}

/** Send MSP Token (AID.02 7.3): the MSP issues a token to a CMP */
function sendMspToken(deps: PipelineDeps): Rest<'sendMspToken'> {
  return async (ctx, request) => {
    const checked = await checkState(ctx, deps, request, { token: readUnlessOff(tokenPolicyOf(ctx, request), request.body.msp_token), renew: false });
    const token = admitIssue(request, checked); // another MSP's token (23)
    refuseReusedId(request, checked); // (39)
    const answered = await callOnce(ctx, deps, request, dialectCall(ctx, request));
    answerWith(ctx, answered);
    await afterCall(ctx, deps, request, { token }, answered);
    return answered;
  };
}

/** the request's token (in its path or body), whose binding the checks read unless the pair's policy is off */
function readUnlessOff(policy: TokenPolicy, token: string | null): string | null {
  return policy === 'off' ? null : token;
}

/** the partner's call an operation makes */
type Call = (ctx: HubContext, deps: PipelineDeps, request: Request, call: DialectCall) => Promise<Answered>;

/** every other operation on a user's token, per `use`, with `call` */
function onToken(deps: PipelineDeps, use: TokenUse, call: Call): Rest<OperationId> {
  return async (ctx, request) => {
    const policy = tokenPolicyOf(ctx, request);
    const checked = await checkState(ctx, deps, request, { token: readUnlessOff(policy, request.params.msp_token), renew: true });
    const token = admitUse(request, checked, use, policy); // this pair's token (20)
    refuseReusedId(request, checked); // (39)
    const answered = await call(ctx, deps, request, dialectCall(ctx, request));
    answerWith(ctx, answered);
    await afterCall(ctx, deps, request, { token }, answered);
    return answered;
  };
}

/** Send CSIM Status (AID.02 7.8): forwarded, or where the route says so stored and forwarded */
const sendCsimStatusCall: Call = (ctx, deps, request, call) =>
  request.route.storeAndForward ? storeAndForward(ctx, deps, call) : callOnce(ctx, deps, request, call);

/** Send Activation Code (AID.02 7.7.2): the delivery must match its request (30) */
function submitActivationCode(deps: PipelineDeps): Rest<'submitActivationCode'> {
  const use: TokenUse = { refuseInvalidated: false, invalidates: false };
  return async (ctx, request) => {
    const answers = request.body.activationCodeRequestID;
    const policy = tokenPolicyOf(ctx, request);
    const checked = await checkState(ctx, deps, request, { token: readUnlessOff(policy, request.params.msp_token), renew: true, answers });
    const token = admitUse(request, checked, use, policy); // this pair's token (20)
    refuseReusedId(request, checked); // (39)
    const delivered = await matchDelivery(ctx, deps, request, checked); // (30), correlation
    const answered = await callOnce(ctx, deps, request, dialectCall(ctx, request));
    answerWith(ctx, answered);
    await afterCall(ctx, deps, request, { token, delivered }, answered);
    return answered;
  };
}

/**
 * Request Activation Code (AID.02 7.7): never twice to the MSP for one activationCodeRequestID (a
 * retry gets the first answer again: idempotency.ts), within the CMP's budget where the route
 * bridges, and heard by the caller's own dialect where it works as the caller (a CMP whose cars a
 * device-management platform runs): before the request goes out, and once a 2xx answer passed
 * the checks, before the caller sees it, so what it records is durable by then.
 */
function requestActivationCode(deps: PipelineDeps): Rest<'requestActivationCode'> {
  // an invalidated token gets no code (21)
  const use: TokenUse = { refuseInvalidated: true, invalidates: false };
  return async (ctx, request) => {
    const activation = activationOf(request);
    const policy = tokenPolicyOf(ctx, request);
    const claimed = await checkClaim(ctx, deps, request, { token: readUnlessOff(policy, request.params.msp_token), renew: true, activation });
    let token;
    let stored: StoredAnswer | undefined;
    try {
      token = admitUse(request, claimed, use, policy); // this pair's token (20, 21)
      refuseReusedId(request, claimed); // (39)
      stored = await claimOrReplay(deps, request, claimed);
    } catch (err) {
      await releaseUnused(ctx, deps, claimed);
      throw err;
    }
    if (stored !== undefined) {
      replay(ctx, stored);
      return undefined;
    }
    const call = dialectCall(ctx, request);
    const work = ctx.state.runtime.dialectFor(request.caller).caller;
    let answered: Answered;
    try {
      await work?.requested?.(call);
      answered = request.route.bridge ? await callBridged(ctx, deps, request, call, activation) : await callOnce(ctx, deps, request, call);
      if (work?.answered && isSuccess(answered.answer.status)) await work.answered(call, answered.answer);
    } catch (err) {
      await keepFailure(ctx, deps, activation, err);
      throw err;
    }
    answerWith(ctx, answered);
    await afterCall(ctx, deps, request, { activation, token }, answered);
    return answered;
  };
}
