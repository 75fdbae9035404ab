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
import { claimMsOf } from './rateLimitsAndChecks';
import { need, setBody, succeeded, type HubContext, type PipelineDeps, type Stage } from './types';

const POLL_MS = 50;

/** every operation but Request Activation Code: a CMP-request-id seen with another request is 39 */
export function uniqueRequestId(): Stage {
  return async (ctx, next) => {
    const checked = need(ctx.state.checked, 'checked');
    if (reused(checked.fingerprint, checked.previousFingerprint)) throw refuseReuse(ctx);
    await next();
  };
}

/**
 * Request Activation Code: decides on the request id and the activation request's claim that
 * stateChecks read and took (PendingActivations owns the request from here). Once the MSP has
 * answered, how the call ended is kept: the answer to replay, 201 as pending, no answer as open
 * (the MSP may have taken it), a refusal forgotten.
 */
export function replayActivation(deps: PipelineDeps): Stage {
  return async (ctx, next) => {
    const { fingerprint, previousFingerprint, claim, activation } = need(ctx.state.checked, 'checked');
    const pending = need(activation, 'activation request');
    // a claim taken for a request refused for its reused id is given back by stateChecks
    if (reused(fingerprint, previousFingerprint)) throw refuseReuse(ctx);
    await replayOrRun(ctx, deps, pending, fingerprint, need(claim, 'claim'), next);
  };
}

function reused(fingerprint: string, before: string | undefined): boolean {
  return before !== undefined && before !== fingerprint;
}

function refuseReuse(ctx: HubContext): HubError {
  return new HubError('requestIdReused', {
    detail: `CMP-request-id ${ctx.state.ids.requestId} was used for a different request`,
    clientErrorStatus: need(ctx.state.operation, 'operation').clientErrorStatus,
  });
}

/** while the first call is in flight, a retry asks again */
function claimAgain(deps: PipelineDeps, pending: PendingActivation, fingerprint: string, ctx: HubContext): Promise<ReplayClaim> {
  return required('claim activation request', deps.activations.claim(pending, fingerprint, claimMsOf(need(ctx.state.route, 'route'))));
}

/** failures after which the MSP may still deliver a code for the request: it stays open */
const MAY_HAVE_TAKEN: ReadonlySet<ErrorKind> = new Set(['upstreamTimeout', 'upstreamUnreachable', 'upstreamInvalidResponse', 'stateUnavailable']);

async function replayOrRun(
  ctx: HubContext,
  deps: PipelineDeps,
  pending: PendingActivation,
  fingerprint: string,
  first: ReplayClaim,
  next: () => Promise<void>,
): Promise<void> {
  const route = need(ctx.state.route, 'route');
  const giveUpAt = Date.now() + route.timeoutMs + 1000;
  for (let claim = first; ; claim = await claimAgain(deps, pending, fingerprint, ctx)) {
    if (claim.state === 'claimed') break;
    if (claim.fingerprint !== fingerprint) {
      throw new HubError('requestIdReused', { detail: 'this activationCodeRequestID was used for a different request' });
    }
    if (claim.state === 'done') {
      replay(ctx, claim.answer);
      return;
    }
    if (Date.now() > giveUpAt) throw new HubError('requestInProgress', { headers: { 'retry-after': '1' } });
    await sleep(POLL_MS);
  }
  ctx.state.pending = pending;
  const keep = (step: string, done: Promise<void>) => bestEffort(ctx.state, step, done);
  try {
    await next();
  } catch (err) {
    // a partner that did not answer may have taken the request all the same: its delivery must
    // find it; any other refusal means no code will come
    await keep('keep activation request', deps.activations.finish(pending, err instanceof HubError && MAY_HAVE_TAKEN.has(err.kind) ? 'open' : 'release'));
    throw err;
  }
  // the bridge has kept the request itself
  if (ctx.state.bridged) return;
  const answer = ctx.state.answer;
  const body =
    answer && succeeded(ctx) ? deps.apis.replayBody(need(ctx.state.operation, 'operation'), answer.status, ctx.state.answerJson, answer.body) : undefined;
  if (!answer || body === undefined) {
    if (answer && succeeded(ctx))
      ctx.state.log.warn({ status: answer.status }, 'the answer is too large to keep for a replay; a retry will reach the MSP again');
    // a refusal is not replayed: the CMP may retry and the MSP decide again
    await keep('release activation request', deps.activations.finish(pending, 'release'));
    return;
  }
  const stored: StoredAnswer = { status: answer.status, contentType: body === '' ? undefined : 'application/json', body };
  // The answer does not depend on the outcome, so the CMP is answered while it is written: the
  // command is on the store's connection before the answer leaves. Until it lands the entry is in
  // flight, the state every reader already handles while the MSP is being called (a retry waits
  // for it, a delivery settles it), and it lands before any later command of this process (one
  // connection, run in order); the hub's shutdown waits for it (track). A write that fails leaves
  // the entry in flight until its claim runs out, and a retry then takes it over.
  const kept = keep('keep activation answer', deps.activations.finish(pending, answer.status === 201 ? 'pending' : 'done', stored));
  deps.track(kept);
  // once the 201 has left (or the CMP has gone) and its outcome is kept, a held delivery may follow it
  if (answer.status === 201) ctx.res.once('close', () => deps.track(kept.then(() => keep('mark 201 sent', deps.activations.kept(pending)))));
}

function replay(ctx: HubContext, answer: StoredAnswer): void {
  ctx.state.replayed = true;
  ctx.status = answer.status;
  setBody(ctx, Buffer.from(answer.body, 'utf8'), answer.contentType);
}
