/**
 * Idempotent replay. A `CMP-request-id` seen again with a different request is refused (code 39).
 * A retried Request Activation Code (same caller, same `activationCodeRequestID`) gets the first
 * successful answer again and never reaches the MSP twice, so it can never produce a second
 * activation code; while the first is still in flight the retry waits for its answer.
 */
import { createHash } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { HubError } from '../errors';
import type { ReplayClaim, StoredAnswer } from '../state/store';
import { bestEffort, optional, required } from './stateCall';
import { need, setBody, succeeded, type HubContext, type PipelineDeps, type Stage } from './types';

const POLL_MS = 50;

export function idempotency(deps: PipelineDeps): Stage {
  return async (ctx, next) => {
    const op = need(ctx.state.operation, 'operation');
    const caller = need(ctx.state.caller, 'caller');
    const { settings } = ctx.state.runtime.config;
    const fingerprint = fingerprintOf(ctx);
    const requestId = need(ctx.state.ids.requestId, 'CMP-request-id');
    // a safety net, not a guarantee: while the store is away the check is skipped, not the request
    const remembered = optional(ctx, deps, 'remember request id', deps.store.rememberRequest(`${caller.id}:${requestId}`, fingerprint, settings.requestIdTtlSeconds));
    const reused = (before: string | undefined) => before !== undefined && before !== fingerprint;
    const refuseReuse = () => new HubError('requestIdReused', { detail: `CMP-request-id ${requestId} was used for a different request`, clientErrorStatus: op.clientErrorStatus });
    if (op.id !== 'requestActivationCode') {
      if (reused(await remembered)) throw refuseReuse();
      await next();
      return;
    }
    const acRequestId = (ctx.state.body as { activationCodeRequestID: string }).activationCodeRequestID;
    const key = `${caller.id}:${acRequestId}`;
    // the request id and the activation request are claimed in one round trip; a claim taken for
    // a request refused for its reused id is given back
    const [before, claim] = await Promise.all([remembered, claimReplay(deps, key, fingerprint, ctx).catch((err: unknown) => err as Error)]);
    if (reused(before)) {
      if (!(claim instanceof Error) && claim.state === 'claimed') await bestEffort(ctx, deps, 'release activation request', deps.store.releaseReplay(key));
      throw refuseReuse();
    }
    if (claim instanceof Error) throw claim;
    await replayOrRun(ctx, deps, key, fingerprint, claim, next);
  };
}

function claimReplay(deps: PipelineDeps, key: string, fingerprint: string, ctx: HubContext): Promise<ReplayClaim> {
  const route = need(ctx.state.route, 'route');
  const claimTtl = Math.ceil(route.timeoutMs / 1000) + 5;
  return required(deps, 'claim activation request', deps.store.claimReplay(key, fingerprint, claimTtl));
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
    await bestEffort(ctx, deps, 'release activation request', deps.store.releaseReplay(key));
    throw err;
  }
  const answer = ctx.state.answer;
  const body = answer && succeeded(ctx) ? deps.apis.replayBody(need(ctx.state.operation, 'operation'), answer.status, ctx.state.answerJson) : undefined;
  if (answer && body !== undefined) {
    const stored: StoredAnswer = { status: answer.status, contentType: body === '' ? undefined : 'application/json', body };
    await bestEffort(ctx, deps, 'store activation answer', deps.store.completeReplay(key, fingerprint, stored, replayTtlSeconds));
  } else {
    if (answer && succeeded(ctx)) ctx.state.log.warn({ status: answer.status }, 'the answer is too large to keep for a replay; a retry will reach the MSP again');
    // a refusal or failure is not replayed: the CMP may retry and the MSP decide again
    await bestEffort(ctx, deps, 'release activation request', deps.store.releaseReplay(key));
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
