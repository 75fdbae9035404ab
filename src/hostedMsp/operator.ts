/**
 * An operator the hub is the MSP for (an MSP-side dialect's partner): its records (the profiles, in
 * the record store the core hands the dialect), its subscription locks and the events its back
 * office is told. Each dialect extends it with its partner system's client; the operations every
 * such dialect shares (operations.ts) work through it.
 */
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Partner } from '../config/types';
import type { Logger } from '../log';
import type { Metrics } from '../metrics/metrics';
import { dialectEvent } from '../state/deliveries';
import { required } from '../errors/storeCalls';
import { HubError } from '../errors/catalogue';
import type { OutboxQueue } from '../state/outbox';
import type { RecordStore } from '../state/records';
import type { OperatorProfile } from './profile';
import type { ProfileState } from './profileStates';
import { lookupsFor, type JourneySteps } from '../journeys/recorder';

const LOCK_POLL_MS = 25;
/** a lock outlives its holder's deadline by this much, so a crashed holder frees it soon after */
const LOCK_GRACE_MS = 2000;

/** what the operator's back office is told (the dialect's `webhook`) */
export type OperatorEvent = 'profileOrdered' | 'profileSwapped' | 'profileStatus' | 'downloadProgress' | 'tokenInvalidated';

/** what the shared operations need of the operator's settings */
export interface OperatorSettings {
  /** AID.02 4.3.1 "n": Operational Profiles a subscription may hold at once */
  readonly profilesPerSubscription: number;
  /** AID.02 profileType -> the partner system's own */
  readonly profileTypes: ReadonlyMap<string, unknown>;
  /** the operator's back office; without one, nothing is told */
  readonly webhook?: unknown;
}

function subscriptionLock(mspToken: string): string {
  return `subscription ${mspToken}`;
}

export abstract class MspOperator<P extends OperatorProfile, S extends OperatorSettings = OperatorSettings> {
  constructor(
    readonly partner: Partner,
    readonly settings: S,
    protected readonly records: RecordStore,
    private readonly outbox: OutboxQueue,
    readonly metrics: Metrics,
    readonly log: Logger,
    /** how long profile records live: as long as the token bindings they belong to */
    private readonly ttlSeconds: number,
    private readonly journey?: JourneySteps,
  ) {}

  /** the partner system's step that brought a profile to `state`, as a journey names it */
  protected journeyStepOf(state: ProfileState): string {
    return `${this.partner.dialect} profile ${state}`;
  }

  /** counts a profile event (ordered, swapped, cancelled, a state reached) on the dialect's metric */
  abstract countProfileEvent(event: string): void;

  get id(): string {
    return this.partner.id;
  }

  /**
   * Runs `work` holding the subscription's lock, so that two requests for one msp_token (on any
   * hub instance) never both see a free slot. Waits for the lock until `deadline`, then refuses
   * with 503 and Retry-After.
   */
  withSubscription<T>(mspToken: string, deadline: number, work: () => Promise<T>): Promise<T> {
    return this.withLock(subscriptionLock(mspToken), deadline, work);
  }

  /** runs `work` holding the subscription's lock if no one holds it now, without waiting; false
   * (`work` not run) when it is held */
  async ifSubscriptionFree(mspToken: string, ttlMs: number, work: () => Promise<void>): Promise<boolean> {
    const key = subscriptionLock(mspToken);
    const owner = await this.state('take lock', this.records.acquireLock(key, ttlMs));
    if (owner === undefined) return false;
    try {
      await work();
    } finally {
      await this.release(key, owner);
    }
    return true;
  }

  /** runs `work` holding the lock `key` on every hub instance; waits for it until `deadline`, then
   * refuses with 503 and Retry-After (the subscription or the ICCID block is busy) */
  protected async withLock<T>(key: string, deadline: number, work: () => Promise<T>): Promise<T> {
    let owner: string | undefined;
    for (;;) {
      owner = await this.state('take lock', this.records.acquireLock(key, Math.max(1, deadline - Date.now()) + LOCK_GRACE_MS));
      if (owner !== undefined) break;
      if (Date.now() + LOCK_POLL_MS >= deadline) {
        throw new HubError('subscriptionBusy', { headers: { 'retry-after': '1' } });
      }
      await sleep(LOCK_POLL_MS);
    }
    try {
      return await work();
    } finally {
      await this.release(key, owner);
    }
  }

  private async release(key: string, owner: string): Promise<void> {
    await this.records.releaseLock(key, owner).catch((err: unknown) => this.log.warn({ err: (err as Error).message }, 'lock not released; it expires'));
  }

  /** a profile by ICCID, found again by its subscription (msp_token) and its activation request */
  save(profile: P): Promise<void> {
    const { mspToken, iccid, eid, activationCodeRequestId, state } = profile;
    this.journey?.step(
      { token: mspToken },
      { operation: this.journeyStepOf(state), from: this.id, outcome: state, iccid, eid, requestId: activationCodeRequestId },
      lookupsFor(activationCodeRequestId, iccid),
    );
    return this.state(
      'save profile',
      this.records.save(profile.iccid, profile, this.ttlSeconds, { subscription: profile.mspToken, request: profile.activationCodeRequestId }),
    );
  }

  getProfile(iccid: string): Promise<P | undefined> {
    return this.state('read profile', this.records.get<P>(iccid));
  }

  listProfiles(mspToken: string): Promise<P[]> {
    return this.state('list profiles', this.records.find<P>('subscription', mspToken));
  }

  /** the newest profile ordered for the request (a cancelled order is followed by a new one) */
  async findProfileByRequest(activationCodeRequestId: string): Promise<P | undefined> {
    const found = await this.state('read profile of the request', this.records.find<P>('request', activationCodeRequestId));
    return found.sort((a, b) => b.createdAt - a.createdAt)[0];
  }

  /** tells the back office through the outbox (nothing lost while it is down); a failure to queue is logged */
  async tell(
    event: OperatorEvent,
    profile: Pick<OperatorProfile, 'mspToken' | 'cmp'> & Partial<OperatorProfile>,
    extra: Record<string, unknown> = {},
  ): Promise<void> {
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

  protected state<T>(step: string, call: Promise<T>): Promise<T> {
    return required(step, call);
  }
}
