/**
 * Every call the hub makes to a partner's dialect goes through here, whoever makes it (a request,
 * the bridge, the outbox worker): counted by outcome (status class or failure kind), timed, and a
 * failure logged, once.
 */
import type { DialectAnswer, DialectCall, DialectInstance } from '../dialects/dialect';
import type { Logger } from '../log';
import { statusClass, type Metrics } from '../metrics/metrics';
import { UpstreamError } from './upstream';

export async function callPartner(instance: DialectInstance, call: DialectCall, metrics: Metrics, log: Logger): Promise<DialectAnswer> {
  const labels = { target: call.target, operation: call.operation };
  try {
    const answer = await instance.call(call);
    metrics.upstreamRequests.inc({ ...labels, outcome: statusClass(answer.status) });
    metrics.upstreamDuration.observe(labels, answer.durationMs / 1000);
    return answer;
  } catch (err) {
    if (err instanceof UpstreamError) {
      metrics.upstreamRequests.inc({ ...labels, outcome: err.failure });
      log.warn({ target: call.target, operation: call.operation, failure: err.failure, reason: err.message }, 'upstream call failed');
    }
    throw err;
  }
}
