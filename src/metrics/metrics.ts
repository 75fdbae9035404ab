/**
 * Every metric the hub exports, defined once, on a registry the caller injects (never the global
 * one). Labels are bounded: partner ids, operationId, status class, failure kinds. Never an
 * msp_token, ICCID, EID or request id.
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { VERSION } from '../version';
import { FastCounter, FastHistogram } from './series';

/** why a credential was refused: the values of aid_gateway_auth_failures_total's `reason` */
export const AUTH_FAILURE_REASONS = [
  'unknown_client',
  'missing_credential',
  'wrong_credential',
  'certificate_missing',
  'certificate_untrusted',
  'certificate_mismatch',
  'inbound_route',
  'throttled',
] as const;

export const LATENCY_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/** what some gauges read when Prometheus scrapes: the shared state, not this process's memory */
export interface ScrapeSources {
  /** pending activation code requests per MSP */
  pendingActivations(): Promise<Readonly<Record<string, number>>>;
  outboxDepth(): Promise<{ ready: number; waiting: number; dead: number; oldestReadyAgeSeconds: number }>;
}

export function createMetrics(registry: Registry = new Registry(), options: { processMetrics?: boolean } = {}) {
  if (options.processMetrics) collectDefaultMetrics({ register: registry, prefix: 'aid_gateway_' });
  const registers = [registry];
  let sources: ScrapeSources | undefined;
  new Gauge({
    name: 'aid_gateway_build_info',
    help: "The hub's version and the Node.js it runs on (value 1)",
    labelNames: ['version', 'node'] as const,
    // with --workers: every worker runs the same build
    aggregator: 'first',
    registers,
  }).set({ version: VERSION, node: process.version }, 1);
  return {
    registry,
    /** the hub plugs its state in once it has connected it */
    setScrapeSources(given: ScrapeSources): void {
      sources = given;
    },
    pendingActivations: new Gauge({
      name: 'aid_gateway_pending_activation_requests',
      help: "Activation code requests waiting for the MSP's answer or Send Activation Code, per MSP",
      labelNames: ['msp'] as const,
      // with --workers: read from the shared store: every worker reports the same figure
      aggregator: 'first',
      registers,
      async collect() {
        if (!sources) return;
        this.reset();
        for (const [msp, count] of Object.entries(await sources.pendingActivations().catch(() => ({})))) this.set({ msp }, count);
      },
    }),
    touchpointRedirects: new Counter({
      name: 'aid_gateway_touchpoint_redirects_total',
      help: "Browser redirects through the hub between partners' touchpoints (AID.02 7.1, 7.2) by flow (login, return) and outcome: redirected, or why not",
      labelNames: ['from', 'to', 'flow', 'outcome'] as const,
      registers,
    }),
    outboxDepth: new Gauge({
      name: 'aid_gateway_outbox_depth',
      help: 'Deliveries in the outbox: ready, waiting for their next attempt, dead letters',
      labelNames: ['state'] as const,
      // with --workers: read from the shared store: every worker reports the same figure
      aggregator: 'first',
      registers,
      async collect() {
        const depth = await sources?.outboxDepth().catch(() => undefined);
        if (!depth) return;
        for (const state of ['ready', 'waiting', 'dead'] as const) this.set({ state }, depth[state]);
      },
    }),
    outboxOldestAge: new Gauge({
      name: 'aid_gateway_outbox_oldest_age_seconds',
      help: 'How long the oldest ready outbox delivery has been waiting',
      // with --workers: read from the shared store: every worker reports the same figure
      aggregator: 'first',
      registers,
      async collect() {
        const depth = await sources?.outboxDepth().catch(() => undefined);
        if (depth) this.set(depth.oldestReadyAgeSeconds);
      },
    }),
    activationTurnaround: new Histogram({
      name: 'aid_gateway_activation_turnaround_seconds',
      help: 'From Request Activation Code to the code (or error) handed over for the CMP, for asynchronous and bridged requests',
      labelNames: ['msp', 'mode'] as const,
      buckets: [0.5, 1, 3, 10, 30, 60, 300, 900, 3600, 21600, 86400],
      registers,
    }),
    storeOperations: new FastHistogram({
      name: 'aid_gateway_store_operation_seconds',
      help: 'State store (Redis or memory) operations, by operation',
      labelNames: ['store', 'operation'] as const,
      buckets: [0.0002, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.5, 2],
      registers,
    }),
    storeErrors: new FastCounter({
      name: 'aid_gateway_store_errors_total',
      help: 'State store operations that failed (Redis unreachable, timed out, refused)',
      labelNames: ['store', 'operation'] as const,
      registers,
    }),
    requests: new FastCounter({
      name: 'aid_gateway_requests_total',
      help: 'Partner requests answered by the hub (status_class 2xx..5xx; aborted: the client left before its request was complete)',
      labelNames: ['operation', 'client', 'target', 'status_class'] as const,
      registers,
    }),
    requestDuration: new FastHistogram({
      name: 'aid_gateway_request_duration_seconds',
      help: 'Time from receiving a partner request to answering it',
      labelNames: ['operation', 'target'] as const,
      buckets: LATENCY_BUCKETS,
      registers,
    }),
    upstreamRequests: new FastCounter({
      name: 'aid_gateway_upstream_requests_total',
      help: 'Calls the hub made to partner upstreams, by outcome (status class or failure kind)',
      labelNames: ['target', 'operation', 'outcome'] as const,
      registers,
    }),
    upstreamDuration: new FastHistogram({
      name: 'aid_gateway_upstream_duration_seconds',
      help: 'Time a partner upstream took to answer',
      labelNames: ['target', 'operation'] as const,
      buckets: LATENCY_BUCKETS,
      registers,
    }),
    validationFailures: new Counter({
      name: 'aid_gateway_validation_failures_total',
      help: 'Messages that did not conform to the AID.02 OpenAPI documents',
      labelNames: ['operation', 'direction', 'reason'] as const,
      registers,
    }),
    authFailures: new Counter({
      name: 'aid_gateway_auth_failures_total',
      help: 'Requests refused by authentication, by reason',
      labelNames: ['reason'] as const,
      registers,
    }),
    guessedClients: new Counter({
      name: 'aid_gateway_auth_guessed_clients_total',
      help: 'Times a known client-id went past its failed logins in a window (its requests from unproven addresses slowed)',
      labelNames: ['client'] as const,
      registers,
    }),
    policyRejections: new Counter({
      name: 'aid_gateway_policy_rejections_total',
      help: 'Requests refused by the hub after authentication, by error kind',
      labelNames: ['operation', 'kind'] as const,
      registers,
    }),
    breakerState: new Gauge({
      name: 'aid_gateway_breaker_state',
      help: 'Circuit breaker state per partner (and operation where scoped): 0 closed, 1 half-open, 2 open',
      labelNames: ['target', 'operation'] as const,
      // with --workers: each worker has its breakers: the worst state shows
      aggregator: 'max',
      registers,
    }),
    breakerTransitions: new Counter({
      name: 'aid_gateway_breaker_transitions_total',
      help: 'Circuit breaker state changes',
      labelNames: ['target', 'operation', 'to'] as const,
      registers,
    }),
    rateLimited: new Counter({
      name: 'aid_gateway_rate_limited_total',
      help: 'Requests refused with 429, by calling partner and the limit that refused them',
      labelNames: ['client', 'limit'] as const,
      registers,
    }),
    rateLimitFallbacks: new Counter({
      name: 'aid_gateway_rate_limit_local_fallbacks_total',
      help: 'Rate limit decisions taken locally because the shared store was unreachable',
      registers,
    }),
    redisUnreplicatedWrites: new Counter({
      name: 'aid_gateway_redis_unreplicated_writes_total',
      help: 'Writes that fewer Redis replicas than --redis-wait-replicas confirmed within a second',
      registers,
    }),
    outboundDelay: new Histogram({
      name: 'aid_gateway_outbound_rate_limit_delay_seconds',
      help: 'How long calls waited for their turn under a partner upstream rate limit',
      labelNames: ['target'] as const,
      buckets: [0.001, 0.01, 0.1, 0.5, 1, 5, 10, 30],
      registers,
    }),
    retries: new Counter({
      name: 'aid_gateway_upstream_retries_total',
      help: 'Repeated calls of idempotent operations after a failure',
      labelNames: ['target', 'operation'] as const,
      registers,
    }),
    bridges: new Counter({
      name: 'aid_gateway_activation_bridges_total',
      help: 'Request Activation Code answered 201 by the hub because the MSP was slower than the budget, by final outcome',
      labelNames: ['msp', 'outcome'] as const,
      registers,
    }),
    outbox: new Counter({
      name: 'aid_gateway_outbox_events_total',
      help: 'Outbox deliveries by event: enqueued, delivered, retried, dead_lettered, replayed, dropped',
      labelNames: ['target', 'event'] as const,
      registers,
    }),
    configReloads: new Counter({
      name: 'aid_gateway_config_reloads_total',
      help: 'Config reloads by result',
      labelNames: ['result'] as const,
      // with --workers: a SIGHUP or a file change reloads every worker, one reload of the hub
      aggregator: 'max',
      registers,
    }),
    configGeneration: new Gauge({
      name: 'aid_gateway_config_generation',
      help: 'Generation of the config in service; counts successful loads',
      // with --workers: the oldest generation still in service on a worker
      aggregator: 'min',
      registers,
    }),
  };
}

