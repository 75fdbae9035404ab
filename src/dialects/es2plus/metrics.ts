/**
 * The ES2+ dialect's own metrics, on the hub's registry: made once per registry (a config reload
 * builds the dialect again, and a registry refuses a second metric of the same name).
 */
import { Counter, Histogram, type Registry } from 'prom-client';
import { LATENCY_BUCKETS } from '../../metrics/metrics';

export type Es2plusMetrics = ReturnType<typeof create>;

const made = new WeakMap<Registry, Es2plusMetrics>();

export function es2plusMetrics(registry: Registry): Es2plusMetrics {
  let metrics = made.get(registry);
  if (!metrics) {
    metrics = create(registry);
    made.set(registry, metrics);
  }
  return metrics;
}

function create(registry: Registry) {
  const registers = [registry];
  return {
    calls: new Counter({
      name: 'aid_gateway_es2plus_calls_total',
      help: 'ES2+ functions called on an operator\'s SM-DP+, by outcome: the functionExecutionStatus, or why there was none',
      labelNames: ['msp', 'function', 'outcome'] as const,
      registers,
    }),
    duration: new Histogram({
      name: 'aid_gateway_es2plus_call_duration_seconds',
      help: 'Time an operator\'s SM-DP+ took to answer an ES2+ function',
      labelNames: ['msp', 'function'] as const,
      buckets: LATENCY_BUCKETS,
      registers,
    }),
    profiles: new Counter({
      name: 'aid_gateway_es2plus_profile_events_total',
      help: 'Operational Profiles of ES2+ operators by event: ordered, swapped, cancelled, downloaded, installed, installation_failed, enabled, disabled, deleted',
      labelNames: ['msp', 'event'] as const,
      registers,
    }),
  };
}
