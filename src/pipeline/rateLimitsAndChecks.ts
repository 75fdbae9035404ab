/**
 * What the request asks of the state before its partner is called, in one step: the caller's and
 * the route's rate limits (GCRA), the token's binding, the request id, for Request Activation Code
 * the activation request's claim, for Send Activation Code the request it answers
 * (state/requestChecks.ts: on Redis one script, one round trip). The steps after it decide on what
 * it read. Over a limit: 429 with Retry-After, and nothing else was read or written. While the
 * store is unreachable, the limits are counted by this instance alone and the request id is not
 * checked; a request that needs its token's binding, a claim or its activation request gets 503.
 */
import { hash, randomUUID } from 'node:crypto';
import type { RouteSettings } from '../config/types';
import { HubError } from '../errors/catalogue';
import { storeFailure } from '../errors/failureMapping';
import type { LimitCheck } from '../state/gcra';
import type { PendingActivation } from '../state/ledger';
import type { Checked as StateRead, Checks } from '../state/requestChecks';
import { bestEffort } from '../errors/storeCalls';
import type { Checked, Claimed, Request } from './request';
import type { HubContext, PipelineDeps } from './types';

/** what an operation asks of the state besides its limits and request id */
export interface ChecksOf {
  /** the token whose binding is read (and its lifetime renewed, `renew`); null: none (Send MSP
   * Token refusing, or the policy off) */
  readonly token: string | null;
  readonly renew: boolean;
  /** Request Activation Code: the activation request to claim */
  readonly activation?: PendingActivation;
  /** Send Activation Code: the id of the request it answers (null: matched later, by the token) */
  readonly answers?: string | null;
}

export async function checkState(ctx: HubContext, deps: PipelineDeps, request: Request, of: ChecksOf): Promise<Checked> {
  const { caller, target, route } = request;
  const { settings } = ctx.state.runtime.config;
  const limits: { name: 'partner' | 'route'; check: LimitCheck }[] = [];
  if (caller.rateLimit) limits.push({ name: 'partner', check: { key: `in:${caller.id}`, limit: caller.rateLimit } });
  if (route.rateLimit) limits.push({ name: 'route', check: { key: `route:${caller.id}>${target.id}`, limit: route.rateLimit } });
  const fingerprint = fingerprintOf(ctx, request);
  const pending = of.activation;
  const checks: Checks = {
    limits: limits.map((l) => l.check),
    token: of.token === null ? undefined : { token: of.token, renewTtlSeconds: of.renew ? settings.tokenBindingTtlSeconds : undefined },
    requestId: { key: `${caller.id}:${request.ids.requestId}`, fingerprint, ttlSeconds: settings.requestIdTtlSeconds },
    activation: pending && { pending, fingerprint, claimMs: claimMsOf(route), ttlSeconds: settings.pendingActivationTtlSeconds },
    // a delivery carries the CMP as its target; an ID of null is matched later, by the token
    delivery: of.answers === undefined || of.answers === null ? undefined : { cmp: target.id, requestId: of.answers },
  };
  let read: StateRead;
  try {
    read = await deps.store.checks.check(checks);
  } catch (err) {
    if (checks.token || checks.activation || checks.delivery) throw storeFailure(err, 'request checks');
    ctx.state.log.warn({ err: (err as Error).message }, 'request id not checked: state store unavailable');
    read = { limits: await deps.limits.admit(checks.limits) };
  }
  if (!read.limits.allowed) {
    const { name, check } = limits[read.limits.refusedBy];
    deps.metrics.rateLimited.inc({ client: caller.id, limit: name });
    const seconds = Math.max(1, Math.ceil(read.limits.waitMs / 1000));
    throw new HubError('rateLimited', {
      detail: `the ${name} limit allows ${check.limit.requests} per ${check.limit.perSeconds} s`,
      headers: { 'retry-after': String(seconds) },
    });
  }
  return { limits: read.limits, binding: read.binding, previousFingerprint: read.previousFingerprint, claim: read.claim, delivery: read.delivery, fingerprint };
}

/** Request Activation Code's checks, which claim its activation request */
export async function checkClaim(ctx: HubContext, deps: PipelineDeps, request: Request, of: ChecksOf & { activation: PendingActivation }): Promise<Claimed> {
  const checked = await checkState(ctx, deps, request, of);
  // the store answers every claim it is asked for (state/requestChecks.ts)
  if (checked.claim === undefined) throw new Error('the state checks answered no claim for an activation request');
  const { limits, binding, previousFingerprint, delivery, fingerprint } = checked;
  return { limits, binding, previousFingerprint, claim: checked.claim, delivery, fingerprint, activation: of.activation };
}

/** a request refused after its checks claimed its activation request, before its call took the
 * claim up (its token refused, say): nothing of the claim may stay */
export async function releaseUnused(ctx: HubContext, deps: PipelineDeps, claimed: Claimed): Promise<void> {
  if (claimed.claim.state === 'claimed') await bestEffort(ctx.state, 'release activation request', deps.activations.finish(claimed.activation, 'release'));
}

/** a claim outlives its call's budget by this much before another call may take it over */
const CLAIM_GRACE_MS = 5000;

export function claimMsOf(route: RouteSettings): number {
  return route.timeoutMs + CLAIM_GRACE_MS;
}

/** the activation request a Request Activation Code asks for */
export function activationOf(request: Request<'requestActivationCode'>): PendingActivation {
  return {
    requestId: request.body.activationCodeRequestID,
    msp: request.target.id,
    cmp: request.caller.id,
    mspToken: request.params.msp_token,
    correlationId: request.ids.correlationId,
    createdAt: Date.now(),
    claimId: randomUUID(),
  };
}

/** what makes two requests the same request: target, method, path and body */
function fingerprintOf(ctx: HubContext, request: Request): string {
  const head = `${request.target.id} ${ctx.method} ${request.forwardPath}\n`;
  const body = request.rawBody;
  return hash('sha256', body === undefined ? head : Buffer.concat([Buffer.from(head, 'utf8'), body]), 'base64url');
}
