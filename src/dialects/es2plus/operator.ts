/**
 * One ES2+ operator as the hub serves it: its SM-DP+ client, its records (the profiles, in the
 * record store the core hands the dialect), its subscription locks and the events its back office
 * is told. The dialect's operations and the HandleDownloadProgressInfo handler all work through it.
 */
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Partner } from '../../config/types';
import type { Es2plusSettings } from './settings';
import type { Logger } from '../../log';
import type { Metrics } from '../../metrics/metrics';
import { dialectEvent } from '../../outbox/deliveries';
import { required } from '../../state/stateCall';
import { HubError } from '../../errors';
import type { OutboxQueue } from '../../state/outbox';
import type { RecordStore } from '../../state/records';
import type { EsimProfile } from './profile';
import { es2plusMetrics, type Es2plusMetrics } from './metrics';
import type { Es2Client } from './es2Client';

const LOCK_POLL_MS = 25;
/** a lock outlives its holder's deadline by this much, so a crashed holder frees it soon after */
const LOCK_GRACE_MS = 2000;

/** what the operator's back office is told (`es2plus.webhook`) */
export type OperatorEvent = 'profileOrdered' | 'profileSwapped' | 'profileStatus' | 'downloadProgress' | 'tokenInvalidated';

export class Es2Operator {
  constructor(
    readonly partner: Partner,
    readonly settings: Es2plusSettings,
    readonly client: Es2Client,
    private readonly records: RecordStore,
    private readonly outbox: OutboxQueue,
    readonly metrics: Metrics,
    readonly log: Logger,
    /** how long profile records live: as long as the token bindings they belong to */
    private readonly ttlSeconds: number,
  ) {
    this.es2Metrics = es2plusMetrics(metrics.registry);
  }

  /** the dialect's own metrics (metrics.ts) */
  readonly es2Metrics: Es2plusMetrics;

  get id(): string {
    return this.partner.id;
  }

  /**
   * Runs `work` holding the subscription's lock, so that two requests for one msp_token (on any
   * hub instance) never both see a free slot. Waits for the lock until `deadline`, then refuses
   * with 503 and Retry-After.
   */
  async withSubscription<T>(mspToken: string, deadline: number, work: () => Promise<T>): Promise<T> {
    const key = `subscription ${mspToken}`;
    let owner: string | undefined;
    for (;;) {
      owner = await this.state('lock subscription', this.records.acquireLock(key, Math.max(1, deadline - Date.now()) + LOCK_GRACE_MS));
      if (owner !== undefined) break;
      if (Date.now() + LOCK_POLL_MS >= deadline) {
        throw new HubError('subscriptionBusy', { headers: { 'retry-after': '1' } });
      }
      await sleep(LOCK_POLL_MS);
    }
    try {
      return await work();
    } finally {
      await this.records.releaseLock(key, owner).catch((err: unknown) => this.log.warn({ err: (err as Error).message }, 'subscription lock not released; it expires'));
    }
  }

  /** a profile by ICCID, found again by its subscription (msp_token) and its activation request */
  save(profile: EsimProfile): Promise<void> {
    return this.state('save profile', this.records.save(profile.iccid, profile, this.ttlSeconds, { subscription: profile.mspToken, request: profile.activationCodeRequestId }));
  }

  getProfile(iccid: string): Promise<EsimProfile | undefined> {
    return this.state('read profile', this.records.get<EsimProfile>(iccid));
  }

  listProfiles(mspToken: string): Promise<EsimProfile[]> {
    return this.state('list profiles', this.records.find<EsimProfile>('subscription', mspToken));
  }

  /** the newest profile ordered for the request (a cancelled order is followed by a new one) */
  async findProfileByRequest(activationCodeRequestId: string): Promise<EsimProfile | undefined> {
    const found = await this.state('read profile of the request', this.records.find<EsimProfile>('request', activationCodeRequestId));
    return found.sort((a, b) => b.createdAt - a.createdAt)[0];
  }

  /** tells the back office through the outbox (nothing lost while it is down); a failure to queue is logged */
  async tell(event: OperatorEvent, profile: Pick<EsimProfile, 'mspToken' | 'cmp'> & Partial<EsimProfile>, extra: Record<string, unknown> = {}): Promise<void> {
    if (!this.settings.webhook) return;
    const id = randomUUID();
    const body = {
      event,
      eventId: id,
      at: new Date().toISOString(),
      msp: this.id,
      cmp: profile.cmp,
      mspToken: profile.mspToken,
      iccid: profile.iccid,
      eid: profile.eid,
      state: profile.state,
      ...extra,
    };
    try {
      await this.outbox.enqueue(dialectEvent(this.id, id, body));
      this.metrics.outbox.inc({ target: this.id, event: 'enqueued' });
    } catch (err) {
      this.log.error({ err: (err as Error).message, event }, 'operator event not queued');
    }
  }

  private state<T>(step: string, call: Promise<T>): Promise<T> {
    return required(step, call);
  }
}
