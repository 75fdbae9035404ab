/**
 * Asynchronous activation codes (AID.02 7.7.2). The hub records each Request Activation Code as
 * pending (CMP, MSP, msp_token, correlation-id) and keeps the record when the MSP answers 201.
 * When the MSP later calls Send Activation Code, its activationCodeRequestID must match a pending
 * request of the same token and pair, else 422 code 30; the match is consumed once, when the CMP
 * has accepted it, so a delivery the CMP could not take can be sent again. AID.02 7.7.2 Note: the
 * CMP has the 201 before it gets Send Activation Code, so a delivery that arrives while the 201 is
 * still on its way to the CMP is held until that answer has been sent (at most HOLD_MS).
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { HubError, type ErrorKind } from '../errors';
import type { PendingActivation } from '../state/store';
import { bestEffort, required } from './stateCall';
import { need, succeeded, type HubContext, type PipelineDeps, type Stage } from './types';

export function pendingActivation(deps: PipelineDeps): Stage {
  return async (ctx, next) => {
    const op = need(ctx.state.operation, 'operation');
    if (op.id === 'submitActivationCode') {
      const pending = await findMatch(ctx, deps);
      await holdUntilAnswered(ctx, deps, pending);
      if (need(ctx.state.route, 'route').correlation === 'strict' && pending.correlationId !== ctx.state.ids.correlationId) {
        throw new HubError('correlationMismatch', { detail: 'Send Activation Code must carry the correlation-id of its Request Activation Code (AID.02 5.1)' });
      }
      await next();
      if (succeeded(ctx)) {
        await bestEffort(ctx, deps, 'consume pending activation', deps.store.consumePendingActivation(pending));
        deps.metrics.activationTurnaround.observe({ msp: pending.msp, mode: pending.bridged ? 'bridged' : 'async' }, (Date.now() - pending.createdAt) / 1000);
      }
      return;
    }
    if (op.id !== 'requestActivationCode') {
      await next();
      return;
    }
    // recorded before the MSP is asked: its Send Activation Code may arrive as soon as it has
    // answered 201, before this request has finished
    const pending = await recordPending(ctx, deps);
    ctx.state.pending = pending;
    try {
      await next();
    } catch (err) {
      // a partner that did not answer may have taken the request all the same: its delivery must
      // find the record; any other refusal means no code will come
      if (!(err instanceof HubError && MAY_HAVE_TAKEN.has(err.kind))) {
        await bestEffort(ctx, deps, 'drop pending activation', deps.store.consumePendingActivation(pending));
      }
      throw err;
    }
    if (ctx.state.answer?.status !== 201) {
      await bestEffort(ctx, deps, 'drop pending activation', deps.store.consumePendingActivation(pending));
      return;
    }
    // once the 201 has left (or the CMP has gone), a held delivery may follow it
    const ttl = ctx.state.runtime.config.settings.pendingActivationTtlSeconds;
    ctx.res.once('close', () => deps.track(bestEffort(ctx, deps, 'mark 201 sent', deps.store.markPendingAnswered(pending, ttl))));
  };
}

/** failures after which the MSP may still deliver a code for the request */
const MAY_HAVE_TAKEN: ReadonlySet<ErrorKind> = new Set(['upstreamTimeout', 'upstreamUnreachable', 'upstreamInvalidResponse', 'stateUnavailable']);

/** how long a delivery waits for its request's 201 to reach the CMP before it goes all the same */
const HOLD_MS = 5000;
const HOLD_POLL_MS = 20;

async function holdUntilAnswered(ctx: HubContext, deps: PipelineDeps, pending: PendingActivation): Promise<void> {
  if (pending.answered) return;
  const until = Date.now() + HOLD_MS;
  while (Date.now() < until) {
    const now = await required(deps, 'read pending activation', deps.store.getPendingActivation(pending.cmp, pending.requestId));
    if (!now || now.answered) return;
    await sleep(HOLD_POLL_MS);
  }
  ctx.state.log.warn({ holdMs: HOLD_MS }, 'the 201 of this request was not seen sent; Send Activation Code delivered all the same');
}

async function findMatch(ctx: HubContext, deps: PipelineDeps): Promise<PendingActivation> {
  const msp = need(ctx.state.caller, 'caller').id;
  const cmp = need(ctx.state.target, 'target').id;
  const token = need(ctx.state.params.msp_token, 'msp_token');
  const requestId = (ctx.state.body as { activationCodeRequestID: string | null }).activationCodeRequestID;
  if (requestId === null) {
    // the spec lets an error delivery carry a null ID; it is matched when it can only mean one request
    const candidates = await required(deps, 'list pending activations', deps.store.listPendingActivations(msp, cmp, token));
    if (candidates.length === 1) return candidates[0];
    throw new HubError('requestNotMatched', { detail: `the ID is null and ${candidates.length} requests of this msp_token are pending` });
  }
  const pending = await required(deps, 'read pending activation', deps.store.getPendingActivation(cmp, requestId));
  if (!pending || pending.msp !== msp || pending.cmp !== cmp || pending.mspToken !== token) {
    throw new HubError('requestNotMatched');
  }
  return pending;
}

/** when the MSP cannot be reached or times out, the record stays (until its TTL): the MSP may have
 * accepted the request all the same, and its delivery must then find it */
async function recordPending(ctx: HubContext, deps: PipelineDeps): Promise<PendingActivation> {
  const body = ctx.state.body as { activationCodeRequestID: string };
  const pending: PendingActivation = {
    requestId: body.activationCodeRequestID,
    msp: need(ctx.state.target, 'target').id,
    cmp: need(ctx.state.caller, 'caller').id,
    mspToken: need(ctx.state.params.msp_token, 'msp_token'),
    correlationId: need(ctx.state.ids.correlationId, 'correlation-id'),
    createdAt: Date.now(),
  };
  await required(deps, 'record pending activation', deps.store.addPendingActivation(pending, ctx.state.runtime.config.settings.pendingActivationTtlSeconds));
  return pending;
}
