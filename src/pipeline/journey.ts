/**
 * The step that tells each AID.02 request's journey what happened (AID.02 chapter 4):
 * which operation, from which partner to which, how it ended (the status, the AID.02 code of a
 * refusal), how long it took, its trace, and where the journey waits now. It sits after the ids
 * are canonical: a request refused before has no token the hub may file it under. The event rides
 * on the store's next round trip (journeys/redisJourneys.ts), so the request waits for nothing.
 */
import { toHubError } from '../errors/catalogue';
import type { OperationId } from '../openapi/operations';
import type { Answered, Request } from './request';
import type { HubContext, HubState, PipelineDeps } from './types';
import type { JourneyStage } from '../journeys/event';
import { lookupsFor, type JourneyRecorder, type Told } from '../journeys/recorder';
import { codeOf } from '../journeys/errorCode';

type Body = Readonly<Record<string, unknown>> | undefined;

/** runs the rest of an operation (its answer, or undefined for a replayed one) and tells the
 * user's journey how it ended */
export async function withJourney(ctx: HubContext, deps: PipelineDeps, request: Request, rest: () => Promise<Answered | undefined>): Promise<void> {
  const recorder = deps.journeys;
  if (!recorder.enabled) {
    await rest();
    return;
  }
  let answered: Answered | undefined;
  try {
    answered = await rest();
  } catch (err) {
    tell(recorder, ctx, request, undefined, err);
    throw err;
  }
  tell(recorder, ctx, request, answered, undefined);
}

function tell(recorder: JourneyRecorder, ctx: HubContext, request: Request, answered: Answered | undefined, failure: unknown): void {
  const { state } = ctx;
  const op = request.operation.id;
  const body = (request.body ?? undefined) as Body;
  const token = op === 'sendMspToken' ? body?.msp_token : request.params.msp_token;
  if (typeof token !== 'string') return;
  const error = failure === undefined ? undefined : toHubError(failure);
  const status = error ? error.status : ctx.status;
  const answer = (answered?.json ?? undefined) as Body;
  const requestId = text(body?.activationCodeRequestID);
  const iccid = text(answer?.iccid) ?? text(body?.iccid);
  const told: Told = {
    operation: op,
    from: request.caller.id,
    to: request.target.id,
    outcome: outcomeOf(state.answeredBy, status, error !== undefined),
    status,
    code: error ? error.code : status >= 400 ? text(answer?.code) : codeOf(body?.error),
    latencyMs: Math.round((performance.now() - state.startedAt) * 100) / 100,
    traceId: state.ids.trace.traceId,
    requestId,
    iccid,
    eid: text(body?.eid),
    detail: detailOf(op, status, body, answer),
    stage: state.answeredBy === 'replayed' ? undefined : stageOf(op, status, body),
  };
  recorder.step({ token }, told, lookupsFor(requestId, iccid));
}

function outcomeOf(answeredBy: HubState['answeredBy'], status: number, refusedByHub: boolean): string {
  if (answeredBy !== undefined) return answeredBy;
  if (status >= 500) return 'failed';
  if (status >= 400) return refusedByHub ? 'refused by the hub' : 'refused';
  return 'answered';
}

/** where the journey waits after this answer; undefined where it does not change */
function stageOf(op: OperationId, status: number, body: Body): JourneyStage | 'settled' | undefined {
  const ok = status >= 200 && status < 300;
  switch (op) {
    case 'requestActivationCode':
      if (status === 201) return 'awaitingCode';
      if (ok) return 'awaitingCsimStatus';
      // no answer: the MSP may have taken the request and still deliver its code
      return status === 502 || status === 504 ? 'awaitingCode' : 'settled';
    case 'submitActivationCode':
      if (!ok) return undefined;
      return body?.activationCode === null ? 'settled' : 'awaitingCsimStatus';
    case 'sendCsimStatus':
    case 'notifyMspTokenInvalid':
    case 'requestInvalidateFederatedID':
      return ok ? 'settled' : undefined;
    default:
      return undefined;
  }
}

/** a word of the hub's own on what the message said; never a value a partner could fill with free text */
function detailOf(op: OperationId, status: number, body: Body, answer: Body): string | undefined {
  const ok = status >= 200 && status < 300;
  switch (op) {
    case 'requestActivationCode':
      return !ok ? undefined : status === 201 ? 'code to follow (Send Activation Code)' : 'activation code sent';
    case 'submitActivationCode':
      return body?.activationCode === null ? 'no code: error delivered' : 'activation code delivered';
    case 'sendCsimStatus':
      return `CSIM ${text(body?.status) ?? 'status'}`;
    case 'requestProfileStatus': {
      const profiles = Array.isArray(answer?.profiles) ? (answer.profiles as Body[]) : [];
      return ok ? `profiles: ${profiles.map((p) => profileState(p?.status)).join(', ') || 'none'}` : undefined;
    }
    case 'notifyMspTokenInvalid':
      return 'token invalidated by the MSP';
    case 'requestInvalidateFederatedID':
      return 'token invalidated by the CMP';
    case 'sendMspToken':
      return 'user paired';
    default:
      return undefined;
  }
}

/** the states of AID.02 7.10; an answer the hub let through with another shows as `?` */
const PROFILE_STATES: ReadonlySet<unknown> = new Set(['enabled', 'disabled', 'installed', 'prepared']);

function profileState(value: unknown): string {
  return PROFILE_STATES.has(value) ? (value as string) : '?';
}

function text(value: unknown): string | undefined {
  return typeof value === 'string' && value !== '' ? value : undefined;
}
