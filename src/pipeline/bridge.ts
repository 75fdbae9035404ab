/**
 * The sync-to-async bridge for Request Activation Code (AID.02 7.7). The MSP is asked with the
 * route's `bridgeTimeoutMs`; if it has not answered within the CMP's budget (`timeoutMs`, 3 s by
 * default, the limit 7.7.1 sets for a synchronous answer), the CMP gets 201 at once, as the
 * asynchronous mode allows, and the MSP's eventual outcome reaches the CMP as Send Activation Code
 * through the outbox: the code, or `error`. Exactly one outcome: whoever consumes the pending
 * request delivers, be it the late answer, the MSP's own Send Activation Code, or the deadline
 * entry that the outbox keeps in case this instance dies before the MSP answers.
 */
import type { RouteSettings } from '../config/types';
import type { DialectAnswer, DialectCall, DialectInstance } from '../dialects/dialect';
import { bridgeDeadline, bridgedActivationCode, bridgeFailure } from '../outbox/deliveries';
import type { Logger } from '../log';
import type { PendingActivation } from '../state/store';
import { required } from './stateCall';
import type { PipelineDeps } from './types';

type Outcome = { readonly answer: DialectAnswer } | { readonly error: unknown };

/** the deadline entry comes due this long after the MSP's own deadline (which, started before the
 * budget ran out, always comes first) */
const DEADLINE_GRACE_MS = 1000;

export async function callWithBridge(
  deps: PipelineDeps,
  dialect: DialectInstance,
  call: DialectCall,
  route: RouteSettings,
  pending: PendingActivation,
  log: Logger,
): Promise<{ readonly answer?: DialectAnswer }> {
  const outcome: Promise<Outcome> = dialect.call({ ...call, timeoutMs: route.bridgeTimeoutMs }).then(
    (answer) => ({ answer }),
    (error: unknown) => ({ error }),
  );
  let budget: NodeJS.Timeout | undefined;
  const overBudget = new Promise<undefined>((resolve) => {
    budget = setTimeout(() => resolve(undefined), route.timeoutMs);
  });
  const inTime = await Promise.race([outcome, overBudget]);
  clearTimeout(budget);
  if (inTime) {
    if ('error' in inTime) throw inTime.error;
    return { answer: inTime.answer };
  }
  const bridged: PendingActivation = { ...pending, bridged: true };
  // rewritten in place, keeping its lifetime: should the MSP go asynchronous itself, its delivery
  // may take as long as any
  await required(deps, 'record bridged request', deps.store.replacePendingActivation(bridged));
  await required(deps, 'schedule bridge deadline', deps.store.outbox.enqueue(bridgeDeadline(bridged), Date.now() + route.bridgeTimeoutMs + DEADLINE_GRACE_MS));
  log.info({ msp: pending.msp, budgetMs: route.timeoutMs }, 'MSP slower than the budget: answered 201, the outcome follows');
  deps.track(finishBridge(deps, outcome, bridged, log));
  return {};
}

async function finishBridge(deps: PipelineDeps, outcome: Promise<Outcome>, pending: PendingActivation, log: Logger): Promise<void> {
  const result = await outcome;
  try {
    if ('answer' in result && result.answer.status === 201) {
      // the MSP went asynchronous itself: its own Send Activation Code will match the record, and
      // the deadline entry must leave it alone (unless the MSP delivered already)
      await deps.store.replacePendingActivation({ ...pending, bridged: false });
      deps.metrics.bridges.inc({ msp: pending.msp, outcome: 'msp_async' });
      return;
    }
    const code = 'answer' in result ? activationCodeOf(result.answer) : undefined;
    const delivery = code ? bridgedActivationCode(pending, code) : bridgeFailure(pending, failureText(result));
    if (!(await deps.store.consumePendingActivation(pending))) return;
    await deps.store.outbox.enqueue(delivery);
    deps.metrics.outbox.inc({ target: pending.cmp, event: 'enqueued' });
    deps.metrics.activationTurnaround.observe({ msp: pending.msp, mode: 'bridged' }, (Date.now() - pending.createdAt) / 1000);
    deps.metrics.bridges.inc({ msp: pending.msp, outcome: code ? 'code' : 'error' });
  } catch (err) {
    // the deadline entry still stands: the CMP will hear of this request either way
    log.error({ err: (err as Error).message }, 'bridged outcome could not be queued; the deadline entry will answer the CMP');
  }
}

function activationCodeOf(answer: DialectAnswer): { activationCode: string; profileType: string; iccid?: string; swappedIccid?: string | null } | undefined {
  if (answer.status !== 200) return undefined;
  try {
    const body = JSON.parse(answer.body.toString('utf8')) as { activationCode?: unknown; profileType?: unknown };
    return typeof body.activationCode === 'string' && typeof body.profileType === 'string'
      ? (body as { activationCode: string; profileType: string })
      : undefined;
  } catch {
    return undefined;
  }
}

/** "code: description", as AID.02 5.5 suggests for the error field of Send Activation Code */
function failureText(result: Outcome): string {
  if ('error' in result) return `90: The MSP could not be reached: ${(result.error as Error).message}`;
  try {
    const body = JSON.parse(result.answer.body.toString('utf8')) as { code?: unknown; error?: unknown };
    if (typeof body.code === 'string' && typeof body.error === 'string') return `${body.code}: ${body.error}`;
  } catch {
    // not an AID.02 error body: described by its status below
  }
  return result.answer.status === 200 ? '90: The MSP answered without an activation code' : `90: The MSP answered ${result.answer.status}`;
}
