/**
 * A vehicle task, one step at a time. The outbox runs a task (a `dialectTask` delivery to the
 * CMP's instance) until it ends: each run, under the task's lock, takes the next step: finds the
 * vehicle's device id, starts a platform action or multistep operation, or looks at the one under
 * way; the seed's actions take 3-10 minutes, so a run that finds one still in progress asks to be
 * run again after `pollIntervalSeconds`. What the vehicle did goes to the MSP as Send CSIM Status
 * (AID.02 7.8): `installed` after the download, `enabled` after the enable, `installation_failed`
 * when the download fails, `deleted` / `disabled` for a profile taken off (a swapped one, 4.3.1 2c,
 * or after Notify MSP Token Invalid, 4.5). Only an end the platform states counts: a transaction
 * `unknown` or with no status is still under way. A task not finished by `giveUpSeconds` is given
 * up, and a step the platform refuses (4xx, a lookup or a poll too) fails: the back office is told,
 * the MSP hears `installation_failed` for a profile that never reached the vehicle.
 */
import type { Logger } from '../../log';
import type { CsimStatus } from '../../esim/csimStatus';
import type { Fleet, Task, TaskStep } from './fleet';
import { DevicePlatformError, isPlatformAway, type Action, type InventoryProfile } from './platformClient';

export type RunOutcome = 'wait' | 'done';

/** a transaction's or operation's end; `onVehicle`: where a multistep operation left the MSP's
 * profile, as the platform's inventory reports it */
type Ended = {
  readonly ok: boolean;
  readonly iccid?: string;
  readonly message?: string;
  /** failed after the profile reached the vehicle */
  readonly partly?: boolean;
  /** a multistep operation that downloaded nothing and left the MSP's profile off the vehicle */
  readonly separately?: boolean;
  readonly onVehicle?: 'active' | 'inactive' | 'absent';
};

/** steps of one run at most; a run ends anyway once it has started an action */
const MAX_STEPS_PER_RUN = 4;

/** one run of a task: as many steps as need no waiting */
export async function runTask(fleet: Fleet, id: string, log: Logger): Promise<RunOutcome> {
  let task = await fleet.task(id);
  if (!task || task.done) return 'done';
  for (let i = 0; i < MAX_STEPS_PER_RUN; i++) {
    if (Date.now() > task.giveUpAt) {
      await giveUp(fleet, task);
      return 'done';
    }
    let next: Task | 'wait';
    try {
      next = await step(fleet, task, log);
    } catch (err) {
      // the platform away or failing: looked at again later, until the task is given up
      if (isPlatformAway(err)) return 'wait';
      // docs/dialects/devicemgmt.md: a platform that "refuses an action (4xx) fails that step": a lookup or a poll too
      if (!(err instanceof DevicePlatformError)) throw err;
      next = await stepFailed(fleet, task, 'transactionFailed', err.message);
    }
    if (next === 'wait') return 'wait';
    const justStarted = next.tx !== undefined && next.tx !== task.tx;
    task = next;
    await fleet.saveTask(task);
    if (task.done) return 'done';
    // an action just started takes minutes: looked at on the next run
    if (justStarted) return 'wait';
  }
  return 'wait';
}