export type Metrics = ReturnType<typeof createMetrics>;

/**
 * A dialect's own metrics, made once per registry: a config reload builds the dialect again, and a
 * registry refuses a second metric of the same name.
 */
export function perRegistry<T>(create: (registers: Registry[]) => T): (registry: Registry) => T {
  const made = new WeakMap<Registry, T>();
  return (registry) => {
    let metrics = made.get(registry);
    if (metrics === undefined) {
      metrics = create([registry]);
      made.set(registry, metrics);
    }
    return metrics;
  };
}

export function statusClass(status: number): string {
  return `${Math.floor(status / 100)}xx`;
}

/**
 * The same metrics, every update a no-op (measurement switch `metrics`): what the request path
 * pays for metrics is then visible as the difference.
 */
export function silenced(metrics: Metrics): Metrics {
  const idle = (): unknown => undefined;
  const stopTimer = () => 0;
  const noop = { inc: idle, dec: idle, set: idle, observe: idle, reset: idle, zero: idle, startTimer: () => stopTimer, labels: () => noop };
  const copy: Record<string, unknown> = { ...metrics };
  for (const [name, value] of Object.entries(metrics)) {
    if (typeof value === 'object' && value !== null && 'reset' in value && name !== 'registry') copy[name] = noop;
  }
  return copy as Metrics;
}
