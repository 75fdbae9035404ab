/**
 * The platforms' webhooks (seed: Webhook Notifications): `POST /telcoapi/<partner id>/events`, the
 * URL an operator registers with its platform. An event is taken only with a valid signature made
 * within the time window, in the payload's `signature` member as the seed has it or in the hub's
 * header (signature.ts; the operator's `webhookSignature` may pin one place); anything else is 401
 * and changes nothing (and counts as a failed login of the sender's address, whose lockout refuses
 * only webhooks without a valid signature). A device event (`data.iccid: null`) is answered 200 and
 * changes nothing. An event seen before (by its `eventId` or `id`, else by its signature) is
 * answered 200 and ignored. PROFILE_DOWNLOADED, INSTALLED, ENABLED, DISABLED and DELETED are
 * recorded and answered at once, and move the hub's record of the profile as soon as the
 * subscription is free (platformEvents.ts); the operator's back office is told. Answers are in the platform's own error format (`{error, message}`); a
 * failure of the hub's own to record the event is 503, so the platform sends the event again.
 */
import Ajv from 'ajv';
import { fieldName } from '../../config/schemaParts';
import { HubError } from '../../errors/catalogue';
import { parseStrictJson } from '../../json/strictJson';
import { refuse, type InboundContext, type InboundRoute, type InboundServices } from '../inbound';
import { ICCID_PATTERN, normalizeIccid } from '../../esim/iccid';
import type { TelcoOperator } from './operator';
import { applyPending, EVENT_STATES } from './platformEvents';
import { SIGNATURE_HEADER, verifyBodySignature, verifySignature, type SignatureCheck } from './signature';

export const WEBHOOK_PATH = '/telcoapi/:partner/events';

const validate = new Ajv({ allErrors: true }).compile({
  type: 'object',
  required: ['eventType', 'data'],
  properties: {
    eventType: { type: 'string', maxLength: 64 },
    eventId: { type: 'string', minLength: 1, maxLength: 128 },
    id: { type: 'string', minLength: 1, maxLength: 128 },
    timestamp: { anyOf: [{ type: 'string', maxLength: 64 }, { type: 'number' }] },
    signature: { type: 'string', maxLength: 128 },
    // a device event (DEVICE_REGISTERED) has no profile: `iccid: null` in the seed's fixed data shape
    data: { type: 'object', required: ['iccid'], properties: { iccid: { anyOf: [{ type: 'string', pattern: ICCID_PATTERN.source }, { type: 'null' }] } } },
  },
});

interface PlatformEvent {
  eventType: string;
  eventId?: string;
  id?: string;
  data: { iccid: string | null };
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
  return { path: WEBHOOK_PATH, name: 'telcoapiWebhook', handle: (ctx, services) => handleEvent(ctx, services, byId) };
}

async function handleEvent(ctx: InboundContext, services: InboundServices, operators: ReadonlyMap<string, TelcoOperator>): Promise<void> {
  try {
    if (ctx.method !== 'POST') throw new HubError('methodNotAllowed', { headers: { allow: 'POST' } });
    const operator = operators.get(ctx.state.params.partner ?? '');
    const raw = await services.readRaw();
    const body = parsed(raw);
    const check = operator && authenticate(operator, ctx.get(SIGNATURE_HEADER) || undefined, raw, body);
    if (!operator || !check?.ok) {
      // an unknown partner is refused as a bad signature: the answer tells no one which exist
      const reason = check && !check.ok ? check.reason : 'unknown partner';
      if (operator) operator.telcoMetrics.webhooks.inc({ msp: operator.id, outcome: reason === 'stale' ? 'stale' : 'bad_signature' });
      // only a sender without a valid signature is throttled: the platform's events pass even while
      // its address (shared with others, a CMP behind the same NAT) is locked out by failed logins
      services.refuseIfThrottled();
      throw await services.refused(refuse('inbound_route', `webhook signature: ${reason}`));
    }
    ctx.state.caller = operator.partner;
    const event = readEvent(body, operator);
    const outcome = await take(ctx, operator, event, event.eventId ?? event.id ?? check.signature);
    operator.telcoMetrics.webhooks.inc({ msp: operator.id, outcome });
    ctx.status = 200;
    ctx.body = outcome === 'replayed' ? { received: true, duplicate: true } : { received: true };
  } catch (err) {
    answerRefusal(ctx, err);
  }
}

type Parsed = { readonly value: unknown } | { readonly refused: string };

/** the body as JSON, or why not (refused once the signature is checked) */
function parsed(raw: Buffer): Parsed {
  try {
    return { value: parseStrictJson(raw) };
  } catch (err) {
    return { refused: err instanceof SyntaxError || !(err instanceof Error) ? 'the body is not JSON' : err.message };
  }
}

