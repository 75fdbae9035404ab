/**
 * What happened on the vehicles without the hub: Request Profile Status is not something a CMP
 * serves (AID.02 7.10 goes the other way), so the hub reads the platform's inventory now and then
 * (one hub instance per period) and tells each MSP, as Send CSIM Status, what changed on the
 * profiles the hub put on vehicles: `enabled` when the profile is active and the MSP last heard
 * otherwise, `disabled` when an enabled one is inactive, `deleted` when the vehicles no longer report
 * it. It pages with the inventory's cursor (the bulk CSV call caps at 20,000 rows). `deleted` only
 * after a read known to be complete: the last page short of full and without a cursor, or the
 * profile's own `inventory/{iccid}` saying no vehicle reports it (a full page without a cursor may
 * not be the end). A profile a task is working on is left to the task. A platform away ends the run
 * quietly (the client warned once); the next period tries again.
 */
import type { Logger } from '../../log';
import type { CsimStatus } from '../../esim/csimStatus';
import type { Fleet, VehicleProfile } from './fleet';
import { isPlatformAway, type InventoryProfile } from './platformClient';

/** pages read in one reconcile at most: 1,000 profiles each */
const MAX_PAGES = 1000;

export async function reconcile(fleet: Fleet, log: Logger): Promise<void> {
  // one instance per period: the claim is never released, it expires with the period
  if (!(await fleet.claim('reconcile', fleet.settings.reconcileIntervalSeconds * 1000))) return;
  try {
    await readAndReport(fleet, log);
  } catch (err) {
    if (!isPlatformAway(err)) throw err;
    log.debug('reconcile skipped: the device-management platform is away');
  }
}

async function readAndReport(fleet: Fleet, log: Logger): Promise<void> {
  const reported = new Map<string, InventoryProfile>();
  let cursor: string | undefined;
  let complete = false;
  let pages = 0;
  do {
    const page = await fleet.client.inventory(fleet.settings.inventoryQuery, cursor, log);
    for (const p of page.profiles) reported.set(p.iccid, p);
    cursor = page.cursor;
    complete = page.last;
    pages += 1;
  } while (cursor && pages < MAX_PAGES);
  if (cursor) log.warn({ pages }, 'reconcile stopped before the end of the inventory');
  for (const profile of await fleet.allProfiles()) {
    if (profile.status === 'deleted' || (profile.task && !(await fleet.task(profile.task))?.done)) continue;
    // missing from a read not known complete: the profile's own read decides (null: on no vehicle)
    const seen = reported.get(profile.iccid) ?? (complete ? null : await fleet.client.profile(profile.iccid, log));
    const status = changed(profile, seen);
    if (!status) continue;
    // queued before the profile records it: a save that fails leaves it to be told again, never untold
    await fleet.reportStatus(profile, profile.iccid, profile.eid, status);
    await fleet.saveProfile({ ...profile, status, task: undefined });
    fleet.metrics.reconciled.inc({ cmp: fleet.id, status });
    log.info({ status }, 'a profile changed on a vehicle without the hub; the MSP is told');
  }
}

/** the status to report, or undefined when the MSP already knows it; `seen` null: no vehicle reports it */
function changed(profile: VehicleProfile, seen: InventoryProfile | null): CsimStatus | undefined {
  if (!seen) return 'deleted';
  if (seen.status === 'active' && profile.status !== 'enabled') return 'enabled';
  if (seen.status === 'inactive' && profile.status === 'enabled') return 'disabled';
  return undefined;
}
