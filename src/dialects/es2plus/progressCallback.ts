/**
 * ES2+.HandleDownloadProgressInfo (SGP.22 5.3.5, seed 1.5): the SM-DP+ tells the operator, here the
 * hub, how a car's download went. The SM-DP+ proves itself with the operator's `es2plus.callback`
 * credential (a client certificate on the TLS listener, or an API key / basic credential; either
 * one unless the operator demands all it configured). The message is SGP.22's: `timestamp`
 * (the seed vendor writes `timeStamp`; either is taken, exactly one), a W3C date-time; the ICCID
 * with or without its trailing F; `resultData` kept with the point; a notification status of the
 * three SGP.22 defines for notifications. Points 1-4 move the profile (profileStates.ts); every
 * point, including an operator's own (>= 100), is kept with the profile as it came. Answered 204
 * with `X-Admin-Protocol`; a refusal is an ES2+ answer (functionExecutionStatus `Failed`, subject
 * and reason code, a message saying why) that the SM-DP+'s operators can read in their logs. An
 * ICCID the hub never ordered is answered 204 too (the operator may order outside the hub) and
 * logged.
 */
import Ajv from 'ajv';
import addFormats from 'ajv-formats';
import { fieldName } from '../../config/schemaParts';
import { HubError } from '../../errors/catalogue';
import { refuse, type InboundContext, type InboundRoute, type InboundServices } from '../inbound';
import type { ProgressPoint } from './profile';
import { executed, NOTIFICATION_STATUSES, parseExecutionStatus } from './es2Messages';
import { ICCID_PATTERN, normalizeIccid } from '../../esim/iccid';
import { eventOf } from '../../hostedMsp/profileStates';
import type { Es2Operator } from './operator';
import { afterProgress, NOTIFICATION_POINTS } from './profileStates';

export const PROGRESS_CALLBACK_PATH = '/gsma/rsp2/es2plus/handleDownloadProgressInfo';
/** what the hub answers with when no operator is known yet (SGP.22 v2.5) */
const DEFAULT_ADMIN_PROTOCOL = 'gsma/rsp/v2.5.0';
/** progress points kept per profile: the newest */
const KEPT_POINTS = 20;
const CALLBACK_BUDGET_MS = 5000;

const string = { type: 'string', minLength: 1 } as const;
const ajv = new Ajv({ allErrors: true });
addFormats(ajv, ['date-time']);
const validate = ajv.compile({
  type: 'object',
  required: ['header', 'iccid', 'profileType', 'notificationPointId', 'notificationPointStatus'],
  // SGP.22 spells it `timestamp`, the seed vendor `timeStamp`: one of them, never both
  oneOf: [
    { required: ['timestamp'], not: { required: ['timeStamp'] } },
    { required: ['timeStamp'], not: { required: ['timestamp'] } },
  ],
  properties: {
    header: {
      type: 'object',
      required: ['functionRequesterIdentifier', 'functionCallIdentifier'],
      properties: { functionRequesterIdentifier: string, functionCallIdentifier: string },
    },
    eid: string,
    iccid: { type: 'string', pattern: ICCID_PATTERN.source },
    profileType: string,
    // SGP.22: "YYYY-MM-DDThh:mm:ssTZD" (W3C), a date-time with its zone
    timestamp: { type: 'string', format: 'date-time' },
    timeStamp: { type: 'string', format: 'date-time' },
    // the seed's own example sends it as a string
    notificationPointId: {
      anyOf: [
        { type: 'integer', minimum: 0 },
        { type: 'string', pattern: '^[0-9]{1,9}$' },
      ],
    },
    notificationPointStatus: { type: 'object', required: ['status'], properties: { status: { enum: NOTIFICATION_STATUSES } } },
    resultData: { type: 'string', pattern: '^[A-Za-z0-9+/]*={0,2}$' },
  },
});

interface Notification {
  header: { functionCallIdentifier: string };
  eid?: string;
  iccid: string;
  timestamp?: string;
  timeStamp?: string;
  notificationPointId: number | string;
  notificationPointStatus: unknown;
  resultData?: string;
}

/** why a notification is refused, in SGP.22's terms (subject code, reason code) */
class CallbackRefusal extends Error {
  constructor(
    readonly httpStatus: number,
    readonly subjectCode: string,
    readonly reasonCode: string,
    message: string,
  ) {
    super(message);
  }
}

/** the route of the operators' SM-DP+ callbacks: one path for every ES2+ operator of the config */
export function progressCallback(operators: readonly Es2Operator[]): InboundRoute {
  return { path: PROGRESS_CALLBACK_PATH, name: 'handleDownloadProgressInfo', handle: (ctx, services) => handleProgress(ctx, services, operators) };
}

