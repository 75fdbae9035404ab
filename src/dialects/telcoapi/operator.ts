/**
 * One TelcoAPI operator as the hub serves it: the shared operator (hostedMsp/operator.ts: records, locks,
 * back-office events) with its platform client, the dialect's metrics and the ICCIDs the operator
 * set aside for the hub's profiles.
 */
import type { Partner } from '../../config/types';
import type { Logger } from '../../log';
import type { Metrics } from '../../metrics/metrics';
import type { OutboxQueue } from '../../state/outbox';
import type { RecordStore } from '../../state/records';
import { MspOperator } from '../../hostedMsp/operator';
import { refusal } from '../../hostedMsp/operations';
import type { OperatorProfile } from '../../hostedMsp/profile';
import { telcoapiMetrics, type TelcoapiMetrics } from './metrics';
import { applyPending, type PlatformEventRecord } from './platformEvents';
import type { PlatformClient } from './platformClient';
import type { TelcoapiSettings } from './settings';
import type { JourneySteps } from '../../journeys/recorder';

type CompatibilityForm = TelcoapiSettings['compatibility'];

const PENDING = 'pending events';
const PENDING_OF = 'pending events of';

function eventId(key: string): string {
  return `event ${key}`;
}

function pendingIndexes(mspToken: string): Record<string, string> {
  return { [PENDING]: 'all', [PENDING_OF]: mspToken };
}

/** the next ICCID of a block is kept this long: far beyond any profile record */
const POOL_TTL_SECONDS = 10 * 365 * 24 * 3600;

export class TelcoOperator extends MspOperator<OperatorProfile, TelcoapiSettings> {
  readonly telcoMetrics: TelcoapiMetrics;
  private compatibilityFirst: CompatibilityForm;

  constructor(
    partner: Partner,
    settings: TelcoapiSettings,
    readonly client: PlatformClient,
    records: RecordStore,
    outbox: OutboxQueue,
    metrics: Metrics,
    log: Logger,
    ttlSeconds: number,
    journey?: JourneySteps,
  ) {
    super(partner, settings, records, outbox, metrics, log, ttlSeconds, journey);
    this.telcoMetrics = telcoapiMetrics(metrics.registry);
    this.compatibilityFirst = settings.compatibility;
  }

  /** the compatibility endpoints in the order to ask them: the one that answered last first (this
   * instance's memory, from the operator's `compatibility` at config load) */
  compatibilityForms(): CompatibilityForm[] {
    return [this.compatibilityFirst, this.compatibilityFirst === 'get' ? 'post' : 'get'];
  }

  compatibilityAnswered(form: CompatibilityForm): void {
    this.compatibilityFirst = form;
  }

  countProfileEvent(event: string): void {
    this.telcoMetrics.profiles.inc({ msp: this.id, event });
  }

  /** the platform's events that arrived while the lock was held are applied as soon as it is let go */
  override async withSubscription<T>(mspToken: string, deadline: number, work: () => Promise<T>): Promise<T> {
    try {
      return await super.withSubscription(mspToken, deadline, work);
    } finally {
      await applyPending(this, mspToken, this.log).catch((err: unknown) =>
        this.log.warn({ err: (err as Error).message }, 'platform events left pending; the worker applies them'),
      );
    }
  }

  /** records a platform event the first time its key is seen on any hub instance within `ttlSeconds`
   * (false after), pending under its subscription when it has one; one atomic write */
  recordEvent(event: PlatformEventRecord, ttlSeconds: number): Promise<boolean> {
    return this.state(
      'record platform event',
      this.records.create(eventId(event.key), event, ttlSeconds, event.mspToken === undefined ? {} : pendingIndexes(event.mspToken)),
    );
  }

  /** the events pending for the subscription, or for every subscription */
  pendingEvents(mspToken?: string): Promise<PlatformEventRecord[]> {
    return this.state('read pending platform events', mspToken === undefined ? this.records.find(PENDING, 'all') : this.records.find(PENDING_OF, mspToken));
  }

  /** an applied event leaves the pending indexes; its record stays as the replay memory */
  settleEvent(event: PlatformEventRecord): Promise<void> {
    return event.mspToken === undefined
      ? Promise.resolve()
      : this.state('settle platform event', this.records.unindex(eventId(event.key), pendingIndexes(event.mspToken)));
  }

  /**
   * The next ICCID of the block set aside for `profileType` (its Luhn check digit appended, ITU-T
   * E.118), taken once on every hub instance; none left: no activation code (422 code 49).
   */
  nextIccid(profileType: string, deadline: number): Promise<string> {
    const block = this.settings.profileTypes.get(profileType)?.iccids;
    if (!block) throw new Error(`telcoapi: no ICCID block for ${profileType}`);
    const key = `iccid pool ${profileType}`;
    return this.withLock(key, deadline, async () => {
      const pool = await this.state('read ICCID pool', this.records.get<{ next: string }>(key));
      const next = pool ? BigInt(pool.next) : block.from;
      if (next > block.to) throw refusal('noActivationCode', 'the ICCIDs set aside for this profile type are used up');
      await this.state('save ICCID pool', this.records.save(key, { next: String(next + 1n) }, POOL_TTL_SECONDS));
      return withLuhn(next.toString().padStart(block.digits, '0'));
    });
  }
}

/** the digits with their Luhn check digit (ISO/IEC 7812-1), as an ICCID ends */
export function withLuhn(digits: string): string {
  let sum = 0;
  for (let i = 0; i < digits.length; i++) {
    let d = digits.charCodeAt(digits.length - 1 - i) - 48;
    if (i % 2 === 0) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
  }
  return digits + String((10 - (sum % 10)) % 10);
}
