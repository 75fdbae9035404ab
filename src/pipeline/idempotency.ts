/**
 * Idempotent replay. A `CMP-request-id` seen again with a different request is refused (code 39).
 * A retried Request Activation Code (same caller, same `activationCodeRequestID`) gets the first
 * successful answer again and never reaches the MSP twice, so it can never produce a second
 * activation code; while the first is still in flight the retry waits for its answer.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { HubError, type ErrorKind } from '../errors/catalogue';
import type { PendingActivation, ReplayClaim, StoredAnswer } from '../state/ledger';
import { bestEffort, required } from '../errors/storeCalls';
import { isSuccess } from '../dialects/dialect';
import { claimMsOf } from './rateLimitsAndChecks';
import type { Answered, Checked, Claimed, Request } from './request';
import { setBody, type HubContext, type PipelineDeps } from './types';

const POLL_MS = 50;

/** every operation but Request Activation Code: a CMP-request-id seen with another request is 39 */
export function refuseReusedId(request: Request, checked: Checked): void {
  if (checked.previousFingerprint !== undefined && checked.previousFingerprint !== checked.fingerprint) {
    throw new HubError('requestIdReused', {
      detail: `CMP-request-id ${request.ids.requestId} was used for a different request`,
      clientErrorStatus: request.operation.clientErrorStatus,
    });
  }
}

/**
 * Request Activation Code: decides on the claim the state checks took. The answer a retry is
 * given again; undefined once this request's call holds the claim (PendingActivations owns the
 * request from here), after waiting while another call of it is in flight.
 */
export async function claimOrReplay(
  deps: PipelineDeps,
  request: Request,
  { fingerprint, claim: first, activation: pending }: Claimed,
): Promise<StoredAnswer | undefined> {
  const giveUpAt = Date.now() + request.route.timeoutMs + 1000;
  for (let claim = first; ; claim = await claimAgain(deps, pending, fingerprint, request)) {
    if (claim.state === 'claimed') return undefined;
    if (claim.fingerprint !== fingerprint) {
      throw new HubError('requestIdReused', { detail: 'this activationCodeRequestID was used for a different request' });
    }
    if (claim.state === 'done') return claim.answer;
    if (Date.now() > giveUpAt) throw new HubError('requestInProgress', { headers: { 'retry-after': '1' } });
    await sleep(POLL_MS);
  }
}

/** while the first call is in flight, a retry asks again */
function claimAgain(deps: PipelineDeps, pending: PendingActivation, fingerprint: string, request: Request): Promise<ReplayClaim> {
  return required('claim activation request', deps.activations.claim(pending, fingerprint, claimMsOf(request.route)));
}

/** a stored answer given to a retry */
export function replay(ctx: HubContext, answer: StoredAnswer): void {
  ctx.state.answeredBy = 'replayed';
  ctx.status = answer.status;
  setBody(ctx, Buffer.from(answer.body, 'utf8'));
}

/** failures after which the MSP may still deliver a code for the request: it stays open */
const MAY_HAVE_TAKEN: ReadonlySet<ErrorKind> = new Set(['upstreamTimeout', 'upstreamUnreachable', 'upstreamInvalidResponse', 'stateUnavailable']);

/** the call ended without an answer for the CMP: a partner that did not answer may have taken the
 * request all the same, and its delivery must find it; any other refusal means no code will come */
export function keepFailure(ctx: HubContext, deps: PipelineDeps, pending: PendingActivation, err: unknown): Promise<void> {
  const outcome = err instanceof HubError && MAY_HAVE_TAKEN.has(err.kind) ? 'open' : 'release';
  return bestEffort(ctx.state, 'keep activation request', deps.activations.finish(pending, outcome));
}

/**
 * Once the MSP has answered, how the call ended is kept: the answer to replay, 201 as pending, a
 * refusal forgotten. A bridged request the bridge has kept itself; only its 201 is marked sent.
 */
export function keepAnswer(ctx: HubContext, deps: PipelineDeps, request: Request, pending: PendingActivation, { answer, json, by }: Answered): Promise<void> {
  if (by === 'bridged') {
    // the bridge kept the request itself; that its 201 has left is noted as for any 201, or the
    // MSP's own delivery, should it go asynchronous, would be held for a 201 already sent
    markSent(ctx, deps, pending, Promise.resolve());
    return Promise.resolve();
  }
  const keep = (step: string, done: Promise<void>) => bestEffort(ctx.state, step, done);
  const success = isSuccess(answer.status);
  const body = success ? deps.apis.replayBody(request.operation, answer.status, json, answer.body) : undefined;
  if (body === undefined) {
    if (success) ctx.state.log.warn({ status: answer.status }, 'the answer is too large to keep for a replay; a retry will reach the MSP again');
    // a refusal is not replayed: the CMP may retry and the MSP decide again
    return keep('release activation request', deps.activations.finish(pending, 'release'));
  }
  const stored: StoredAnswer = { status: answer.status, body };
  // The answer does not depend on the outcome, so the CMP is answered while it is written: the
  // command is on the store's connection before the answer leaves. Until it lands the entry is in
  // flight, the state every reader already handles while the MSP is being called (a retry waits
  // for it, a delivery settles it), and it lands before any later command of this process (one
  // connection, run in order); the hub's shutdown waits for it (track). A write that fails leaves
  // the entry in flight until its claim runs out, and a retry then takes it over.
  const kept = keep('keep activation answer', deps.activations.finish(pending, answer.status === 201 ? 'pending' : 'done', stored));
  deps.track(kept);
  if (answer.status === 201) markSent(ctx, deps, pending, kept);
  return Promise.resolve();
}

/** once the 201 has left (or the CMP has gone) and its outcome is kept, a held delivery may follow it */
function markSent(ctx: HubContext, deps: PipelineDeps, pending: PendingActivation, kept: Promise<void>): void {
  ctx.res.once('close', () => deps.track(kept.then(() => bestEffort(ctx.state, 'mark 201 sent', deps.activations.kept(pending)))));
}