/** the header when there is one, else the payload's member; where the operator pinned one place, only there */
function authenticate(operator: TelcoOperator, header: string | undefined, raw: Buffer, body: Parsed): SignatureCheck {
  const payload = 'value' in body ? body.value : undefined;
  const { webhookSecrets: secrets, webhookToleranceSeconds: tolerance, webhookSignature: pinned } = operator.settings;
  const now = Date.now();
  const byHeader: SignatureCheck = pinned === 'body' ? { ok: false, reason: 'missing' } : verifySignature(header, raw, secrets, tolerance, now);
  if (byHeader.ok || pinned === 'header' || !isObject(payload)) return byHeader;
  const byBody = verifyBodySignature(raw, payload, secrets, tolerance, now);
  // a header that failed says why unless the body had no signature either
  return byBody.ok || byHeader.reason === 'missing' ? byBody : byHeader;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function readEvent(body: Parsed, operator: TelcoOperator): PlatformEvent {
  if ('refused' in body) {
    operator.telcoMetrics.webhooks.inc({ msp: operator.id, outcome: 'invalid' });
    throw new WebhookRefusal(400, 'INVALID_REQUEST', body.refused);
  }
  const payload = body.value;
  if (!validate(payload)) {
    operator.telcoMetrics.webhooks.inc({ msp: operator.id, outcome: 'invalid' });
    throw new WebhookRefusal(
      400,
      'INVALID_REQUEST',
      (validate.errors ?? []).map((e) => `${fieldName(e.instancePath) || '(body)'} ${e.message ?? 'is invalid'}`).join('; '),
    );
  }
  return payload;
}

/**
 * Records the event (the replay memory too) and applies it if its subscription is free now; never
 * waits for the subscription's lock, which a call to the platform may hold while the platform waits
 * for this answer. Once recorded the event is not lost: it is applied later if not now.
 */
async function take(ctx: InboundContext, operator: TelcoOperator, event: PlatformEvent, key: string): Promise<string> {
  const log = ctx.state.log.child({ msp: operator.id, eventType: event.eventType });
  if (event.data.iccid === null) {
    // the hub keeps no record of devices: nothing to move, nothing to remember
    log.debug('platform event about no profile (a device event): nothing to do');
    return 'ignored';
  }
  const iccid = normalizeIccid(event.data.iccid);
  const acted = EVENT_STATES[event.eventType] !== undefined;
  // the operator may make profiles outside the hub
  const known = acted ? await operator.getProfile(iccid) : undefined;
  const ttlSeconds = operator.settings.webhookToleranceSeconds * 2;
  const recorded = await operator.recordEvent({ key, eventType: event.eventType, iccid, mspToken: known?.mspToken, receivedAt: Date.now() }, ttlSeconds);
  if (!recorded) return 'replayed';
  if (!acted) {
    log.info('platform event of a type the hub does not act on');
    return 'ignored';
  }
  if (!known) {
    log.warn('platform event for a profile the hub did not make');
    return 'unknown_profile';
  }
  try {
    return (await applyPending(operator, known.mspToken, ctx.state.log)).get(key) ?? 'pending';
  } catch (err) {
    log.warn({ err: (err as Error).message }, 'platform event recorded, not applied yet; the worker applies it');
    return 'pending';
  }
}

function answerRefusal(ctx: InboundContext, err: unknown): void {
  let refusal: WebhookRefusal;
  if (err instanceof WebhookRefusal) refusal = err;
  else if (err instanceof HubError && err.kind === 'unauthenticated')
    refusal = new WebhookRefusal(401, 'AUTHENTICATION_FAILED', 'the signature is missing, wrong or outside the time window');
  else if (err instanceof HubError && err.status === 429) refusal = new WebhookRefusal(429, 'RATE_LIMIT_EXCEEDED', err.message);
  else if (err instanceof HubError && err.status < 500) refusal = new WebhookRefusal(err.status, 'INVALID_REQUEST', err.message);
  else {
    ctx.state.log.error({ err: err instanceof HubError ? err.message : (err as Error).message }, 'platform event not recorded; the platform sends it again');
    refusal = new WebhookRefusal(503, 'SERVICE_UNAVAILABLE', 'the event could not be recorded now; send it again');
  }
  if (err instanceof HubError && refusal.httpStatus !== 401) ctx.set(err.headers);
  ctx.status = refusal.httpStatus;
  ctx.body = { error: refusal.code, message: refusal.message, timestamp: new Date().toISOString() };
}
