/**
 * The platforms' webhooks (seed: Webhook Notifications): `POST /telcoapi/<partner id>/events`, the
 * URL an operator registers with its platform. An event is taken only with a valid signature over
 * the exact bytes received, made within the time window (signature.ts); anything else is 401 and
 * changes nothing (and counts as a failed login of the sender's address). An event seen before (by
 * its `eventId` or `id`, else by its signature) is answered 200 and ignored. PROFILE_DOWNLOADED,
 * INSTALLED, ENABLED, DISABLED and DELETED move the hub's record of the profile; the operator's back
 * office is told. Answers are in the platform's own error format (`{error, message}`); a failure of
 * the hub's own is 503, so the platform sends the event again.
 */
import Ajv from 'ajv';
import { fieldName } from '../../config/schemaParts';
import { HubError } from '../../errors';
import { parseStrictJson } from '../../json/strictJson';
import { refuse, refused, refuseIfThrottled } from '../../pipeline/authenticate';
import { readRawBody } from '../../pipeline/readBody';
import type { HubContext, PipelineDeps } from '../../pipeline/types';
import type { InboundRoute } from '../dialect';
import { ICCID_PATTERN, normalizeIccid } from '../../esim/iccid';
import { eventOf, isLive, type ProfileState } from '../../hostedMsp/profileStates';
import type { TelcoOperator } from './operator';
import { SIGNATURE_HEADER, verifySignature } from './signature';

export const WEBHOOK_PATH = '/telcoapi/:partner/events';
const HANDLING_BUDGET_MS = 5000;

/** the profile state each event reports */
const EVENT_STATES: Readonly<Record<string, ProfileState>> = {
  PROFILE_DOWNLOADED: 'downloaded',
  PROFILE_INSTALLED: 'installed',
  PROFILE_ENABLED: 'enabled',
  PROFILE_DISABLED: 'disabled',
  PROFILE_DELETED: 'deleted',
};

const NOT_YET_INSTALLED: ReadonlySet<ProfileState> = new Set(['ordered', 'released', 'downloaded', 'installationFailed']);

/** what an event makes of the profile: never back from what the vehicle reported to the download */
export function afterPlatformEvent(state: ProfileState, reported: ProfileState): ProfileState {
  if (reported === 'deleted') return 'deleted';
  if (!isLive(state)) return state;
  if (reported === 'downloaded') return state === 'ordered' || state === 'released' ? 'downloaded' : state;
  if (reported === 'installed') return NOT_YET_INSTALLED.has(state) ? 'installed' : state;
  return reported;
}

const validate = new Ajv({ allErrors: true }).compile({
  type: 'object',
  required: ['eventType', 'data'],
  properties: {
    eventType: { type: 'string', maxLength: 64 },
    eventId: { type: 'string', minLength: 1, maxLength: 128 },
    id: { type: 'string', minLength: 1, maxLength: 128 },
    timestamp: { type: 'string', maxLength: 64 },
    data: { type: 'object', required: ['iccid'], properties: { iccid: { type: 'string', pattern: ICCID_PATTERN.source } } },
  },
});

interface PlatformEvent {
  eventType: string;
  eventId?: string;
  id?: string;
  data: { iccid: string };
}

