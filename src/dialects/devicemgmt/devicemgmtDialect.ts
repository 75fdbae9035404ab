/**
 * The `devicemgmt` dialect's instance: the hub does a CMP's machine work on its vehicles. As the
 * caller of Request Activation Code it records what each request is for (the vehicle's EID) and, on
 * a 200 with the code, starts putting the profile on the vehicle; a code that comes later (Send
 * Activation Code, AID.02 7.7.2.1, whether the MSP answered 201 or the hub bridged) starts the same.
 * As the target of the MSPs' calls it takes the profiles of an invalidated token off the vehicles
 * (Notify MSP Token Invalid, 4.5 Delete OP) and passes what a person at the CMP must know (Send MSP
 * Token, Send Profile Information, Update Subscription Info) to the back office. Its tasks run
 * through the outbox (`dialectTask`): done (200; a task given up too, once the back office and the
 * MSP were told), to be looked at again (429 with Retry-After).
 */
import type { Logger } from '../../log';
import { type Upstream } from '../../upstream/upstream';
import { UpstreamError } from '../../errors/upstreamError';
import type { CallerWork, DialectAnswer, DialectCall, DialectInstance } from '../dialect';
import { EID_DIGITS } from '../../esim/eid';
import type { ActivationAsked, BackOfficeEvent, Fleet } from './fleet';
import { runTask } from './tasks';

/** what the CMP's back office is told of the MSPs' messages, and the status AID.02 answers them with */
const PASSED_ON: Readonly<Partial<Record<DialectCall['operation'], { event: BackOfficeEvent; status: number }>>> = {
  sendMspToken: { event: 'sendMspToken', status: 201 },
  sendProfileInformation: { event: 'sendProfileInformation', status: 200 },
  updateSubscriptionInfo: { event: 'updateSubscriptionInfo', status: 201 },
};

/** a task's run (a few platform calls of at most 5 s each: it ends once it started an action)
 * that holds its lock longer than this has died; another instance may take the task */
const TASK_LOCK_MS = 30000;

export function createDevicemgmtDialect(fleet: Fleet, webhook: Upstream): DialectInstance & { caller: CallerWork } {
  return {
    async call(call: DialectCall): Promise<DialectAnswer> {
      const started = performance.now();
      const answer = await answerCall(fleet, webhook, call);
      return { ...answer, durationMs: performance.now() - started };
    },
    caller: {
      async requested(call) {
        const body = call.json as { eid?: unknown; activationCodeRequestID?: unknown };
        // an EID that is none is the MSP's to refuse (423); nothing is recorded for it
        if (typeof body.eid !== 'string' || !EID_DIGITS.test(body.eid) || typeof body.activationCodeRequestID !== 'string' || !call.params.msp_token) return;
        await fleet.rememberRequest({
          requestId: body.activationCodeRequestID,
          msp: call.target,
          mspToken: call.params.msp_token,
          eid: body.eid,
          correlationId: call.headers['correlation-id'] ?? '',
        });
      },
      async answered(call, answer) {
        if (answer.status !== 200) return;
        const requestId = (call.json as { activationCodeRequestID?: unknown }).activationCodeRequestID;
        const asked = typeof requestId === 'string' ? await fleet.requestOf(requestId) : undefined;
        const code = parseCode(answer.body);
        if (asked && code) await provision(fleet, asked, code);
      },
    },
  };
}

/** the code, as the 200 of Request Activation Code or Send Activation Code carry it */
interface CodeMessage {
  readonly activationCode?: string | null;
  readonly iccid?: string | null;
  readonly swappedIccid?: string | null;
  readonly error?: string | null;
}

