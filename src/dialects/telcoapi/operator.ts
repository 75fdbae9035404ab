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
import type { PlatformClient } from './platformClient';
import type { TelcoapiSettings } from './settings';

/** the next ICCID of a block is kept this long: far beyond any profile record */
const POOL_TTL_SECONDS = 10 * 365 * 24 * 3600;

export class TelcoOperator extends MspOperator<OperatorProfile, TelcoapiSettings> {
  readonly telcoMetrics: TelcoapiMetrics;

  constructor(partner: Partner, settings: TelcoapiSettings, readonly client: PlatformClient, records: RecordStore, outbox: OutboxQueue, metrics: Metrics, log: Logger, ttlSeconds: number) {
    super(partner, settings, records, outbox, metrics, log, ttlSeconds);
    this.telcoMetrics = telcoapiMetrics(metrics.registry);
  }

  countProfileEvent(event: string): void {
    this.telcoMetrics.profiles.inc({ msp: this.id, event });
  }

  /** a marker the first time `key` is seen within `ttlMs` on any hub instance (a webhook event),
   * undefined after; a handling that fails `forget`s it, so the platform's retry is handled */
  firstSighting(key: string, ttlMs: number): Promise<string | undefined> {
    return this.state('remember event', this.records.acquireLock(`seen ${key}`, ttlMs));
  }

  forget(key: string, owner: string): Promise<void> {
    return this.state('forget event', this.records.releaseLock(`seen ${key}`, owner));
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