async function step(fleet: Fleet, task: Task, log: Logger): Promise<Task | 'wait'> {
  switch (task.step) {
    case 'device': {
      const deviceId = task.deviceId ?? (await fleet.deviceOf(task.eid, log));
      // a vehicle the inventory does not know yet: it may report itself soon
      if (!deviceId) return 'wait';
      return { ...task, deviceId, step: task.kind === 'remove' ? 'remove' : task.swappedIccid ? 'removeSwapped' : installStep(fleet) };
    }
    case 'removeSwapped': {
      const swapped = task.swappedIccid as string;
      // AID.02 4.3.1 2c: deleted "from the vehicle on which it was downloaded", which the platform
      // names (inventory/{iccid}); only a delete on this vehicle holds up the new profile
      if (!task.tx && !task.starting) {
        const holder = await fleet.client.profile(swapped, log);
        if (!holder || !onVehicleOf(holder, task)) {
          await swappedElsewhere(fleet, task, swapped, holder);
          return { ...task, step: installStep(fleet) };
        }
      }
      const ended = await follow(fleet, task, 'delete', { iccid: swapped }, log);
      if (ended === 'wait' || isTask(ended)) return ended;
      if (ended.ok) await profileGone(fleet, task, swapped, 'deleted', task.eid);
      else
        await fleet.tell(
          'transactionFailed',
          { action: 'delete', iccid: swapped, msp: task.msp, reason: ended.message, needs: 'the swapped profile deleted from the vehicle by hand' },
          once(task, 'transactionFailed'),
        );
      return { ...task, step: installStep(fleet), tx: undefined };
    }
    case 'download':
    case 'activate': {
      const ended =
        task.step === 'activate'
          ? await followOperation(fleet, task, log)
          : await follow(fleet, task, 'download', { activation_code: task.activationCode, iccid: task.iccid }, log);
      if (ended === 'wait' || isTask(ended)) return ended;
      const iccid = ended.iccid ?? task.iccid;
      if (ended.separately) {
        // the operation found no code for the MSP's profile (or enabled another) and downloaded nothing: the separate
        // actions take the code itself (seed: download "using an activation code", then enable)
        await fleet.tell(
          'activationNotConfirmed',
          {
            iccid,
            msp: task.msp,
            onVehicle: 'absent',
            reason: ended.message,
            needs: 'a look at the carrier configured for the MSP (the hub downloads and enables the profile separately)',
          },
          once(task, 'activationNotConfirmed separately'),
        );
        return { ...task, step: 'download', tx: undefined };
      }
      if (!ended.ok && !ended.partly) {
        if (iccid) await fleet.reportStatus(task, iccid, task.eid, 'installation_failed', once(task, 'installation_failed'));
        await fleet.tell('transactionFailed', { action: task.step, iccid, msp: task.msp, reason: ended.message }, once(task, 'transactionFailed'));
        return { ...task, iccid, done: true, tx: undefined };
      }
      if (!iccid) {
        await fleet.tell(
          'transactionFailed',
          { action: task.step, msp: task.msp, reason: 'the vehicle reported no ICCID for the profile', needs: 'the MSP told by hand' },
          once(task, 'transactionFailed'),
        );
        return { ...task, done: true, tx: undefined };
      }
      if (ended.onVehicle === 'absent') {
        // the operation said successful, yet the vehicle does not report the MSP's profile
        await fleet.reportStatus(task, iccid, task.eid, 'installation_failed', once(task, 'installation_failed'));
        await fleet.tell(
          'activationNotConfirmed',
          { iccid, msp: task.msp, onVehicle: 'absent', needs: 'the profile put on the vehicle; check the carrier configured for the MSP' },
          once(task, 'activationNotConfirmed absent'),
        );
        return { ...task, iccid, done: true, tx: undefined };
      }
      // only an operation's end that named an ICCID says where the vehicle left it (followOperation looked)
      const enabled = ended.onVehicle === 'active';
      const status: CsimStatus = enabled ? 'enabled' : 'installed';
      // the profile on the vehicle but not active (a download alone, or an operation that enabled
      // another profile or failed after its download): enabled by its ICCID, unless `enable: never`
      const enableNext = !enabled && fleet.settings.enable !== 'never';
      await fleet.saveProfile({
        iccid,
        eid: task.eid,
        deviceId: task.deviceId as string,
        msp: task.msp,
        mspToken: task.mspToken,
        status,
        task: enableNext ? task.id : undefined,
      });
      await fleet.reportStatus(task, iccid, task.eid, status, once(task, status));
      // a failed end here is an operation's that failed after its download (a download's returned above)
      if (ended.onVehicle === 'inactive' || !ended.ok) {
        // seed: with another SPN reported than the one asked for, the platform "may attempt to activate another profile"
        await fleet.tell(
          'activationNotConfirmed',
          {
            iccid,
            msp: task.msp,
            onVehicle: 'inactive',
            reason: ended.message,
            needs: 'a look at the carrier configured for the MSP (the hub enables the profile by its ICCID)',
          },
          once(task, 'activationNotConfirmed inactive'),
        );
      }
      return { ...task, iccid, tx: undefined, ...(enableNext ? { step: 'enable' as const } : { done: true }) };
    }
    case 'enable': {
      const iccid = task.iccid as string;
      const ended = await follow(fleet, task, 'enable', { iccid }, log);
      if (ended === 'wait' || isTask(ended)) return ended;
      const profile = await fleet.profile(iccid);
      if (ended.ok) {
        if (profile) await fleet.saveProfile({ ...profile, status: 'enabled', task: undefined });
        await fleet.reportStatus(task, iccid, task.eid, 'enabled', once(task, 'enabled'));
      } else {
        if (profile) await fleet.saveProfile({ ...profile, task: undefined });
        await fleet.tell(
          'transactionFailed',
          { action: 'enable', iccid, msp: task.msp, reason: ended.message, needs: 'the profile enabled on the vehicle' },
          once(task, 'transactionFailed'),
        );
      }
      return { ...task, tx: undefined, done: true };
    }
    case 'remove': {
      const iccid = task.iccid as string;
      const action = task.removal ?? 'delete';
      const ended = await follow(fleet, task, action, { iccid }, log);
      if (ended === 'wait' || isTask(ended)) return ended;
      if (ended.ok) await profileGone(fleet, task, iccid, action === 'delete' ? 'deleted' : 'disabled', task.eid);
      else
        await fleet.tell(
          'transactionFailed',
          { action, iccid, msp: task.msp, reason: ended.message, needs: `the profile ${action}d on the vehicle by hand` },
          once(task, 'transactionFailed'),
        );
      return { ...task, tx: undefined, done: true };
    }
  }
}

