/**
 * One ES2+ operator as the hub serves it: the shared operator (hostedMsp/operator.ts: records, locks,
 * back-office events) with its SM-DP+ client and the dialect's metrics. The dialect's operations and
 * the HandleDownloadProgressInfo handler all work through it.
 */
import type { Partner } from '../../config/types';
import type { Logger } from '../../log';
import type { Metrics } from '../../metrics/metrics';
import type { OutboxQueue } from '../../state/outbox';
import type { RecordStore } from '../../state/records';
import { MspOperator } from '../../hostedMsp/operator';
import type { ProfileState } from '../../hostedMsp/profileStates';
import type { JourneySteps } from '../../journeys/recorder';
import type { Es2Client } from './es2Client';
import { es2plusMetrics, type Es2plusMetrics } from './metrics';
import type { EsimProfile } from './profile';
import type { Es2plusSettings } from './settings';

export class Es2Operator extends MspOperator<EsimProfile, Es2plusSettings> {
  /** the dialect's own metrics (metrics.ts) */
  readonly es2Metrics: Es2plusMetrics;

  constructor(
    partner: Partner,
    settings: Es2plusSettings,
    readonly client: Es2Client,
    records: RecordStore,
    outbox: OutboxQueue,
    metrics: Metrics,
    log: Logger,
    ttlSeconds: number,
    journey?: JourneySteps,
  ) {
    super(partner, settings, records, outbox, metrics, log, ttlSeconds, journey);
    this.es2Metrics = es2plusMetrics(metrics.registry);
  }

  /** the ES2+ function (SGP.22 5.3) that brought the profile to `state` */
  protected override journeyStepOf(state: ProfileState): string {
    return `ES2+ ${ES2_STEPS[state] ?? 'HandleDownloadProgressInfo'}`;
  }

  countProfileEvent(event: string): void {
    this.es2Metrics.profiles.inc({ msp: this.id, event });
  }
}

const ES2_STEPS: Partial<Record<ProfileState, string>> = { ordered: 'DownloadOrder', released: 'ConfirmOrder', cancelled: 'CancelOrder' };
