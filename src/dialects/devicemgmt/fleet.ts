/**
 * One CMP whose vehicles are run by a device-management platform, as the hub serves it: its records
 * (the activation requests it made, the vehicles' device ids, the profiles the hub put on vehicles,
 * the tasks under way) in the record store the core hands the dialect, the platform client, and what
 * it tells others through the outbox: Send CSIM Status to the MSPs, events to its back office, and
 * its own tasks (tasks.ts), so that nothing it owes is lost when an instance stops.
 */
import { createHash, randomUUID } from 'node:crypto';
import type { Partner } from '../../config/types';
import type { Logger } from '../../log';
import type { Metrics } from '../../metrics/metrics';
import { dialectEvent, dialectTask, forwardDelivery } from '../../state/deliveries';
import type { OutboxQueue } from '../../state/outbox';
import type { RecordStore } from '../../state/records';
import { required } from '../../errors/storeCalls';
import type { CsimStatus } from '../../esim/csimStatus';
import type { DevicemgmtMetrics } from './metrics';
import type { DevicePlatformClient } from './platformClient';
import type { DevicemgmtSettings } from './settings';
import { lookupsFor, type JourneySteps } from '../../journeys/recorder';
import { taskStep } from './journey';

/** a Request Activation Code the CMP made through the hub: what the code is for */
export interface ActivationAsked {
  readonly requestId: string;
  readonly msp: string;
  readonly mspToken: string;
  readonly eid: string;
  readonly correlationId: string;
}

/** a profile the hub put on a vehicle, as last reported to its MSP */
export interface VehicleProfile {
  readonly iccid: string;
  readonly eid: string;
  readonly deviceId: string;
  readonly msp: string;
  readonly mspToken: string;
  readonly status: CsimStatus;
  /** the task working on it; the reconcile leaves it alone meanwhile */
  readonly task?: string;
}

export type TaskStep = 'device' | 'removeSwapped' | 'download' | 'enable' | 'activate' | 'remove';

/** work on one vehicle: put a profile on it (provision) or take one off (remove) */
export interface Task {
  readonly id: string;
  readonly kind: 'provision' | 'remove';
  readonly msp: string;
  readonly mspToken: string;
  readonly correlationId: string;
  readonly eid: string;
  readonly deviceId?: string;
  readonly iccid?: string;
  readonly activationCode?: string;
  readonly swappedIccid?: string | null;
  /** remove: delete (AID.02 4.5 Delete OP) or disable */
  readonly removal?: 'delete' | 'disable';
  readonly step: TaskStep;
  /** the platform transaction or multistep operation being followed */
  readonly tx?: string;
  /** recorded just before an action is started: an instance that finds it without `tx` looks for
   * the action on the platform instead of starting it again */
  readonly starting?: { readonly action: string; readonly at: number };
  readonly txStartedAt?: number;
  readonly createdAt: number;
  readonly giveUpAt: number;
  readonly done: boolean;
}

export type BackOfficeEvent =
  | 'sendMspToken'
  | 'notifyMspTokenInvalid'
  | 'sendProfileInformation'
  | 'updateSubscriptionInfo'
  | 'noActivationCode'
  | 'activationUnknown'
  | 'transactionFailed'
  | 'transactionGaveUp'
  | 'activationNotConfirmed';

/** requests, device ids and profiles live as long as the token bindings they belong to */
const TASK_KEEP_SECONDS = 24 * 3600;

export class Fleet {
  constructor(
    readonly partner: Partner,
    readonly settings: DevicemgmtSettings,
    readonly client: DevicePlatformClient,
    private readonly records: RecordStore,
    private readonly outbox: OutboxQueue,
    private readonly hubMetrics: Metrics,
    readonly metrics: DevicemgmtMetrics,
    readonly log: Logger,
    private readonly ttlSeconds: number,
    private readonly journey?: JourneySteps,
  ) {}

  get id(): string {
    return this.partner.id;
  }

  rememberRequest(asked: ActivationAsked): Promise<void> {
    return required('save activation request', this.records.save(`request ${asked.requestId}`, asked, this.ttlSeconds));
  }

  requestOf(requestId: string): Promise<ActivationAsked | undefined> {
    return required('read activation request', this.records.get<ActivationAsked>(`request ${requestId}`));
  }

  /** the vehicle's device id: cached, else from the inventory (its profiles name it) */
  async deviceOf(eid: string, log: Logger): Promise<string | undefined> {
    const key = `device ${eid}`;
    const cached = await required('read device', this.records.get<{ deviceId: string }>(key));
    if (cached) return cached.deviceId;
    const { profiles } = await this.client.inventory(`eid="${eid}"`, undefined, log);
    const deviceId = profiles.find((p) => p.eid === eid && typeof p.device_id === 'string')?.device_id;
    if (deviceId && this.settings.deviceCacheSeconds > 0) await required('save device', this.records.save(key, { deviceId }, this.settings.deviceCacheSeconds));
    return deviceId;
  }

