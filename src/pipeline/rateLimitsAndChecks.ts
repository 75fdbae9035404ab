/**
 * What the request asks of the state before its partner is called, in one step: the caller's and
 * the route's rate limits (GCRA), the token's binding, the request id, for Request Activation Code
 * the activation request's claim, for Send Activation Code the request it answers
 * (state/requestChecks.ts: on Redis one script, one round trip). The steps after it decide on what it read. Over a limit: 429 with Retry-After, and nothing
 * else was read or written. While the store is unreachable, the limits are counted by this instance
 * alone and the request id is not checked; a request that needs its token's binding, a claim or
 * its activation request gets 503.
 */
import { hash, randomUUID } from 'node:crypto';
import type { RouteSettings } from '../config/types';
import { HubError } from '../errors/catalogue';
import { storeFailure } from '../errors/failureMapping';
import type { LimitCheck } from '../state/gcra';
import type { PendingActivation } from '../state/ledger';
import type { Checked, Checks } from '../state/requestChecks';
import { bestEffort } from '../errors/storeCalls';
import { tokenPolicyOf, pairOf } from './tokenBinding';
import { need, type HubContext, type PipelineDeps, type Stage } from './types';

export interface ChecksOf {
  /** the token is the body's `msp_token` (Send MSP Token), not the path's */
  readonly tokenInBody: boolean;
  /** Request Activation Code: the activation request is claimed */
  readonly activation: boolean;
  /** Send Activation Code: the request it answers is read */
  readonly delivery: boolean;
}

export function stateChecks(deps: PipelineDeps, of: ChecksOf): Stage {
  return async (ctx, next) => {
    const caller = need(ctx.state.caller, 'caller');
    const target = need(ctx.state.target, 'target');
    const route = need(ctx.state.route, 'route');
    const { settings } = ctx.state.runtime.config;
    const limits: { name: 'partner' | 'route'; check: LimitCheck }[] = [];
    if (caller.rateLimit) limits.push({ name: 'partner', check: { key: `in:${caller.id}`, limit: caller.rateLimit } });
    if (route.rateLimit) limits.push({ name: 'route', check: { key: `route:${caller.id}>${target.id}`, limit: route.rateLimit } });
    const fingerprint = fingerprintOf(ctx);
    const token =
      tokenPolicyOf(ctx, pairOf(ctx).msp) === 'off'
        ? null
        : of.tokenInBody
          ? (ctx.state.body as { msp_token: string | null }).msp_token
          : need(ctx.state.params.msp_token, 'msp_token');
    const pending = of.activation ? activationOf(ctx) : undefined;
    const answered = of.delivery ? (ctx.state.body as { activationCodeRequestID: string | null }).activationCodeRequestID : null;
    const checks: Checks = {
      limits: limits.map((l) => l.check),
      token: token === null ? undefined : { token, renewTtlSeconds: of.tokenInBody ? undefined : settings.tokenBindingTtlSeconds },
      requestId: { key: `${caller.id}:${need(ctx.state.ids.requestId, 'CMP-request-id')}`, fingerprint, ttlSeconds: settings.requestIdTtlSeconds },
      activation: pending && { pending, fingerprint, claimMs: claimMsOf(route), ttlSeconds: settings.pendingActivationTtlSeconds },
      // a delivery carries the CMP as its target; an ID of null is matched later, by the token
      delivery: answered === null ? undefined : { cmp: target.id, requestId: answered },
    };
    let checked: Checked;
    try {
      checked = await deps.store.checks.check(checks);
    } catch (err) {
      if (checks.token || checks.activation || checks.delivery) throw storeFailure(err, 'request checks');
      ctx.state.log.warn({ err: (err as Error).message }, 'request id not checked: state store unavailable');
      checked = { limits: await deps.limits.admit(checks.limits) };
    }
    if (!checked.limits.allowed) {
      const { name, check } = limits[checked.limits.refusedBy];
      deps.metrics.rateLimited.inc({ client: caller.id, limit: name });
      const seconds = Math.max(1, Math.ceil(checked.limits.waitMs / 1000));
      throw new HubError('rateLimited', {
        detail: `the ${name} limit allows ${check.limit.requests} per ${check.limit.perSeconds} s`,
        headers: { 'retry-after': String(seconds) },
      });
    }
    ctx.state.checked = {
      limits: checked.limits,
      binding: checked.binding,
      previousFingerprint: checked.previousFingerprint,
      claim: checked.claim,
      delivery: checked.delivery,
      fingerprint,
      activation: pending,
    };
    try {
      await next();
    } catch (err) {
      // refused before the claim was taken up (a token refused, say): nothing of it may stay
      if (pending && checked.claim?.state === 'claimed' && ctx.state.pending === undefined) {
        await bestEffort(ctx.state, 'release activation request', deps.activations.finish(pending, 'release'));
      }
      throw err;
    }
  };
}

/** a claim outlives its call's budget by this much before another call may take it over */
const CLAIM_GRACE_MS = 5000;

export function claimMsOf(route: RouteSettings): number {
  return route.timeoutMs + CLAIM_GRACE_MS;
}

function activationOf(ctx: HubContext): PendingActivation {
  return {
    requestId: (ctx.state.body as { activationCodeRequestID: string }).activationCodeRequestID,
    msp: need(ctx.state.target, 'target').id,
    cmp: need(ctx.state.caller, 'caller').id,
    mspToken: need(ctx.state.params.msp_token, 'msp_token'),
    correlationId: need(ctx.state.ids.correlationId, 'correlation-id'),
    createdAt: Date.now(),
    claimId: randomUUID(),
  };
}

/** what makes two requests the same request: target, method, path and body */
function fingerprintOf(ctx: HubContext): string {
  const head = `${ctx.state.target?.id} ${ctx.method} ${ctx.state.forwardPath}\n`;
  const body = ctx.state.rawBody;
  return hash('sha256', body === undefined ? head : Buffer.concat([Buffer.from(head, 'utf8'), body]), 'base64url');
}
