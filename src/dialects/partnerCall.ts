/**
 * Every call the hub makes to a partner's dialect goes through here, whoever makes it (a request,
 * the bridge, the outbox worker): counted by outcome (status class or failure kind), timed, and a
 * failure logged, once; and traced, where tracing is on.
 */
import type { DialectAnswer, DialectCall, DialectInstance } from './dialect';
import type { Logger } from '../log';
import { statusClass, type Metrics } from '../metrics/metrics';
import type { Tracing } from '../tracing/tracing';
import { UpstreamError } from '../errors/upstreamError';

/** `logs.log` is read only when a call fails: a request's logger is made on first use; with
 * `tracing`, the call is a span (`dialect`: the target's, for it) */
export function callPartner(
  instance: DialectInstance,
  call: DialectCall,
  metrics: Metrics,
  logs: { readonly log: Logger },
  tracing?: Tracing,
  dialect = '',
): Promise<DialectAnswer> {
  if (tracing === undefined) return counted(instance, call, metrics, logs);
  return tracing.partnerCall(call, dialect, (traced) => counted(instance, traced, metrics, logs));
}

async function counted(instance: DialectInstance, call: DialectCall, metrics: Metrics, logs: { readonly log: Logger }): Promise<DialectAnswer> {
  try {
    const answer = await instance.call(call);
    metrics.upstreamRequests.labels(call.target, call.operation, statusClass(answer.status)).inc();
    metrics.upstreamDuration.labels(call.target, call.operation).observe(answer.durationMs / 1000);
    return answer;
  } catch (err) {
    if (err instanceof UpstreamError) {
      metrics.upstreamRequests.labels(call.target, call.operation, err.failure).inc();
      const code = (err.cause as { code?: unknown } | undefined)?.code;
      logs.log.warn({ target: call.target, operation: call.operation, failure: err.failure, reason: err.message, code }, 'upstream call failed');
    }
    throw err;
  }
}