  /** a task, recorded and scheduled: the outbox runs it until it ends (`runTask`). Scheduled under
   * the task's id, so that a start made again (its answer lost after the record was written) queues
   * the task if it was not, and nothing twice if it was */
  async startTask(task: Omit<Task, 'createdAt' | 'giveUpAt' | 'done'>): Promise<void> {
    const now = Date.now();
    const existing = await this.task(task.id);
    if (existing?.done) return;
    if (!existing) await this.saveTask({ ...task, createdAt: now, giveUpAt: now + this.settings.giveUpSeconds * 1000, done: false });
    await required('schedule task', this.outbox.enqueue(dialectTask(this.id, { task: task.id }, onceId(`${this.id} task ${task.id}`))));
    this.hubMetrics.outbox.inc({ target: this.id, event: 'enqueued' });
  }

  task(id: string): Promise<Task | undefined> {
    return required('read task', this.records.get<Task>(`task ${id}`));
  }

  saveTask(task: Task): Promise<void> {
    this.journey?.step({ token: task.mspToken }, taskStep(this.id, task), lookupsFor(undefined, task.iccid));
    return required('save task', this.records.save(`task ${task.id}`, task, this.settings.giveUpSeconds + TASK_KEEP_SECONDS, { tasks: 'all' }));
  }

  /** tasks not finished, for the in-flight gauge */
  async tasksInFlight(): Promise<number> {
    const tasks = await this.records.find<Task>('tasks', 'all');
    return tasks.filter((t) => !t.done).length;
  }

  /** runs `work` while no other hub instance works on `key`; undefined when one does. A lock whose
   * taking failed is given back: taken all the same (its answer lost), it would hold the task off
   * for its whole TTL */
  async exclusively<T>(key: string, ttlMs: number, work: () => Promise<T>): Promise<T | undefined> {
    const mine = randomUUID();
    const owner = await required('take lock', this.records.acquireLock(key, ttlMs, mine)).catch(async (err: unknown) => {
      await this.records.releaseLock(key, mine).catch(() => undefined);
      throw err;
    });
    if (owner === undefined) return undefined;
    try {
      return await work();
    } finally {
      await this.records.releaseLock(key, owner).catch(() => undefined);
    }
  }

  /** true on the one hub instance that takes `key` until it expires (a period's work) */
  async claim(key: string, ttlMs: number): Promise<boolean> {
    return (await required('take lock', this.records.acquireLock(key, ttlMs))) !== undefined;
  }

  profile(iccid: string): Promise<VehicleProfile | undefined> {
    return required('read profile', this.records.get<VehicleProfile>(`profile ${iccid}`));
  }

  saveProfile(profile: VehicleProfile): Promise<void> {
    return required('save profile', this.records.save(`profile ${profile.iccid}`, profile, this.ttlSeconds, { token: profile.mspToken, fleet: 'profiles' }));
  }

  profilesOfToken(mspToken: string): Promise<VehicleProfile[]> {
    return required('list profiles', this.records.find<VehicleProfile>('token', mspToken));
  }

  allProfiles(): Promise<VehicleProfile[]> {
    return required('list profiles', this.records.find<VehicleProfile>('fleet', 'profiles'));
  }

  /** Send CSIM Status to the profile's MSP (AID.02 7.8), as the CMP, through the outbox. `once`:
   * names the step that reports it, which may be made again (a task's run whose store call lost
   * its answer): its CMP-request-id comes from it, so the status is queued once */
  async reportStatus(
    to: { msp: string; mspToken: string; correlationId?: string },
    iccid: string,
    eid: string,
    status: CsimStatus,
    once?: string,
  ): Promise<void> {
    const requestId = once === undefined ? randomUUID() : onceId(`${this.id} status ${once}`);
    const delivery = forwardDelivery({
      target: to.msp,
      operation: 'sendCsimStatus',
      method: 'POST',
      path: `/v1/statuses/${to.mspToken}`,
      params: { msp_token: to.mspToken },
      headers: {
        'content-type': 'application/json',
        'client-id': this.id,
        'target-id': to.msp,
        'cmp-request-id': requestId,
        'correlation-id': to.correlationId ?? requestId,
      },
      body: JSON.stringify({ iccid, eid, status }),
    });
    await required('queue CSIM status', this.outbox.enqueue(delivery));
    this.hubMetrics.outbox.inc({ target: to.msp, event: 'enqueued' });
  }

  /** tells the CMP's back office through the outbox; `once` as for reportStatus */
  async tell(event: BackOfficeEvent, body: Readonly<Record<string, unknown>>, once?: string): Promise<void> {
    const id = once === undefined ? randomUUID() : onceId(`${this.id} event ${once}`);
    await required(
      'queue back-office event',
      this.outbox.enqueue(dialectEvent(this.id, id, { event, eventId: id, at: new Date().toISOString(), cmp: this.id, ...body })),
    );
    this.hubMetrics.outbox.inc({ target: this.id, event: 'enqueued' });
  }
}

/** a UUID that `name` alone decides (the layout of a name-based UUID, RFC 4122 4.3): a step made
 * again names its message the same */
function onceId(name: string): string {
  const h = createHash('sha256').update(name).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-5${h.slice(13, 16)}-${((parseInt(h[16], 16) & 3) | 8).toString(16)}${h.slice(17, 20)}-${h.slice(20, 32)}`;
}
