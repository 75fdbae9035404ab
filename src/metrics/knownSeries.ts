/**
 * The series whose labels the hub knows once a configuration is loaded, created at 0: a counter
 * that first appears with the event it counts shows that event as no increase (Prometheus's
 * `increase`/`rate` need a sample before it), so a dashboard would read 0 for the first reload,
 * refusal or dead letter. Per partner (and per partner and operation) always; per routed pair of
 * partners only up to PAIR_SERIES_BOUND series, beyond which a pair's series appear with their
 * first request (Prometheus's cost grows with the square of the partners there).
 */
import type { Config, Partner } from '../config/types';
import { callerRoleOf, OPERATION_IDS, type OperationId } from '../openapi/operations';
import type { UpstreamFailure } from '../errors/upstreamError';
import { AUTH_FAILURE_REASONS, type Metrics } from './metrics';

const PAIR_SERIES_BOUND = 5000;

const STATUS_CLASSES = ['2xx', '4xx', '5xx'];
const UPSTREAM_FAILURES = ['timeout', 'refused', 'tls', 'network', 'tooLarge', 'breakerOpen', 'busy'] as const satisfies readonly UpstreamFailure[];
const OUTBOX_EVENTS = ['enqueued', 'delivered', 'retried', 'dead_lettered', 'replayed', 'dropped'];
const BRIDGE_OUTCOMES = ['msp_async', 'code', 'error', 'expired'];
const BREAKER_STATES = ['closed', 'halfOpen', 'open'];
const VALIDATION_REASONS = { request: ['null', 'syntax'], response: ['unusable', 'nonconforming'] };

export function createKnownSeries(metrics: Metrics, config: Config): void {
  for (const result of ['success', 'failure']) metrics.configReloads.inc({ result }, 0);
  for (const reason of AUTH_FAILURE_REASONS) metrics.authFailures.inc({ reason }, 0);
  for (const operation of OPERATION_IDS) {
    for (const [direction, reasons] of Object.entries(VALIDATION_REASONS))
      for (const reason of reasons) metrics.validationFailures.inc({ operation, direction, reason }, 0);
  }
  const partners = [...config.partners.values()];
  const pairs = routedPairs(config, partners);
  for (const partner of partners) {
    for (const event of OUTBOX_EVENTS) metrics.outbox.inc({ target: partner.id, event }, 0);
    for (const limit of ['partner', 'route']) metrics.rateLimited.inc({ client: partner.id, limit }, 0);
    const operations = [...new Set(pairs.filter((p) => p.target === partner.id).map((p) => p.operation))];
    const scopes = partner.upstream.breaker.scope === 'operation' ? operations : ['*'];
    for (const operation of scopes) for (const to of BREAKER_STATES) metrics.breakerTransitions.inc({ target: partner.id, operation, to }, 0);
    for (const operation of operations) {
      for (const outcome of [...STATUS_CLASSES, ...UPSTREAM_FAILURES]) metrics.upstreamRequests.labels(partner.id, operation, outcome);
      metrics.upstreamDuration.labels(partner.id, operation);
      metrics.requestDuration.labels(operation, partner.id);
      metrics.retries.inc({ target: partner.id, operation }, 0);
    }
    if (partner.role === 'msp') {
      for (const outcome of BRIDGE_OUTCOMES) metrics.bridges.inc({ msp: partner.id, outcome }, 0);
      for (const mode of ['async', 'bridged']) metrics.activationTurnaround.zero({ msp: partner.id, mode });
    }
  }
  // the broker's redirects between partners that both have a touchpoint
  for (const from of partners.filter((p) => p.touchpoint)) {
    for (const to of partners.filter((p) => p.touchpoint && p.role !== from.role)) {
      for (const flow of ['login', 'return']) metrics.touchpointRedirects.inc({ from: from.id, to: to.id, flow, outcome: 'redirected' }, 0);
    }
  }
  if (pairs.length * STATUS_CLASSES.length > PAIR_SERIES_BOUND) return;
  for (const { operation, client, target } of pairs) for (const statusClass of STATUS_CLASSES) metrics.requests.labels(operation, client, target, statusClass);
}

/** every (caller, target, operation) a route of the configuration lets through */
function routedPairs(config: Config, partners: readonly Partner[]): { operation: OperationId; client: string; target: string }[] {
  const pairs: { operation: OperationId; client: string; target: string }[] = [];
  for (const client of partners) {
    for (const target of partners) {
      if (target.role === client.role) continue;
      for (const operation of OPERATION_IDS) {
        if (callerRoleOf(operation) === client.role && config.routes.find(client.id, target.id, operation))
          pairs.push({ operation, client: client.id, target: target.id });
      }
    }
  }
  return pairs;
}