/** names what a step of the task tells (fleet.reportStatus): a run made again after a store call
 * lost its answer tells it once; what another look at the vehicle finds has a name of its own, so
 * the back office hears it as the MSP does */
function once(task: Task, what: string): string {
  return `${task.id} ${task.step} ${what}`;
}

function installStep(fleet: Fleet): TaskStep {
  return fleet.settings.enable === 'multistep' ? 'activate' : 'download';
}

function isTask(value: Ended | Task): value is Task {
  return 'step' in value;
}

/** the platform reports the profile on the task's vehicle */
function onVehicleOf(profile: InventoryProfile, task: Task): boolean {
  return profile.eid === task.eid || (profile.device_id !== undefined && profile.device_id === task.deviceId);
}

/**
 * A swapped profile that is not on the task's vehicle. On another vehicle: a task of its own deletes
 * it there (that vehicle may be away for weeks, AID.02 4.3.1 NOTE) and reports `deleted` with that
 * vehicle's EID. On none: the MSP hears `deleted` if the hub had put it on a vehicle.
 */
async function swappedElsewhere(fleet: Fleet, task: Task, iccid: string, holder: InventoryProfile | null): Promise<void> {
  if (!holder) {
    const known = await fleet.profile(iccid);
    if (known && known.status !== 'deleted') await profileGone(fleet, task, iccid, 'deleted', known.eid);
    return;
  }
  if (!holder.device_id || !holder.eid) {
    await fleet.tell(
      'transactionFailed',
      {
        action: 'delete',
        iccid,
        msp: task.msp,
        reason: 'the platform names no device for the swapped profile',
        needs: 'the swapped profile deleted from its vehicle by hand',
      },
      once(task, 'transactionFailed without a device'),
    );
    return;
  }
  await fleet.startTask({
    id: `swap ${task.id}`,
    kind: 'remove',
    msp: task.msp,
    mspToken: task.mspToken,
    correlationId: task.correlationId,
    eid: holder.eid,
    deviceId: holder.device_id,
    iccid,
    removal: 'delete',
    step: 'remove',
  });
}

