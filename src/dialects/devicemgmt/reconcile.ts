/**
 * What happened on the vehicles without the hub: Request Profile Status is not something a CMP
 * serves (AID.02 7.10 goes the other way), so the hub reads the platform's inventory now and then
 * (one hub instance per period) and tells each MSP, as Send CSIM Status, what changed on the
 * profiles the hub put on vehicles: `enabled` when the profile is active and the MSP last heard
 * otherwise, `disabled` when an enabled one is inactive, `deleted` when the vehicles no longer report
 * it. It pages with the inventory's cursor (the bulk CSV call caps at 20,000 rows). A profile a task
 * is working on is left to the task.
 */
import type { Logger } from '../../log';
import type { CsimStatus } from '../../esim/csimStatus';
import type { Fleet, VehicleProfile } from './fleet';
import type { InventoryProfile } from './platformClient';

/** pages read in one reconcile at most: 1,000 profiles each */
const MAX_PAGES = 1000;

export async function reconcile(fleet: Fleet, log: Logger): Promise<void> {
  // one instance per period: the claim is never released, it expires with the period
  if (!(await fleet.claim('reconcile', fleet.settings.reconcileIntervalSeconds * 1000))) return;
  const reported = new Map<string, InventoryProfile>();
  let cursor: string | undefined;
  let pages = 0;
  do {
    const page = await fleet.client.inventory(fleet.settings.inventoryQuery, cursor, log);
    for (const p of page.profiles) reported.set(p.iccid, p);
    cursor = page.cursor;
    pages += 1;
  } while (cursor && pages < MAX_PAGES);
  if (cursor) log.warn({ pages }, 'reconcile stopped before the end of the inventory');
  for (const profile of await fleet.allProfiles()) {
    if (profile.status === 'deleted' || (profile.task && !(await fleet.task(profile.task))?.done)) continue;
    const status = changed(profile, reported.get(profile.iccid), !cursor);
    if (!status) continue;
    // queued before the profile records it: a save that fails leaves it to be told again, never untold
    await fleet.reportStatus(profile, profile.iccid, profile.eid, status);
    await fleet.saveProfile({ ...profile, status, task: undefined });
    fleet.metrics.reconciled.inc({ cmp: fleet.id, status });
    log.info({ status }, 'a profile changed on a vehicle without the hub; the MSP is told');
  }
}

/** the status to report, or undefined when the MSP already knows it; a profile missing from an
 * inventory read only in part is not taken for deleted */
function changed(profile: VehicleProfile, seen: InventoryProfile | undefined, complete: boolean): CsimStatus | undefined {
  if (!seen) return complete ? 'deleted' : undefined;
  if (seen.status === 'active' && profile.status !== 'enabled') return 'enabled';
  if (seen.status === 'inactive' && profile.status === 'enabled') return 'disabled';
  return undefined;
}
