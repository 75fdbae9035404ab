/**
 * The innermost stage: hands the operation to the target partner's dialect and turns the answer
 * into the response, unchanged. An upstream that cannot be reached or does not answer in time is
 * the hub's own error (502/504, code 90), an open breaker or an exhausted outbound limit 503 with
 * Retry-After. Idempotent operations are retried after a failure or a 5xx, with backoff.
 */
import { backoffMs } from '../backoff';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Partner } from '../config/types';
import type { DialectAnswer, DialectCall, DialectPolicy } from '../dialects/dialect';
import { HubError } from '../errors';
import { statusClass } from '../metrics/metrics';
import type { OperationId } from '../openapi/operations';
import { forwardDelivery } from '../outbox/deliveries';
import { UpstreamError } from '../upstream/upstream';
import { callWithBridge } from './bridge';
import { randomHex } from './randomHex';
import { required } from './stateCall';
import { need, setBody, type HubContext, type PipelineDeps, type Stage } from './types';

/** the headers a partner receives besides the AID.02 ids (section 5.1) and trace context;
 * credentials never pass */
const FORWARDED_HEADERS = ['content-type', 'tracestate'];

/** operations whose repetition cannot duplicate an effect (AID.02 7.9, 7.10) */
const IDEMPOTENT: ReadonlySet<OperationId> = new Set(['requestProfileStatus', 'requestInvalidateFederatedID']);

export function dispatch(deps: PipelineDeps): Stage {
  return async (ctx) => {
    const op = need(ctx.state.operation, 'operation');
    const target = need(ctx.state.target, 'target');
    const route = need(ctx.state.route, 'route');
    const labels = { target: target.id, operation: op.id };
    const call: DialectCall = {
      operation: op.id,
      method: ctx.method,
      path: need(ctx.state.forwardPath, 'forwardPath'),
      params: ctx.state.params,
      headers: forwardedHeaders(ctx),
      body: ctx.state.rawBody,
      timeoutMs: route.timeoutMs,
    };
    const dialect = ctx.state.runtime.dialectFor(target);
    if (op.id === 'sendCsimStatus' && route.storeAndForward) {
      await storeAndForward(ctx, deps, call);
      return;
    }
    if (op.id === 'requestActivationCode' && route.bridge) {
      let bridged;
      try {
        bridged = await callWithBridge(deps, dialect, call, route, need(ctx.state.pending, 'pending'), ctx.state.log);
      } catch (err) {
        if (!(err instanceof UpstreamError)) throw err;
        deps.metrics.upstreamRequests.inc({ ...labels, outcome: err.failure });
        throw upstreamFailure(err, target, dialect.policy);
      }
      if (bridged.answer) {
        deps.metrics.upstreamRequests.inc({ ...labels, outcome: statusClass(bridged.answer.status) });
        respondWith(ctx, bridged.answer);
      } else {
        ctx.state.bridged = true;
        respondWith(ctx, { status: 201, body: Buffer.alloc(0), durationMs: route.timeoutMs });
      }
      return;
    }
    const attempts = IDEMPOTENT.has(op.id) ? 1 + route.retries.attempts : 1;
    let answer: DialectAnswer | undefined;
    for (let attempt = 1; answer === undefined; attempt++) {
      try {
        answer = await dialect.call(call);
        deps.metrics.upstreamRequests.inc({ ...labels, outcome: statusClass(answer.status) });
        deps.metrics.upstreamDuration.observe(labels, answer.durationMs / 1000);
        if (answer.status >= 500 && attempt < attempts) answer = undefined;
      } catch (err) {
        if (!(err instanceof UpstreamError)) throw err;
        deps.metrics.upstreamRequests.inc({ ...labels, outcome: err.failure });
        ctx.state.log.warn({ failure: err.failure, reason: err.message, attempt }, 'upstream call failed');
        if (attempt >= attempts || err.failure === 'breakerOpen' || err.failure === 'busy') throw upstreamFailure(err, target, dialect.policy);
      }
      if (answer === undefined) {
        deps.metrics.retries.inc(labels);
        await sleep(backoffMs(route.retries.baseDelayMs, route.retries.maxDelayMs, attempt - 1));
      }
    }
    respondWith(ctx, answer);
  };
}

function respondWith(ctx: HubContext, answer: DialectAnswer): void {
  ctx.state.answer = answer;
  ctx.status = answer.status;
  if (answer.retryAfter !== undefined) ctx.set('retry-after', answer.retryAfter);
  setBody(ctx, answer.body, answer.contentType);
}

/** Send CSIM Status "201 stored and will be processed" (AID.02 7.8): stored durably, then answered */
async function storeAndForward(ctx: HubContext, deps: PipelineDeps, call: DialectCall): Promise<void> {
  const target = need(ctx.state.target, 'target');
  const delivery = forwardDelivery({ target: target.id, operation: call.operation, method: call.method, path: call.path, params: call.params, headers: call.headers, body: (call.body ?? Buffer.alloc(0)).toString('utf8') });
  await required(deps, 'store delivery', deps.store.outbox.enqueue(delivery));
  deps.metrics.outbox.inc({ target: target.id, event: 'enqueued' });
  ctx.state.stored = true;
  respondWith(ctx, { status: 201, body: Buffer.alloc(0), durationMs: 0 });
}

/** the hub's own answer to a partner that could not be called, or did not answer */
function upstreamFailure(err: UpstreamError, target: Partner, policy: DialectPolicy | undefined): HubError {
  const detail = `${target.id}: ${err.message}`;
  const retryAfter = { 'retry-after': String(Math.max(1, Math.ceil((err.retryAfterMs ?? 0) / 1000))) };
  switch (err.failure) {
    case 'timeout':
      return new HubError('upstreamTimeout', { detail, cause: err });
    case 'breakerOpen':
      return new HubError('breakerOpen', { detail, headers: retryAfter, cause: err });
    case 'busy':
      return new HubError('upstreamBusy', { detail, headers: retryAfter, cause: err });
    default:
      // a dialect that plays the partner itself may say the partner's system being away is its
      // service being unavailable: then with Retry-After
      return policy?.unreachable
        ? new HubError(policy.unreachable, { detail, headers: retryAfter, cause: err })
        : new HubError('upstreamUnreachable', { detail, cause: err });
  }
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
  // the call to the partner is a span of its own within the caller's trace
  const { traceId, flags } = ctx.state.ids.trace;
  headers.traceparent = `00-${traceId}-${randomHex(16)}-${flags}`;
  return headers;
}
