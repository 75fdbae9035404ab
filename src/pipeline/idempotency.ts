/**
 * Idempotent replay. A `CMP-request-id` seen again with a different request is refused (code 39).
 * A retried Request Activation Code (same caller, same `activationCodeRequestID`) gets the first
 * successful answer again and never reaches the MSP twice, so it can never produce a second
 * activation code; while the first is still in flight the retry waits for its answer.
 */
import { createHash } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { HubError } from '../errors';
import type { ReplayClaim, StoredAnswer } from '../state/ledger';
import { bestEffort, optional, required } from '../state/stateCall';
import { need, setBody, succeeded, type HubContext, type PipelineDeps, type Stage } from './types';

const POLL_MS = 50;

/** every operation but Request Activation Code: a CMP-request-id seen with another request is 39 */
export function uniqueRequestId(deps: PipelineDeps): Stage {
  return async (ctx, next) => {
    const fingerprint = fingerprintOf(ctx);
    if (reused(fingerprint, await remember(ctx, deps, fingerprint))) throw refuseReuse(ctx);
    await next();
  };
}

/** Request Activation Code: the request id, and the activation request claimed for replay, in one
 * round trip; a claim taken for a request refused for its reused id is given back */
export function replayActivation(deps: PipelineDeps): Stage {
  return async (ctx, next) => {
    const caller = need(ctx.state.caller, 'caller');
    const fingerprint = fingerprintOf(ctx);
    const acRequestId = (ctx.state.body as { activationCodeRequestID: string }).activationCodeRequestID;
    const key = `${caller.id}:${acRequestId}`;
    const [before, claim] = await Promise.all([remember(ctx, deps, fingerprint), claimReplay(deps, key, fingerprint, ctx).catch((err: unknown) => err as Error)]);
    if (reused(fingerprint, before)) {
      if (!(claim instanceof Error) && claim.state === 'claimed') await bestEffort(ctx.state.log, 'release activation request', deps.store.ledger.releaseReplay(key));
      throw refuseReuse(ctx);
    }
    if (claim instanceof Error) throw claim;
    await replayOrRun(ctx, deps, key, fingerprint, claim, next);
  };
}

/** a safety net, not a guarantee: while the store is away the check is skipped, not the request */
function remember(ctx: HubContext, deps: PipelineDeps, fingerprint: string): Promise<string | undefined> {
  const caller = need(ctx.state.caller, 'caller');
  const requestId = need(ctx.state.ids.requestId, 'CMP-request-id');
  return optional(ctx.state.log, 'remember request id', deps.store.ledger.rememberRequest(`${caller.id}:${requestId}`, fingerprint, ctx.state.runtime.config.settings.requestIdTtlSeconds));
}

function reused(fingerprint: string, before: string | undefined): boolean {
  return before !== undefined && before !== fingerprint;
}

function refuseReuse(ctx: HubContext): HubError {
  return new HubError('requestIdReused', { detail: `CMP-request-id ${ctx.state.ids.requestId} was used for a different request`, clientErrorStatus: need(ctx.state.operation, 'operation').clientErrorStatus });
}

function claimReplay(deps: PipelineDeps, key: string, fingerprint: string, ctx: HubContext): Promise<ReplayClaim> {
  const route = need(ctx.state.route, 'route');
  const claimTtl = Math.ceil(route.timeoutMs / 1000) + 5;
  return required('claim activation request', deps.store.ledger.claimReplay(key, fingerprint, claimTtl));
}

async function replayOrRun(ctx: HubContext, deps: PipelineDeps, key: string, fingerprint: string, first: ReplayClaim, next: () => Promise<void>): Promise<void> {
  const route = need(ctx.state.route, 'route');
  const { replayTtlSeconds } = ctx.state.runtime.config.settings;
  const giveUpAt = Date.now() + route.timeoutMs + 1000;
  for (let claim = first; ; claim = await claimReplay(deps, key, fingerprint, ctx)) {
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
  try {
    await next();
  } catch (err) {
    await bestEffort(ctx.state.log, 'release activation request', deps.store.ledger.releaseReplay(key));
    throw err;
  }
  const answer = ctx.state.answer;
  const body = answer && succeeded(ctx) ? deps.apis.replayBody(need(ctx.state.operation, 'operation'), answer.status, ctx.state.answerJson) : undefined;
  if (answer && body !== undefined) {
    const stored: StoredAnswer = { status: answer.status, contentType: body === '' ? undefined : 'application/json', body };
    await bestEffort(ctx.state.log, 'store activation answer', deps.store.ledger.completeReplay(key, fingerprint, stored, replayTtlSeconds));
  } else {
    if (answer && succeeded(ctx)) ctx.state.log.warn({ status: answer.status }, 'the answer is too large to keep for a replay; a retry will reach the MSP again');
    // a refusal or failure is not replayed: the CMP may retry and the MSP decide again
    await bestEffort(ctx.state.log, 'release activation request', deps.store.ledger.releaseReplay(key));
  }
}

function replay(ctx: HubContext, answer: StoredAnswer): void {
  ctx.state.replayed = true;
  ctx.status = answer.status;
  setBody(ctx, Buffer.from(answer.body, 'utf8'), answer.contentType);
}

function fingerprintOf(ctx: HubContext): string {
  return createHash('sha256')
    .update(`${ctx.state.target?.id} ${ctx.method} ${ctx.state.forwardPath}\n`)
    .update(ctx.state.rawBody ?? Buffer.alloc(0))
    .digest('base64url');
}