/**
 * Starts `action` when no transaction is under way (the task comes back with it, saved at once so
 * that a crash never starts it twice), else looks at it: its end, or 'wait'. A platform that
 * refuses to start it (4xx) ends it as failed.
 */
async function follow(
  fleet: Fleet,
  task: Task,
  action: Action,
  body: { iccid?: string; activation_code?: string },
  log: Logger,
): Promise<Ended | Task | 'wait'> {
  if (!task.tx) {
    const device = { device_id: task.deviceId as string, eid: task.eid };
    const start =
      action === 'download'
        ? () => fleet.client.download(device, body.activation_code, body.iccid, log)
        : () => fleet.client.act(action, { ...device, ...body }, log);
    return begin(fleet, task, action, log, start, body.iccid);
  }
  const progress = await fleet.client.progress(task.tx, log);
  if (progress.status !== 'complete' && progress.status !== 'failed') return 'wait';
  ended(fleet, task, action, progress.status);
  return { ok: progress.status === 'complete', iccid: progress.iccid, message: progress.message };
}

/** the multistep operation (download and enable, seed: operation `activate`), with the SPN the
 * platform should expect for the MSP */
async function followOperation(fleet: Fleet, task: Task, log: Logger): Promise<Ended | Task | 'wait'> {
  if (!task.tx) {
    const carrier = fleet.settings.carriers.get(task.msp);
    const body = {
      operation: 'activate',
      device_id: task.deviceId,
      eid: task.eid,
      iccid: task.iccid,
      activation_code: task.activationCode,
      ...(carrier ? { carrier } : {}),
    };
    return begin(fleet, task, 'activate', log, () => fleet.client.startOperation(body, log), task.iccid);
  }
  const operation = await fleet.client.operation(task.tx, log);
  if (operation.status !== 'successful' && operation.status !== 'failed') return 'wait';
  const iccid = task.iccid ?? operation.iccid;
  // an operation `successful` may have activated another profile (seed: the SPN warning), and one
  // `failed` may have failed after its download (an enable that found no profile of the SPN): what
  // the vehicle reports of the MSP's profile decides
  const seen = iccid ? await fleet.client.profile(iccid, log) : undefined;
  ended(fleet, task, 'activate', operation.status === 'successful' ? 'complete' : 'failed');
  const onVehicle = seen === undefined ? undefined : seen === null || !onVehicleOf(seen, task) ? 'absent' : seen.status === 'active' ? 'active' : 'inactive';
  const ok = operation.status === 'successful';
  // seed: the carrier is "Used to find a matching activation code or existing profile": one that
  // found no code downloaded nothing (no `download_tx`), and the MSP's code can still be downloaded
  const separately = onVehicle === 'absent' && operation.download_tx === undefined && task.activationCode !== undefined;
  const partly = !ok && (onVehicle === 'active' || onVehicle === 'inactive' || (onVehicle === undefined && operation.enable_tx !== undefined));
  // the ICCID looked at, which `onVehicle` is about: an operation that names another (seed: the
  // carrier finds the code, which may be another than the MSP's) tells nothing of the MSP's profile
  return { ok, partly, separately, iccid, message: operation.message, onVehicle };
}

/**
 * Starts an action, or finds the one an instance started before it died: the task records that it
 * is starting it before it asks the platform, so a task found in that state asks the platform for
 * a transaction of the action since then instead of starting a second. The task comes back with the
 * transaction; a platform that refuses to start it (4xx) ends it as failed.
 */
