/**
 * The second stage, just inside `context`: the one place that turns an error into an answer (the AID.02 body
 * `{code, error}`, status and headers from the error catalogue), then writes the access log line
 * (log.ts accessLogOf) and the request metrics.
 */
import { HubError, toHubError } from '../errors/catalogue';
import { statusClass } from '../metrics/metrics';
import type { HubContext, PipelineDeps, Stage } from './types';

export function respond(deps: PipelineDeps): Stage {
  return async (ctx, next) => {
    let failure: HubError | undefined;
    try {
      await next();
    } catch (err) {
      failure = toHubError(err);
      // nothing a partner's answer set survives into the hub's own error
      for (const name of ctx.res.getHeaderNames()) ctx.remove(name);
      ctx.status = failure.status;
      ctx.set(failure.headers);
      ctx.body = failure.toBody();
      if (failure.kind === 'internal') ctx.state.log.error({ err: failure.cause }, 'internal error');
      // what the hub itself refused of an authenticated caller: its policies, by kind
      else if (ctx.state.caller && failure.status < 500)
        deps.metrics.policyRejections.inc({ operation: ctx.state.operation?.id ?? ctx.state.inboundRoute ?? 'unknown', kind: failure.kind });
    }
    // a client must not send its next request on a connection the stopping hub is about to close
    if (deps.draining()) ctx.set('connection', 'close');
    record(ctx, deps, failure);
  };
}

function record(ctx: HubContext, deps: PipelineDeps, failure: HubError | undefined): void {
  const { state } = ctx;
  const seconds = (performance.now() - state.startedAt) / 1000;
  const operation = state.operation?.id ?? state.inboundRoute ?? 'unknown';
  const target = state.target?.id ?? 'unknown';
  // nobody receives the answer to a request its client abandoned: not counted as an answer
  const status = failure?.kind === 'clientAborted' ? 'aborted' : statusClass(ctx.status);
  deps.metrics.requests.labels(operation, state.caller?.id ?? 'unauthenticated', target, status).inc();
  deps.metrics.requestDuration.labels(operation, target).observe(seconds);
  deps.accessLog(state.logBindings, {
    operation,
    method: ctx.method,
    status: ctx.status,
    durationMs: Math.round(seconds * 100000) / 100,
    upstreamMs: state.answer ? Math.round(state.answer.durationMs * 100) / 100 : undefined,
    error: failure ? { kind: failure.kind, code: failure.code, message: failure.message } : undefined,
    replayed: state.answeredBy === 'replayed' || undefined,
    bridged: state.answeredBy === 'bridged' || undefined,
    stored: state.answeredBy === 'stored' || undefined,
  });
}
