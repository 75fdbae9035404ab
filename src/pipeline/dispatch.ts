/**
 * The innermost steps: the target's dialect does the work and its answer becomes the response,
 * unchanged. Which of them an operation's chain ends in is chosen when the chains are built
 * (chains.ts): one call; retries with backoff after a failure or a 5xx (operations whose
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
import { need, setBody, type HubContext, type PipelineDeps, type Stage } from './types';

/** the headers a partner receives besides the AID.02 ids (section 5.1) and trace context;
 * credentials never pass */
const FORWARDED_HEADERS = ['content-type', 'tracestate'];

export function callOnce(deps: PipelineDeps): Stage {
  return async (ctx) => {
    respondWith(ctx, await call(ctx, deps, dialectCall(ctx)));
  };
}

export function callWithRetries(deps: PipelineDeps): Stage {
  return async (ctx) => {
    const { retries } = need(ctx.state.route, 'route');
    const request = dialectCall(ctx);
    for (let attempt = 1; ; attempt++) {
      const last = attempt > retries.attempts;
      try {
        const answer = await call(ctx, deps, request);
        if (answer.status < 500 || last) {
          respondWith(ctx, answer);
          return;
        }
      } catch (err) {
        // only a partner that failed to answer is asked again, never a refusal
        const failure = err instanceof HubError && err.cause instanceof UpstreamError ? err.cause.failure : undefined;
        if (!failure || last || failure === 'breakerOpen' || failure === 'busy') throw err;
      }
      deps.metrics.retries.inc({ target: request.target, operation: request.operation });
      await sleep(backoffMs(retries.baseDelayMs, retries.maxDelayMs, attempt - 1));
    }
  };
}

export function callBridged(deps: PipelineDeps): Stage {
  return async (ctx) => {
    const route = need(ctx.state.route, 'route');
    const request = dialectCall(ctx);
    const answer = await withinBudget(deps, (timeoutMs) => call(ctx, deps, { ...request, timeoutMs }), route, need(ctx.state.pending, 'pending'), ctx.state);
    if (answer) {
      respondWith(ctx, answer);
      return;
    }
    ctx.state.bridged = true;
    respondWith(ctx, { status: 201, body: Buffer.alloc(0), durationMs: route.timeoutMs });
  };
}

/** Send CSIM Status "201 stored and will be processed" (AID.02 7.8): stored durably, then answered */
export function storeAndForward(deps: PipelineDeps): Stage {
  return async (ctx) => {
    const request = dialectCall(ctx);
    const { target, operation, method, path, params, headers } = request;
    const delivery = forwardDelivery({ target, operation, method, path, params, headers, body: (request.body ?? Buffer.alloc(0)).toString('utf8') });
    await required('store delivery', deps.store.outbox.enqueue(delivery));
    deps.metrics.outbox.inc({ target: request.target, event: 'enqueued' });
    ctx.state.stored = true;
    respondWith(ctx, { status: 201, body: Buffer.alloc(0), durationMs: 0 });
  };
}

/** the dialect's answer, or the hub's error when the partner could not be called */
async function call(ctx: HubContext, deps: PipelineDeps, request: DialectCall): Promise<DialectAnswer> {
  const target = need(ctx.state.target, 'target');
  const dialect = ctx.state.runtime.dialectFor(target);
  try {
    return await callPartner(dialect, request, deps.metrics, ctx.state, deps.tracing, target.dialect);
  } catch (err) {
    if (err instanceof UpstreamError) throw upstreamFailure(err, target.id, dialect.policy?.unreachable);
    throw err;
  }
}

function respondWith(ctx: HubContext, answer: DialectAnswer): void {
  ctx.state.answer = answer;
  ctx.status = answer.status;
  if (answer.retryAfter !== undefined) ctx.set('retry-after', answer.retryAfter);
  setBody(ctx, answer.body, answer.contentType);
}

export function dialectCall(ctx: HubContext): DialectCall {
  const op = need(ctx.state.operation, 'operation');
  return {
    operation: op.id,
    caller: need(ctx.state.caller, 'caller').id,
    target: need(ctx.state.target, 'target').id,
    method: ctx.method,
    path: need(ctx.state.forwardPath, 'forwardPath'),
    params: ctx.state.params,
    headers: forwardedHeaders(ctx),
    body: ctx.state.rawBody,
    json: ctx.state.body,
    timeoutMs: need(ctx.state.route, 'route').timeoutMs,
  };
}

function forwardedHeaders(ctx: HubContext): Record<string, string> {
  const { requestId, correlationId, clientId, targetId } = ctx.state.ids;
  const headers: Record<string, string> = {};
  // the ids as canonicalIds spelt them
  if (requestId !== undefined) headers['cmp-request-id'] = requestId;
  if (correlationId !== undefined) headers['correlation-id'] = correlationId;
  if (clientId !== undefined) headers['client-id'] = clientId;
  if (targetId !== undefined) headers['target-id'] = targetId;
  for (const name of FORWARDED_HEADERS) {
    const value = ctx.req.headers[name];
    if (typeof value === 'string') headers[name] = value;
  }
  // the call to the partner is a span of its own within the caller's trace; with tracing, the
  // partner call's span takes its place, and a stored delivery keeps the request's
  const { traceId, flags, spanId } = ctx.state.ids.trace;
  headers.traceparent = `00-${traceId}-${spanId ?? randomHex(16)}-${flags}`;
  return headers;
}
