/**
 * ES2+.HandleDownloadProgressInfo (seed 1.5, SGP.22 5.3.5): the SM-DP+ tells the operator, here the
 * hub, how a car's download went. The SM-DP+ proves itself with the operator's `es2plus.callback`
 * credential (a client certificate on the TLS listener, or an API key / basic credential); the
 * ICCID may carry its trailing F. Points 1-4 move the profile (profileStates.ts); every point,
 * including an operator's own (>= 100), is kept with the profile as it came. Answered 204; an
 * ICCID the hub never ordered is answered 204 too (the operator may order outside the hub) and
 * logged.
 */
import Ajv from 'ajv';
import { fieldName } from '../../config/schema';
import { HubError } from '../../errors';
import { checkCredentials, refuse, refused, refuseIfThrottled } from '../../pipeline/authenticate';
import { readJsonBody } from '../../pipeline/readBody';
import type { HubContext, PipelineDeps, Stage } from '../../pipeline/types';
import type { ProgressPoint } from '../../state/store';
import { executed, ICCID_PATTERN, normalizeIccid, parseExecutionStatus } from './es2Messages';
import type { Es2Operator } from './operator';
import { afterProgress, NOTIFICATION_POINTS } from './profileStates';

export const PROGRESS_CALLBACK_PATH = '/gsma/rsp2/es2plus/handleDownloadProgressInfo';
/** the SM-DP+ is told about a malformed notification the way AID.02 answers one: 400 */
const BAD_REQUEST = 400;
/** progress points kept per profile: the newest */
const KEPT_POINTS = 20;
const CALLBACK_BUDGET_MS = 5000;

const string = { type: 'string', minLength: 1 } as const;
const validate = new Ajv({ allErrors: true }).compile({
  type: 'object',
  required: ['header', 'iccid', 'profileType', 'timeStamp', 'notificationPointId', 'notificationPointStatus'],
  properties: {
    header: { type: 'object', required: ['functionRequesterIdentifier', 'functionCallIdentifier'], properties: { functionRequesterIdentifier: string, functionCallIdentifier: string } },
    eid: string,
    iccid: { type: 'string', pattern: ICCID_PATTERN.source },
    profileType: string,
    timeStamp: string,
    // the seed's own example sends it as a string
    notificationPointId: { anyOf: [{ type: 'integer', minimum: 0 }, { type: 'string', pattern: '^[0-9]{1,9}$' }] },
    notificationPointStatus: { type: 'object', required: ['status'] },
    resultData: { type: 'string' },
  },
});

interface Notification {
  header: { functionCallIdentifier: string };
  eid?: string;
  iccid: string;
  timeStamp: string;
  notificationPointId: number | string;
  notificationPointStatus: unknown;
}

export function progressCallback(deps: PipelineDeps): Stage {
  return async (ctx, next) => {
    if (ctx.path !== PROGRESS_CALLBACK_PATH) {
      await next();
      return;
    }
    ctx.state.es2Callback = 'handleDownloadProgressInfo';
    if (ctx.method !== 'POST') throw new HubError('methodNotAllowed', { headers: { allow: 'POST' } });
    const operator = await authenticateSmdp(ctx, deps);
    const { body } = await readJsonBody(ctx, BAD_REQUEST);
    if (!validate(body)) {
      const problems = (validate.errors ?? []).map((e) => `${fieldName(e.instancePath) || '(body)'} ${e.message ?? 'is invalid'}`);
      throw new HubError('invalidSyntax', { detail: problems.join('; '), clientErrorStatus: BAD_REQUEST });
    }
    const notification = body as Notification;
    let execution;
    try {
      execution = parseExecutionStatus(notification.notificationPointStatus);
    } catch (err) {
      throw new HubError('invalidSyntax', { detail: (err as Error).message, clientErrorStatus: BAD_REQUEST });
    }
    await record(ctx, operator, notification, executed(execution), execution.status);
    ctx.status = 204;
  };
}

/** the operator whose SM-DP+ presented this credential */
async function authenticateSmdp(ctx: HubContext, deps: PipelineDeps): Promise<Es2Operator> {
  refuseIfThrottled(ctx, deps, undefined);
  const operators = ctx.state.runtime.es2Operators;
  const operator = operators.find((op) => checkCredentials(ctx, op.settings.callback) === undefined);
  if (!operator) throw await refused(ctx, deps, refuse('smdp_callback'), undefined);
  ctx.state.caller = operator.partner;
  return operator;
}

async function record(ctx: HubContext, operator: Es2Operator, notification: Notification, succeeded: boolean, status: string): Promise<void> {
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
    const point: ProgressPoint = { notificationPointId: pointId, status, at: notification.timeStamp };
    const state = afterProgress(profile.state, pointId, succeeded);
    if (notification.eid !== undefined && notification.eid !== profile.eid) log.warn('download progress names another EID than the order');
    const updated = { ...profile, state, usedAt: Date.now(), progress: [...profile.progress, point].slice(-KEPT_POINTS) };
    await operator.save(updated);
    if (state !== profile.state) operator.metrics.es2plusProfiles.inc({ msp: operator.id, event: state === 'installationFailed' ? 'installation_failed' : state });
    log.info({ point: NOTIFICATION_POINTS[pointId] ?? (pointId >= 100 ? 'operator-defined' : 'reserved'), status, profileState: state }, 'download progress recorded');
    await operator.tell('downloadProgress', updated, { notificationPointId: pointId, notificationPointStatus: status });
  });
}
