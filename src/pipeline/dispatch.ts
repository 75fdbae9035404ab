/**
 * The partner's call: the target's dialect does the work and its answer, checked, becomes the
 * response, unchanged. Which of them an operation makes is chosen when its handler is built
 * (operations.ts): one call; retries with backoff after a failure or a 5xx (operations whose
 * repetition cannot duplicate an effect); the bridge (Request Activation Code where the route
 * bridges); store and forward (Send CSIM Status where the route says so). A partner that could not
 * be called or did not answer becomes the hub's own error (failures.ts).
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { withinBudget } from '../activation/bridge';
import { backoffMs } from '../backoff';
import type { DialectAnswer, DialectCall } from '../dialects/dialect';
import { HubError } from '../errors/catalogue';
import { upstreamFailure } from '../errors/failureMapping';
import { forwardDelivery } from '../state/deliveries';
import { randomHex } from '../randomHex';
import { required } from '../errors/storeCalls';
import { callPartner } from '../dialects/partnerCall';
import { UpstreamError } from '../errors/upstreamError';
import type { PendingActivation } from '../state/ledger';
import type { Answered, Request } from './request';
import { setBody, type HubContext, type PipelineDeps } from './types';
import { checkAnswer } from './validateResponse';

/** the headers a partner receives besides the AID.02 ids (section 5.1) and trace context;
 * credentials never pass */
const FORWARDED_HEADERS = ['content-type', 'tracestate'];

/** one call, its answer checked */
export async function callOnce(ctx: HubContext, deps: PipelineDeps, request: Request, call: DialectCall): Promise<Answered> {
  return checkAnswer(ctx, deps, request, await callTarget(ctx, deps, request, call));
}

/** a partner that failed to answer or answered 5xx is asked again, after a backoff */
export async function callWithRetries(ctx: HubContext, deps: PipelineDeps, request: Request, call: DialectCall): Promise<Answered> {
  const { retries } = request.route;
  for (let attempt = 1; ; attempt++) {
    const last = attempt > retries.attempts;
    try {
      const answer = await callTarget(ctx, deps, request, call);
      if (answer.status < 500 || last) return checkAnswer(ctx, deps, request, answer);
    } catch (err) {
      // only a partner that failed to answer is asked again, never a refusal
      const failure = err instanceof HubError && err.cause instanceof UpstreamError ? err.cause.failure : undefined;
      if (!failure || last || failure === 'breakerOpen' || failure === 'busy') throw err;
    }
    deps.metrics.retries.inc({ target: call.target, operation: call.operation });
    await sleep(backoffMs(retries.baseDelayMs, retries.maxDelayMs, attempt - 1));
  }
}

/** Request Activation Code where the route bridges: the MSP's answer within the budget, else 201 */
export async function callBridged(ctx: HubContext, deps: PipelineDeps, request: Request, call: DialectCall, pending: PendingActivation): Promise<Answered> {
  const { route } = request;
  const answer = await withinBudget(deps, (timeoutMs) => callTarget(ctx, deps, request, { ...call, timeoutMs }), route, pending, ctx.state);
  if (answer) return checkAnswer(ctx, deps, request, answer);
  const own: DialectAnswer = { status: 201, body: Buffer.alloc(0), durationMs: route.timeoutMs };
  ctx.state.answer = own;
  const { json, content } = checkAnswer(ctx, deps, request, own);
  return { answer: own, json, content, by: 'bridged' };
}

/** Send CSIM Status "201 stored and will be processed" (AID.02 7.8): stored durably, then answered */
export async function storeAndForward(ctx: HubContext, deps: PipelineDeps, call: DialectCall): Promise<Answered> {
  const { target, operation, method, path, params, headers } = call;
  const delivery = forwardDelivery({ target, operation, method, path, params, headers, body: (call.body ?? Buffer.alloc(0)).toString('utf8') });
  await required('store delivery', deps.store.outbox.enqueue(delivery));
  deps.metrics.outbox.inc({ target, event: 'enqueued' });
  const answer: DialectAnswer = { status: 201, body: Buffer.alloc(0), durationMs: 0 };
  ctx.state.answer = answer;
  return { answer, json: undefined, content: false, by: 'stored' };
}

/** the target dialect's answer, or the hub's error when the partner could not be called */
async function callTarget(ctx: HubContext, deps: PipelineDeps, { target }: Request, call: DialectCall): Promise<DialectAnswer> {
  const dialect = ctx.state.runtime.dialectFor(target);
  try {
    const answer = await callPartner(dialect, call, deps.metrics, ctx.state, deps.tracing, target.dialect);
    ctx.state.answer = answer;
    return answer;
  } catch (err) {
    if (err instanceof UpstreamError) throw upstreamFailure(err, target.id, dialect.policy?.unreachable);
    throw err;
  }
}

/** the answer sent to the caller: the partner's, unchanged, or the hub's own 201 */
export function answerWith(ctx: HubContext, { answer, content, by }: Answered): void {
  if (by !== undefined) ctx.state.answeredBy = by;
  ctx.status = answer.status;
  if (answer.retryAfter !== undefined) ctx.set('retry-after', answer.retryAfter);
  setBody(ctx, content || answer.body.length === 0 ? answer.body : Buffer.alloc(0), answer.contentType);
}

/** what the target's dialect is asked */
export function dialectCall(ctx: HubContext, request: Request): DialectCall {
  return {
    operation: request.operation.id,
    caller: request.caller.id,
    target: request.target.id,
    method: ctx.method,
    path: request.forwardPath,
    params: request.params,
    headers: forwardedHeaders(ctx, request),
    body: request.rawBody,
    json: request.body,
    timeoutMs: request.route.timeoutMs,
  };
}

function forwardedHeaders(ctx: HubContext, request: Request): Record<string, string> {
  const { requestId, correlationId, clientId, targetId } = request.ids;
  const headers: Record<string, string> = {};
  // the ids as canonicalIds spelt them
  headers['cmp-request-id'] = requestId;
  headers['correlation-id'] = correlationId;
  if (clientId !== undefined) headers['client-id'] = clientId;
  if (targetId !== undefined) headers['target-id'] = targetId;
  for (const name of FORWARDED_HEADERS) {
    const value = ctx.req.headers[name];
    if (typeof value === 'string') headers[name] = value;
  }
  // the call to the partner is a span of its own within the caller's trace; with tracing, the
  // partner call's span takes its place, and a stored delivery keeps the request's
  const { traceId, flags, spanId } = request.ids.trace;
  headers.traceparent = `00-${traceId}-${spanId ?? randomHex(16)}-${flags}`;
  return headers;
}
