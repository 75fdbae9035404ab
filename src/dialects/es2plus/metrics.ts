/**
 * The ES2+ dialect's own metrics, on the hub's registry, made once per registry.
 */
import { Counter, Histogram, type Registry } from 'prom-client';
import { LATENCY_BUCKETS, perRegistry } from '../../metrics/metrics';
import type { Es2Function } from './es2Messages';

export type Es2plusMetrics = ReturnType<typeof create>;

export const es2plusMetrics: (registry: Registry) => Es2plusMetrics = perRegistry(create);

function create(registers: Registry[]) {
  return {
    calls: new Counter({
      name: 'aid_gateway_es2plus_calls_total',
      help: "ES2+ functions called on an operator's SM-DP+, by outcome: the functionExecutionStatus, or why there was none",
      labelNames: ['msp', 'function', 'outcome'] as const,
      registers,
    }),
    duration: new Histogram({
      name: 'aid_gateway_es2plus_call_duration_seconds',
      help: "Time an operator's SM-DP+ took to answer an ES2+ function",
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

const FUNCTIONS = ['downloadOrder', 'confirmOrder', 'cancelOrder', 'releaseProfile'] as const satisfies readonly Es2Function[];
const PROFILE_EVENTS = ['ordered', 'swapped', 'cancelled', 'downloaded', 'installed', 'installation_failed', 'enabled', 'disabled', 'deleted'];

/** an operator's series at 0 from the start: its first call or profile event shows as one */
export function es2plusKnownSeries(metrics: Es2plusMetrics, msp: string): void {
  for (const fn of FUNCTIONS) metrics.calls.inc({ msp, function: fn, outcome: 'Executed-Success' }, 0);
  for (const event of PROFILE_EVENTS) metrics.profiles.inc({ msp, event }, 0);
}