async function answerCall(fleet: Fleet, webhook: Upstream, call: DialectCall): Promise<DialectAnswer> {
  const log = fleet.log.child({
    requestId: call.headers['cmp-request-id'],
    correlationId: call.headers['correlation-id'],
    client: call.caller,
    target: fleet.id,
  });
  switch (call.operation) {
    case 'dialectEvent':
      return webhook.request({ ...call, operation: call.operation });
    case 'dialectTask':
      return task(fleet, (call.json as { task?: unknown } | undefined)?.task, log);
    case 'submitActivationCode':
      return codeArrived(fleet, call);
    case 'notifyMspTokenInvalid':
      return tokenInvalid(fleet, call);
    default: {
      const passed = PASSED_ON[call.operation];
      if (!passed) throw new UpstreamError('refused', `the devicemgmt dialect does not serve ${call.operation}`);
      await fleet.tell(passed.event, { msp: call.caller, params: call.params, message: call.json ?? null });
      return empty(passed.status);
    }
  }
}

async function task(fleet: Fleet, id: unknown, log: Logger): Promise<DialectAnswer> {
  if (typeof id !== 'string') return empty(200);
  const outcome = await fleet.exclusively(`task ${id}`, TASK_LOCK_MS, () => runTask(fleet, id, log));
  if (outcome === 'done') return empty(200);
  // in progress, or another instance runs it right now
  return { ...empty(429), retryAfter: String(fleet.settings.pollIntervalSeconds) };
}

/** Send Activation Code (AID.02 7.7.2.1): the code reaches the vehicle the request named */
async function codeArrived(fleet: Fleet, call: DialectCall): Promise<DialectAnswer> {
  const message = (call.json ?? {}) as CodeMessage & { activationCodeRequestID?: string | null };
  const asked = message.activationCodeRequestID ? await fleet.requestOf(message.activationCodeRequestID) : undefined;
  if (!asked)
    await fleet.tell('activationUnknown', {
      msp: call.caller,
      activationCodeRequestID: message.activationCodeRequestID ?? null,
      needs: 'the vehicle the code is for',
    });
  else await provision(fleet, asked, message);
  return empty(200);
}

async function provision(fleet: Fleet, asked: ActivationAsked, code: CodeMessage): Promise<void> {
  if (!code.activationCode) {
    await fleet.tell('noActivationCode', { msp: asked.msp, activationCodeRequestID: asked.requestId, error: code.error ?? null });
    return;
  }
  await fleet.startTask({
    id: `provision ${asked.requestId}`,
    kind: 'provision',
    msp: asked.msp,
    mspToken: asked.mspToken,
    correlationId: asked.correlationId,
    eid: asked.eid,
    iccid: code.iccid ?? undefined,
    activationCode: code.activationCode,
    swappedIccid: code.swappedIccid ?? null,
    step: 'device',
  });
}

/** AID.02 7.4 / 4.5: the token's profiles come off the vehicles (deleted, or disabled where the CMP
 * says so), each reported to the MSP when the vehicle has done it */
async function tokenInvalid(fleet: Fleet, call: DialectCall): Promise<DialectAnswer> {
  const mspToken = call.params.msp_token;
  const profiles = mspToken ? (await fleet.profilesOfToken(mspToken)).filter((p) => p.status !== 'deleted' && p.msp === call.caller) : [];
  const removal = fleet.settings.onTokenInvalid;
  for (const profile of profiles) {
    if (removal === 'disable' && profile.status === 'disabled') continue;
    await fleet.startTask({
      id: `remove ${profile.iccid} ${Date.now()}`,
      kind: 'remove',
      msp: profile.msp,
      mspToken: profile.mspToken,
      correlationId: call.headers['correlation-id'] ?? '',
      eid: profile.eid,
      deviceId: profile.deviceId,
      iccid: profile.iccid,
      removal,
      step: 'device',
    });
  }
  await fleet.tell('notifyMspTokenInvalid', { msp: call.caller, params: call.params, message: call.json ?? null, removing: profiles.map((p) => p.iccid) });
  return empty(204);
}

/** the answer's code message; nothing when the body is no JSON object (response checks off) */
function parseCode(body: Buffer): CodeMessage | undefined {
  try {
    const value: unknown = JSON.parse(body.toString('utf8'));
    return typeof value === 'object' && value !== null && !Array.isArray(value) ? value : undefined;
  } catch {
    return undefined;
  }
}

function empty(status: number): DialectAnswer {
  return { status, body: Buffer.alloc(0), durationMs: 0 };
}