async function begin(
  fleet: Fleet,
  task: Task,
  action: Action | 'activate',
  log: Logger,
  start: () => Promise<string>,
  iccid: string | undefined,
): Promise<Ended | Task> {
  const deviceId = task.deviceId as string;
  const adopted = task.starting?.action === action ? await fleet.client.startedSince(action, deviceId, task.starting.at - 1000, iccid, log) : undefined;
  if (adopted) return { ...task, tx: adopted, txStartedAt: task.starting?.at, starting: undefined };
  const at = Date.now();
  await fleet.saveTask({ ...task, starting: { action, at } });
  let tx: string;
  try {
    tx = await start();
  } catch (err) {
    if (err instanceof DevicePlatformError && !isPlatformAway(err)) return { ok: false, message: err.message };
    throw err;
  }
  fleet.metrics.transactions.inc({ cmp: fleet.id, action, outcome: 'started' });
  return { ...task, tx, txStartedAt: at, starting: undefined };
}

function ended(fleet: Fleet, task: Task, action: string, outcome: string): void {
  fleet.metrics.transactions.inc({ cmp: fleet.id, action, outcome });
  if (task.txStartedAt !== undefined) fleet.metrics.transactionDuration.observe({ cmp: fleet.id, action, outcome }, (Date.now() - task.txStartedAt) / 1000);
}

/** the profile is off vehicle `eid` (the one it was on) */
async function profileGone(fleet: Fleet, task: Task, iccid: string, status: 'deleted' | 'disabled', eid: string): Promise<void> {
  const profile = await fleet.profile(iccid);
  if (profile) await fleet.saveProfile({ ...profile, status, task: undefined });
  await fleet.reportStatus(
    { msp: profile?.msp ?? task.msp, mspToken: profile?.mspToken ?? task.mspToken, correlationId: task.correlationId },
    iccid,
    eid,
    status,
    once(task, `${iccid} ${status}`),
  );
}

/** the platform action a step stands for */
function actionOf(task: Task): string {
  return task.step === 'removeSwapped' ? 'delete' : task.kind === 'remove' ? (task.removal ?? 'delete') : task.step;
}

/**
 * A step that cannot go on: the platform refused a lookup or a poll (4xx), or the task ran out of
 * time. The back office hears `event`; the MSP hears the truth it can be told (AID.02 7.8 statuses):
 * a profile that never reached the vehicle is `installation_failed`. A swapped profile's delete that
 * fails holds up no new profile: the install goes on.
 */
async function stepFailed(fleet: Fleet, task: Task, event: 'transactionFailed' | 'transactionGaveUp', reason: string): Promise<Task> {
  const swap = task.step === 'removeSwapped';
  const needs = swap
    ? 'the swapped profile deleted from the vehicle by hand'
    : task.kind === 'remove'
      ? `the profile ${actionOf(task)}d on the vehicle by hand`
      : 'a look at the vehicle';
  const iccid = swap ? task.swappedIccid : task.iccid;
  const seconds = event === 'transactionGaveUp' ? { seconds: fleet.settings.giveUpSeconds } : {};
  await fleet.tell(event, { action: actionOf(task), step: task.step, iccid, msp: task.msp, eid: task.eid, reason, ...seconds, needs }, once(task, event));
  if (swap && event === 'transactionFailed') return { ...task, step: installStep(fleet), tx: undefined, starting: undefined };
  const installing = task.kind === 'provision' && (task.step === 'device' || swap || task.step === 'download' || task.step === 'activate');
  if (installing && task.iccid) await fleet.reportStatus(task, task.iccid, task.eid, 'installation_failed', once(task, 'installation_failed'));
  return { ...task, tx: undefined, starting: undefined, done: true };
}

async function giveUp(fleet: Fleet, task: Task): Promise<void> {
  ended(fleet, task, actionOf(task), 'gave_up');
  // seed: the inventory lists profiles, so a vehicle whose eSIM reports none is not in it
  const reason =
    task.step === 'device'
      ? `no vehicle with EID ${task.eid} in the platform's inventory (an eSIM that reports no profile is not listed)`
      : `the ${actionOf(task)} did not end within ${fleet.settings.giveUpSeconds} s`;
  // told before the task is marked done: a run made again tells it once, and none is left untold
  await fleet.saveTask(await stepFailed(fleet, task, 'transactionGaveUp', reason));
}
