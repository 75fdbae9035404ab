/**
 * One ES2+ operator as the hub serves it: its SM-DP+ client, its share of the Store, its
 * subscription locks and the events its back office is told. The dialect's operations and the
 * HandleDownloadProgressInfo handler all work through it.
 */
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Es2plusSettings, Partner } from '../../config/types';
import type { Logger } from '../../log';
import type { Metrics } from '../../metrics/metrics';
import { operatorEvent } from '../../outbox/deliveries';
import { required } from '../../pipeline/stateCall';
import type { EsimProfile, Store } from '../../state/store';
import { UpstreamError } from '../../upstream/upstream';
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
    private readonly store: Store,
    readonly metrics: Metrics,
    readonly log: Logger,
    /** how long profile records live: as long as the token bindings they belong to */
    private readonly ttlSeconds: number,
  ) {}

  get id(): string {
    return this.partner.id;
  }

  /**
   * Runs `work` holding the subscription's lock, so that two requests for one msp_token (on any
   * hub instance) never both see a free slot. Waits for the lock until `deadline`, then refuses
   * with 503 and Retry-After.
   */
  async withSubscription<T>(mspToken: string, deadline: number, work: () => Promise<T>): Promise<T> {
    const key = `es2:${this.id} ${mspToken}`;
    let owner: string | undefined;
    for (;;) {
      owner = await this.state('lock subscription', this.store.acquireLock(key, Math.max(1, deadline - Date.now()) + LOCK_GRACE_MS));
      if (owner !== undefined) break;
      if (Date.now() + LOCK_POLL_MS >= deadline) {
        throw new UpstreamError('busy', 'another request for this subscription is in progress', { retryAfterMs: 1000 });
      }
      await sleep(LOCK_POLL_MS);
    }
    try {
      return await work();
    } finally {
      await this.store.releaseLock(key, owner).catch((err: unknown) => this.log.warn({ err: (err as Error).message }, 'subscription lock not released; it expires'));
    }
  }

  save(profile: EsimProfile): Promise<void> {
    return this.state('save profile', this.store.saveProfile(profile, this.ttlSeconds));
  }

  getProfile(iccid: string): Promise<EsimProfile | undefined> {
    return this.state('read profile', this.store.getProfile(this.id, iccid));
  }

  listProfiles(mspToken: string): Promise<EsimProfile[]> {
    return this.state('list profiles', this.store.listProfiles(this.id, mspToken));
  }

  findProfileByRequest(activationCodeRequestId: string): Promise<EsimProfile | undefined> {
    return this.state('read profile of the request', this.store.findProfileByRequest(this.id, activationCodeRequestId));
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
      await this.store.outbox.enqueue(operatorEvent(this.id, id, body));
      this.metrics.outbox.inc({ target: this.id, event: 'enqueued' });
    } catch (err) {
      this.log.error({ err: (err as Error).message, event }, 'operator event not queued');
    }
  }

  private state<T>(step: string, call: Promise<T>): Promise<T> {
    return required(this, step, call);
  }
}