async function handleProgress(ctx: InboundContext, services: InboundServices, operators: readonly Es2Operator[]): Promise<void> {
  let operator: Es2Operator | undefined;
  try {
    if (ctx.method !== 'POST') throw new HubError('methodNotAllowed', { headers: { allow: 'POST' } });
    operator = await authenticateSmdp(ctx, services, operators);
    const notification = await readNotification(services);
    let execution;
    try {
      execution = parseExecutionStatus(notification.notificationPointStatus);
    } catch (err) {
      throw new CallbackRefusal(400, '1.6', '2.1', (err as Error).message);
    }
    await record(ctx, operator, notification, executed(execution), execution.status);
    ctx.status = 204;
  } catch (err) {
    answerRefusal(ctx, err);
  } finally {
    ctx.set('x-admin-protocol', operator?.settings.adminProtocol ?? DEFAULT_ADMIN_PROTOCOL);
  }
}

async function readNotification(services: InboundServices): Promise<Notification> {
  let body: unknown;
  try {
    ({ body } = await services.readJson(400));
  } catch (err) {
    if (err instanceof HubError && err.kind !== 'clientAborted') throw new CallbackRefusal(err.status, '1.6', '2.1', err.message);
    throw err;
  }
  if (!validate(body)) {
    const errors = validate.errors ?? [];
    const missing = errors.some((e) => e.keyword === 'required');
    const problems = errors
      .filter((e) => e.keyword !== 'oneOf' || errors.length === 1)
      .map((e) => `${fieldName(e.instancePath) || '(body)'} ${e.message ?? 'is invalid'}`);
    // SGP.22 reason codes: 2.2 Mandatory Element Missing, 2.1 Invalid
    throw new CallbackRefusal(400, '1.6', missing ? '2.2' : '2.1', problems.join('; '));
  }
  return body;
}

/** a refusal as an ES2+ answer (SGP.22 6.5: the header's functionExecutionStatus) */
function answerRefusal(ctx: InboundContext, err: unknown): void {
  let refusal: CallbackRefusal;
  if (err instanceof CallbackRefusal) refusal = err;
  else if (err instanceof HubError && err.kind === 'unauthenticated')
    refusal = new CallbackRefusal(401, '1.1', '1.2', 'Not Allowed (Authorisation): the credential belongs to no SM-DP+ of an ES2+ operator');
  else if (err instanceof HubError && err.status < 500) refusal = new CallbackRefusal(err.status, '1.6', '2.1', err.message);
  else throw err;
  if (err instanceof HubError) ctx.set(err.headers);
  ctx.state.log.warn({ subjectCode: refusal.subjectCode, reasonCode: refusal.reasonCode, reason: refusal.message }, 'HandleDownloadProgressInfo refused');
  ctx.status = refusal.httpStatus;
  ctx.body = {
    header: {
      functionExecutionStatus: {
        status: 'Failed',
        statusCodeData: { subjectCode: refusal.subjectCode, reasonCode: refusal.reasonCode, message: refusal.message },
      },
    },
  };
}

/** the operator whose SM-DP+ presented this credential */
async function authenticateSmdp(ctx: InboundContext, services: InboundServices, operators: readonly Es2Operator[]): Promise<Es2Operator> {
  services.refuseIfThrottled();
  const operator = operators.find((op) => services.checkCredentials(op.settings.callback, op.settings.callbackRequires) === undefined);
  if (!operator) throw await services.refused(refuse('inbound_route'));
  ctx.state.caller = operator.partner;
  return operator;
}

async function record(ctx: InboundContext, operator: Es2Operator, notification: Notification, succeeded: boolean, status: string): Promise<void> {
  const iccid = normalizeIccid(notification.iccid);
  const pointId = Number(notification.notificationPointId);
  const log = ctx.state.log.child({ functionCallIdentifier: notification.header.functionCallIdentifier, notificationPointId: pointId });
  const known = await operator.getProfile(iccid);
  if (!known) {
    log.warn({ msp: operator.id, status }, 'download progress for a profile the hub did not order');
    return;
  }
  await operator.withSubscription(known.mspToken, Date.now() + CALLBACK_BUDGET_MS, async () => {
    const profile = (await operator.getProfile(iccid)) ?? known;
    const point: ProgressPoint = {
      notificationPointId: pointId,
      status,
      at: notification.timestamp ?? notification.timeStamp ?? '',
      resultData: notification.resultData,
    };
    const state = afterProgress(profile.state, pointId, succeeded);
    if (notification.eid !== undefined && notification.eid !== profile.eid) log.warn('download progress names another EID than the order');
    const updated = { ...profile, state, usedAt: Date.now(), progress: [...profile.progress, point].slice(-KEPT_POINTS) };
    await operator.save(updated);
    if (state !== profile.state) operator.countProfileEvent(eventOf(state));
    log.info(
      { point: NOTIFICATION_POINTS[pointId] ?? (pointId >= 100 ? 'operator-defined' : 'reserved'), status, profileState: state },
      'download progress recorded',
    );
    await operator.tell('downloadProgress', updated, { notificationPointId: pointId, notificationPointStatus: status, resultData: notification.resultData });
  });
}
