/**
 * The innermost stage: hands the operation to the target partner's dialect and turns the answer
 * into the response, unchanged. An upstream that cannot be reached or does not answer in time is
 * the hub's own error (502/504, code 90).
 */
import { HubError } from '../errors';
import { statusClass } from '../metrics/metrics';
import { UpstreamError } from '../upstream/upstream';
import { need, setBody, type HubContext, type PipelineDeps, type Stage } from './types';

/** the AID.02 headers (section 5.1) and trace context a partner receives; credentials never pass */
const FORWARDED_HEADERS = ['cmp-request-id', 'correlation-id', 'client-id', 'target-id', 'content-type', 'traceparent', 'tracestate'];

export function dispatch(deps: PipelineDeps): Stage {
  return async (ctx) => {
    const op = need(ctx.state.operation, 'operation');
    const target = need(ctx.state.target, 'target');
    const route = need(ctx.state.route, 'route');
    const labels = { target: target.id, operation: op.id };
    let answer;
    try {
      answer = await ctx.state.runtime.dialectFor(target).call({
        operation: op.id,
        method: ctx.method,
        path: ctx.querystring ? `${ctx.path}?${ctx.querystring}` : ctx.path,
        headers: forwardedHeaders(ctx),
        body: ctx.state.rawBody,
        timeoutMs: route.timeoutMs,
      });
    } catch (err) {
      if (!(err instanceof UpstreamError)) throw err;
      deps.metrics.upstreamRequests.inc({ ...labels, outcome: err.failure });
      ctx.state.log.warn({ failure: err.failure, reason: err.message }, 'upstream call failed');
      throw new HubError(err.failure === 'timeout' ? 'upstreamTimeout' : 'upstreamUnreachable', { detail: `${target.id}: ${err.message}`, cause: err });
    }
    deps.metrics.upstreamRequests.inc({ ...labels, outcome: statusClass(answer.status) });
    deps.metrics.upstreamDuration.observe(labels, answer.durationMs / 1000);
    ctx.state.answer = answer;
    ctx.status = answer.status;
    if (answer.retryAfter !== undefined) ctx.set('retry-after', answer.retryAfter);
    setBody(ctx, answer.body, answer.contentType);
  };
}

function forwardedHeaders(ctx: HubContext): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const name of FORWARDED_HEADERS) {
    const value = ctx.req.headers[name];
    if (typeof value === 'string') headers[name] = value;
  }
  headers.traceparent = need(ctx.state.ids.traceparent, 'traceparent');
  return headers;
}
