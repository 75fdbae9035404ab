/**
 * The platform's events between the webhook that brought them and their effect on the hub's
 * record. The seed does not say when a platform sends the event of a call the hub made: one that
 * sends PROFILE_DELETED before it answers the hub's DELETE waits for its webhook's answer while the
 * hub holds the subscription's lock across that DELETE. So a webhook never waits for that lock: its
 * event is recorded (one atomic write, which is also the replay memory, kept twice the time
 * window) pending under its subscription, and the webhook is answered. The event is applied at once
 * when the subscription's lock is free; otherwise by the lock's holder right after it lets the lock
 * go (TelcoOperator.withSubscription); and by a worker on every hub instance, for an event whose hub
 * stopped between answering and applying. Applying twice changes nothing the second time.
 */
import type { Logger } from '../../log';
import { eventOf, isLive, type ProfileState } from '../../hostedMsp/profileStates';
import type { TelcoOperator } from './operator';

/** the profile state each event reports */
export const EVENT_STATES: Readonly<Record<string, ProfileState>> = {
  PROFILE_DOWNLOADED: 'downloaded',
  PROFILE_INSTALLED: 'installed',
  PROFILE_ENABLED: 'enabled',
  PROFILE_DISABLED: 'disabled',
  PROFILE_DELETED: 'deleted',
};

const NOT_YET_INSTALLED: ReadonlySet<ProfileState> = new Set(['ordered', 'released', 'downloaded', 'installationFailed']);

/** the worker's pause between two looks for events left pending */
export const PENDING_SWEEP_MS = 5000;
/** the lock taken to apply events outlives a hub that dies applying them by at most this */
const APPLY_LOCK_MS = 10000;
/** a holder that lets the lock go looks again this often while events keep arriving */
const MAX_ROUNDS = 3;

export interface PlatformEventRecord {
  /** the event's id, else its signature: its replay memory */
  readonly key: string;
  readonly eventType: string;
  readonly iccid: string;
  /** the subscription of the profile; none: recorded for the replay memory only */
  readonly mspToken?: string;
  readonly receivedAt: number;
}

export type ApplyOutcome = 'applied' | 'unchanged';

/** what an event makes of the profile: never back from what the vehicle reported to the download */
export function afterPlatformEvent(state: ProfileState, reported: ProfileState): ProfileState {
  if (reported === 'deleted') return 'deleted';
  if (!isLive(state)) return state;
  if (reported === 'downloaded') return state === 'ordered' || state === 'released' ? 'downloaded' : state;
  if (reported === 'installed') return NOT_YET_INSTALLED.has(state) ? 'installed' : state;
  return reported;
}

/**
 * Applies the subscription's pending events, oldest first, if its lock is free now (the outcome of
 * each, by key); a holder applies them when it lets the lock go. Events recorded while this ran are
 * taken in the next round.
 */
export async function applyPending(op: TelcoOperator, mspToken: string, log: Logger): Promise<Map<string, ApplyOutcome>> {
  const outcomes = new Map<string, ApplyOutcome>();
  for (let round = 0; round < MAX_ROUNDS; round++) {
    if ((await op.pendingEvents(mspToken)).length === 0) break;
    const applied = await op.ifSubscriptionFree(mspToken, APPLY_LOCK_MS, async () => {
      const pending = (await op.pendingEvents(mspToken)).sort((a, b) => a.receivedAt - b.receivedAt);
      for (const event of pending) outcomes.set(event.key, await applyOne(op, event, log));
    });
    if (!applied) break;
  }
  return outcomes;
}

/** the worker: every subscription with events still pending */
export async function applyAllPending(op: TelcoOperator, log: Logger): Promise<void> {
  const tokens = new Set((await op.pendingEvents()).flatMap((e) => (e.mspToken === undefined ? [] : [e.mspToken])));
  for (const token of tokens) await applyPending(op, token, log);
}

/** under the subscription's lock */
async function applyOne(op: TelcoOperator, event: PlatformEventRecord, log: Logger): Promise<ApplyOutcome> {
  const eventLog = log.child({ msp: op.id, eventType: event.eventType });
  const reported = EVENT_STATES[event.eventType];
  const profile = await op.getProfile(event.iccid);
  let outcome: ApplyOutcome = 'unchanged';
  if (reported && profile) {
    const state = afterPlatformEvent(profile.state, reported);
    if (state !== profile.state) {
      const updated = { ...profile, state, usedAt: Date.now() };
      await op.save(updated);
      op.countProfileEvent(eventOf(state));
      eventLog.info({ profileState: state }, 'platform event recorded');
      await op.tell('profileStatus', updated, { source: 'platform', platformEvent: event.eventType });
      outcome = 'applied';
    } else {
      eventLog.debug({ profileState: state }, 'platform event changes nothing');
    }
  }
  await op.settleEvent(event);
  return outcome;
}
