/**
 * The TelcoAPI dialect's own metrics, on the hub's registry, made once per registry.
 */
import { Counter, Histogram, type Registry } from 'prom-client';
import { LATENCY_BUCKETS, perRegistry } from '../../metrics/metrics';
import { PLATFORM_FUNCTIONS } from './platformClient';

export type TelcoapiMetrics = ReturnType<typeof create>;

export const telcoapiMetrics: (registry: Registry) => TelcoapiMetrics = perRegistry(create);

function create(registers: Registry[]) {
  return {
    calls: new Counter({
      name: 'aid_gateway_telcoapi_calls_total',
      help: "Calls to an operator's eSIM platform by function and outcome: ok, the platform's error code, or why there was no answer",
      labelNames: ['msp', 'function', 'outcome'] as const,
      registers,
    }),
    duration: new Histogram({
      name: 'aid_gateway_telcoapi_call_duration_seconds',
      help: "Time an operator's eSIM platform took to answer",
      labelNames: ['msp', 'function'] as const,
      buckets: LATENCY_BUCKETS,
      registers,
    }),
    profiles: new Counter({
      name: 'aid_gateway_telcoapi_profile_events_total',
      help: 'Profiles of TelcoAPI operators by event: ordered, swapped, cancelled, downloaded, installed, installation_failed, enabled, disabled, deleted',
      labelNames: ['msp', 'event'] as const,
      registers,
    }),
    webhooks: new Counter({
      name: 'aid_gateway_telcoapi_webhooks_total',
      help: 'Webhook events from eSIM platforms by outcome: applied, unchanged, pending (recorded, applied once the subscription is free), unknown_profile, ignored, replayed, bad_signature, stale, invalid',
      labelNames: ['msp', 'outcome'] as const,
      registers,
    }),
  };
}

const WEBHOOK_OUTCOMES = ['applied', 'unchanged', 'pending', 'unknown_profile', 'ignored', 'replayed', 'bad_signature', 'stale', 'invalid'];
const PROFILE_EVENTS = ['ordered', 'swapped', 'cancelled', 'downloaded', 'installed', 'installation_failed', 'enabled', 'disabled', 'deleted'];

/** an operator's series at 0 from the start (its webhooks by outcome, its profiles by event, its
 * platform's calls that succeeded by function): the first of each shows as one */
export function telcoapiKnownSeries(metrics: TelcoapiMetrics, msp: string): void {
  for (const outcome of WEBHOOK_OUTCOMES) metrics.webhooks.inc({ msp, outcome }, 0);
  for (const event of PROFILE_EVENTS) metrics.profiles.inc({ msp, event }, 0);
  for (const fn of PLATFORM_FUNCTIONS) metrics.calls.inc({ msp, function: fn, outcome: 'ok' }, 0);
}