/** a refusal in the platform's own format */
class WebhookRefusal extends Error {
  constructor(
    readonly httpStatus: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

export function platformWebhook(operators: readonly TelcoOperator[]): InboundRoute {
  const byId = new Map(operators.map((op) => [op.id, op]));
  return { path: WEBHOOK_PATH, name: 'telcoapiWebhook', handle: (ctx, deps) => handleEvent(ctx, deps, byId) };
}

async function handleEvent(ctx: HubContext, deps: PipelineDeps, operators: ReadonlyMap<string, TelcoOperator>): Promise<void> {
  try {
    if (ctx.method !== 'POST') throw new HubError('methodNotAllowed', { headers: { allow: 'POST' } });
    refuseIfThrottled(ctx, deps, undefined);
    const operator = operators.get(ctx.state.params.partner ?? '');
    const raw = await readRawBody(ctx);
    const check = operator && verifySignature(ctx.get(SIGNATURE_HEADER) || undefined, raw, operator.settings.webhookSecrets, operator.settings.webhookToleranceSeconds, Date.now());
    if (!operator || !check?.ok) {
      // an unknown partner is refused as a bad signature: the answer tells no one which exist
      const reason = check && !check.ok ? check.reason : 'unknown partner';
      if (operator) operator.telcoMetrics.webhooks.inc({ msp: operator.id, outcome: reason === 'stale' ? 'stale' : 'bad_signature' });
      throw await refused(ctx, deps, refuse('inbound_route', `webhook signature: ${reason}`), undefined);
    }
    ctx.state.caller = operator.partner;
    const event = readEvent(raw, operator);
    const key = event.eventId ?? event.id ?? check.signature;
    const marker = await operator.firstSighting(key, operator.settings.webhookToleranceSeconds * 2000);
    if (marker === undefined) {
      operator.telcoMetrics.webhooks.inc({ msp: operator.id, outcome: 'replayed' });
      ctx.status = 200;
      ctx.body = { received: true, duplicate: true };
      return;
    }
    let outcome: string;
    try {
      outcome = await apply(ctx, operator, event);
    } catch (err) {
      await operator.forget(key, marker).catch(() => undefined);
      throw err;
    }
    operator.telcoMetrics.webhooks.inc({ msp: operator.id, outcome });
    ctx.status = 200;
    ctx.body = { received: true };
  } catch (err) {
    answerRefusal(ctx, err);
  }
}

function readEvent(raw: Buffer, operator: TelcoOperator): PlatformEvent {
  let body: unknown;
  try {
    body = parseStrictJson(raw);
  } catch (err) {
    operator.telcoMetrics.webhooks.inc({ msp: operator.id, outcome: 'invalid' });
    throw new WebhookRefusal(400, 'INVALID_REQUEST', err instanceof SyntaxError ? 'the body is not JSON' : (err as Error).message);
  }
  if (!validate(body)) {
    operator.telcoMetrics.webhooks.inc({ msp: operator.id, outcome: 'invalid' });
    throw new WebhookRefusal(400, 'INVALID_REQUEST', (validate.errors ?? []).map((e) => `${fieldName(e.instancePath) || '(body)'} ${e.message ?? 'is invalid'}`).join('; '));
  }
  return body as PlatformEvent;
}

async function apply(ctx: HubContext, operator: TelcoOperator, event: PlatformEvent): Promise<string> {
  const log = ctx.state.log.child({ msp: operator.id, eventType: event.eventType });
  const reported = EVENT_STATES[event.eventType];
  if (!reported) {
    log.info('platform event of a type the hub does not act on');
    return 'ignored';
  }
  const iccid = normalizeIccid(event.data.iccid);
  const known = await operator.getProfile(iccid);
  if (!known) {
    // the operator may make profiles outside the hub
    log.warn('platform event for a profile the hub did not make');
    return 'unknown_profile';
  }
  return operator.withSubscription(known.mspToken, Date.now() + HANDLING_BUDGET_MS, async () => {
    const profile = (await operator.getProfile(iccid)) ?? known;
    const state = afterPlatformEvent(profile.state, reported);
    if (state === profile.state) return 'unchanged';
    const updated = { ...profile, state, usedAt: Date.now() };
    await operator.save(updated);
    operator.countProfileEvent(eventOf(state));
    log.info({ profileState: state }, 'platform event recorded');
    await operator.tell('profileStatus', updated, { source: 'platform', platformEvent: event.eventType });
    return 'applied';
  });
}

function answerRefusal(ctx: HubContext, err: unknown): void {
  let refusal: WebhookRefusal;
  if (err instanceof WebhookRefusal) refusal = err;
  else if (err instanceof HubError && err.kind === 'unauthenticated') refusal = new WebhookRefusal(401, 'AUTHENTICATION_FAILED', 'the signature is missing, wrong or outside the time window');
  else if (err instanceof HubError && err.status === 429) refusal = new WebhookRefusal(429, 'RATE_LIMIT_EXCEEDED', err.message);
  else if (err instanceof HubError && err.status < 500) refusal = new WebhookRefusal(err.status, 'INVALID_REQUEST', err.message);
  else {
    ctx.state.log.error({ err: err instanceof HubError ? err.message : (err as Error).message }, 'platform event not handled; the platform sends it again');
    refusal = new WebhookRefusal(503, 'SERVICE_UNAVAILABLE', 'the event could not be recorded now; send it again');
  }
  if (err instanceof HubError && refusal.httpStatus !== 401) ctx.set(err.headers);
  ctx.status = refusal.httpStatus;
  ctx.body = { error: refusal.code, message: refusal.message, timestamp: new Date().toISOString() };
}
