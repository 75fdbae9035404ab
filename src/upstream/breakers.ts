/**
 * Circuit breakers (opossum), one per partner upstream, or one per partner and operation where the
 * partner's config says `scope: operation`; never one shared by unrelated partners. A breaker
 * counts timeouts, connection errors and 5xx answers; a 4xx answer is an answer, not a failure.
 * Breakers outlive config reloads as long as a partner's breaker settings do not change, so a
 * reload neither closes an open breaker nor forgets the failures that are opening one.
 *
 * opossum's rolling percentiles are off: with them, every call's latency is kept for the whole
 * window and, every tenth of it, all of them are copied into one array and sorted (at 6,000 calls
 * a second over 10 s, 60,000 numbers every second, a pause of milliseconds on the event loop). The
 * partner view's mean latency is kept by the hub instead (rollingMean.ts), over the same window.
 */
import CircuitBreaker from 'opossum';
import { UpstreamError } from '../errors/upstreamError';
import type { BreakerSettings } from '../config/types';
import type { Logger } from '../log';
import type { Metrics } from '../metrics/metrics';
import { RollingMean } from './rollingMean';

export type BreakerState = 'closed' | 'halfOpen' | 'open';

const STATE_VALUE: Record<BreakerState, number> = { closed: 0, halfOpen: 1, open: 2 };

/** the slices of a breaker's rolling window */
const BUCKETS = 10;

export interface Breaker {
  /** runs `call` unless the breaker is open; counts what `isFailure` says is a failure */
  fire<T>(call: () => Promise<T>): Promise<T>;
}

/** what the partner view shows of a breaker: its state and its rolling window */
export interface BreakerView {
  readonly scope: string;
  readonly state: BreakerState;
  readonly calls: number;
  readonly failures: number;
  readonly errorRatio: number;
  readonly latencyMeanMs: number;
}

export class Breakers {
  private readonly breakers = new Map<string, Breaker>();
  private readonly views = new Map<string, Map<string, () => BreakerView>>();
  // a partner's settings object lives as long as its config: its breakers are found through it,
  // without building the key of its settings on every call
  private readonly bySettings = new WeakMap<BreakerSettings, Map<string, Breaker>>();

  constructor(
    private readonly log: Logger,
    private readonly metrics: Metrics,
    /** which errors count as the partner failing; anything else passes through uncounted */
    private readonly isFailure: (err: unknown) => boolean,
  ) {}

  /** the breaker for a call to `partner` for `operation` under `settings` */
  for(partner: string, operation: string, settings: BreakerSettings): Breaker {
    const scope = settings.scope === 'operation' ? operation : '*';
    let found = this.bySettings.get(settings);
    if (found === undefined) this.bySettings.set(settings, (found = new Map<string, Breaker>()));
    const near = `${partner} ${scope}`;
    let breaker = found.get(near);
    if (breaker === undefined) found.set(near, (breaker = this.forSettings(near, partner, scope, settings)));
    return breaker;
  }

  /** the breaker of equal settings if one exists (a reload made new settings objects), else a new one */
  private forSettings(near: string, partner: string, scope: string, settings: BreakerSettings): Breaker {
    const key = `${near} ${JSON.stringify(settings)}`;
    let breaker = this.breakers.get(key);
    if (!breaker) {
      breaker = this.create(partner, scope, settings);
      this.breakers.set(key, breaker);
    }
    return breaker;
  }

  /** the breakers of one partner that have seen traffic, newest settings per scope */
  viewOf(partner: string): BreakerView[] {
    return [...(this.views.get(partner)?.values() ?? [])].map((view) => view());
  }

  private create(partner: string, scope: string, settings: BreakerSettings): Breaker {
    const circuit = new CircuitBreaker((call: () => Promise<unknown>) => call(), {
      // the upstream enforces its own deadline; the breaker only counts
      timeout: false,
      errorThresholdPercentage: settings.errorThresholdPercentage,
      volumeThreshold: settings.volumeThreshold,
      rollingCountTimeout: settings.windowMs,
      rollingCountBuckets: BUCKETS,
      rollingPercentilesEnabled: false,
      // nothing listens to the snapshots: no timer for them
      enableSnapshots: false,
      resetTimeout: settings.resetTimeoutMs,
      errorFilter: (err: unknown) => !this.isFailure(err),
    });
    const labels = { target: partner, operation: scope };
    let openedAt = 0;
    let current: BreakerState = 'closed';
    const enter = (state: BreakerState) => () => {
      if (state === 'open') openedAt = Date.now();
      this.metrics.breakerState.set(labels, STATE_VALUE[state]);
      this.metrics.breakerTransitions.inc({ ...labels, to: state });
      // an outage is one warning: the probes while it lasts (half-open, open again) are debug
      const level = state === 'closed' ? 'info' : current === 'closed' ? 'warn' : 'debug';
      current = state;
      this.log[level]({ partner, operation: scope, state }, `circuit breaker ${state}`);
    };
    const latency = new RollingMean(settings.windowMs, BUCKETS);
    // opossum tells every call's latency with its outcome (an error that is not a failure comes as a
    // success)
    const record = (_: unknown, latencyMs: number) => latency.record(latencyMs);
    circuit.on('success', record);
    circuit.on('failure', record);
    const view = (): BreakerView => {
      const stats = circuit.stats;
      const calls = stats.successes + stats.failures;
      const state: BreakerState = circuit.opened ? 'open' : circuit.halfOpen ? 'halfOpen' : 'closed';
      return { scope, state, calls, failures: stats.failures, errorRatio: calls === 0 ? 0 : stats.failures / calls, latencyMeanMs: latency.mean() };
    };
    const partnerViews = this.views.get(partner) ?? new Map<string, () => BreakerView>();
    partnerViews.set(scope, view);
    this.views.set(partner, partnerViews);
    circuit.on('open', enter('open'));
    circuit.on('halfOpen', enter('halfOpen'));
    circuit.on('close', enter('closed'));
    this.metrics.breakerState.set(labels, 0);
    return {
      async fire<T>(call: () => Promise<T>): Promise<T> {
        try {
          return (await circuit.fire(call)) as T;
        } catch (err) {
          // the breaker's own refusal (opossum marks it): the partner was not called
          if (err instanceof Error && CircuitBreaker.isOurError(err)) {
            const retryAfterMs = Math.max(0, openedAt + settings.resetTimeoutMs - Date.now());
            throw new UpstreamError('breakerOpen', 'its circuit breaker is open after repeated failures', { cause: err, retryAfterMs });
          }
          throw err;
        }
      },
    };
  }
}
