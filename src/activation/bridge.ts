/**
 * The sync-to-async bridge for Request Activation Code (AID.02 7.7). The MSP is asked with the
 * route's `bridgeTimeoutMs`; if it has not answered within the CMP's budget (`timeoutMs`, 3 s by
 * default, the limit 7.7.1 sets for a synchronous answer), the CMP gets 201 at once, as the
 * asynchronous mode allows, and the MSP's eventual outcome reaches the CMP as Send Activation Code
 * through the outbox (PendingActivations settles it exactly once).
 */
import type { RouteSettings } from '../config/types';
import type { DialectAnswer } from '../dialects/dialect';
import { parseStrictJson } from '../json/strictJson';
import type { Logger } from '../log';
import type { ActivationCode } from '../state/deliveries';
import type { PendingActivation } from '../state/ledger';
import { required } from '../errors/storeCalls';
import type { LateOutcome, PendingActivations } from './pendingActivations';

type Outcome = { readonly answer: DialectAnswer } | { readonly error: unknown };

/** the deadline entry comes due this long after the MSP's own deadline (which, started before the
 * budget ran out, always comes first) */
const DEADLINE_GRACE_MS = 1000;

export interface BridgeServices {
  readonly activations: PendingActivations;
  /** work that outlives the request; the hub waits for it when it stops */
  readonly track: (work: Promise<unknown>) => void;
}

/**
 * The MSP's answer when it comes within the budget; undefined when the CMP is to be answered 201
 * and the outcome follows. `ask` calls the MSP with the bridge's own deadline.
 */
export async function withinBudget(
  services: BridgeServices,
  ask: (timeoutMs: number) => Promise<DialectAnswer>,
  route: RouteSettings,
  pending: PendingActivation,
  /** read only when there is something to log: a request's logger is made on first use */
  logs: { readonly log: Logger },
): Promise<DialectAnswer | undefined> {
  const outcome: Promise<Outcome> = ask(route.bridgeTimeoutMs).then(
    (answer) => ({ answer }),
    (error: unknown) => ({ error }),
  );
  // the outcome, or undefined once the budget has run out: one promise, where a race makes three
  const inTime = await new Promise<Outcome | undefined>((resolve) => {
    const budget = setTimeout(() => resolve(undefined), route.timeoutMs);
    void outcome.then((result) => {
      clearTimeout(budget);
      resolve(result);
    });
  });
  if (inTime) {
    if ('error' in inTime) throw inTime.error;
    return inTime.answer;
  }
  const recorded = services.activations.bridge(pending, Date.now() + route.bridgeTimeoutMs + DEADLINE_GRACE_MS);
  const log = logs.log;
  // the outcome is taken once the record is made, and also when the record's answer did not come
  // back (the CMP is refused): it may have been made all the same, and then the outcome, or else
  // the deadline, is what tells the CMP, whose retry is answered 201 from the record
  services.track(
    recorded.then(
      (bridged) => settleLate(services, bridged, outcome, log),
      () => settleLate(services, { ...pending, bridged: true }, outcome, log),
    ),
  );
  await required('record bridged request', recorded);
  log.info({ msp: pending.msp, budgetMs: route.timeoutMs }, 'MSP slower than the budget: answered 201, the outcome follows');
  return undefined;
}

function settleLate(services: BridgeServices, bridged: PendingActivation, outcome: Promise<Outcome>, log: Logger): Promise<void> {
  return outcome.then((result) =>
    services.activations.answeredLate(bridged, lateOutcome(result)).catch((err: unknown) => {
      // the deadline entry still stands: the CMP will hear of this request either way
      log.error({ err: (err as Error).message }, 'bridged outcome could not be queued; the deadline entry will answer the CMP');
    }),
  );
}

function lateOutcome(result: Outcome): LateOutcome {
  if ('answer' in result && result.answer.status === 201) return { async: true };
  const code = 'answer' in result ? activationCodeOf(result.answer) : undefined;
  return code ? { code } : { failure: failureText(result) };
}

function activationCodeOf(answer: DialectAnswer): ActivationCode | undefined {
  if (answer.status !== 200) return undefined;
  try {
    const body = parseStrictJson(answer.body) as { activationCode?: unknown; profileType?: unknown };
    return typeof body.activationCode === 'string' && typeof body.profileType === 'string' ? (body as ActivationCode) : undefined;
  } catch {
    return undefined;
  }
}

/** "code: description", as AID.02 5.5 suggests for the error field of Send Activation Code */
function failureText(result: Outcome): string {
  if ('error' in result) return `90: The MSP could not be reached: ${(result.error as Error).message}`;
  try {
    const body = parseStrictJson(result.answer.body) as { code?: unknown; error?: unknown };
    if (typeof body.code === 'string' && typeof body.error === 'string') return `${body.code}: ${body.error}`;
  } catch {
    // not an AID.02 error body, or JSON read two ways: described by its status below
  }
  return result.answer.status === 200 ? '90: The MSP answered without an activation code' : `90: The MSP answered ${result.answer.status}`;
}
