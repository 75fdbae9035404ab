/** How an ES2+ operator's profile moves, and what AID.02 status the CMP is told. */
import { afterProgress, NOTIFICATION_POINTS } from '../../src/dialects/es2plus/profileStates';
import { afterCsimStatus, aid02Status, eventOf, isCancellable, isLive, type ProfileState } from '../../src/hostedMsp/profileStates';

test.each<[ProfileState, number, boolean, ProfileState]>([
  ['released', 1, true, 'released'],
  ['released', 1, false, 'installationFailed'],
  ['released', 2, false, 'installationFailed'],
  ['released', 3, true, 'downloaded'],
  ['released', 3, false, 'installationFailed'],
  ['downloaded', 4, true, 'installed'],
  ['downloaded', 4, false, 'installationFailed'],
  ['installationFailed', 3, true, 'installationFailed'],
  ['installationFailed', 4, true, 'installed'],
  ['released', 117, false, 'released'],
  ['released', 50, true, 'released'],
  // what the vehicle reported is never undone by a late download report
  ['enabled', 4, true, 'enabled'],
  ['disabled', 3, false, 'disabled'],
  ['installed', 1, false, 'installed'],
  ['swapped', 4, true, 'swapped'],
  ['cancelled', 3, true, 'cancelled'],
  ['ordered', 3, true, 'ordered'],
])('%s + point %d (%s) -> %s', (state, point, ok, expected) => {
  expect(afterProgress(state, point, ok)).toBe(expected);
});

test.each<[ProfileState, Parameters<typeof afterCsimStatus>[1], ProfileState]>([
  ['released', 'installed', 'installed'],
  ['installed', 'enabled', 'enabled'],
  ['enabled', 'disabled', 'disabled'],
  ['released', 'installation_failed', 'installationFailed'],
  ['enabled', 'deleted', 'deleted'],
  ['swapped', 'deleted', 'deleted'],
  ['swapped', 'enabled', 'swapped'],
  ['cancelled', 'installed', 'cancelled'],
])('%s + CSIM %s -> %s', (state, status, expected) => {
  expect(afterCsimStatus(state, status)).toBe(expected);
});

test.each<[ProfileState, string | undefined, boolean, boolean]>([
  ['ordered', undefined, true, true],
  ['released', 'prepared', true, true],
  ['downloaded', 'prepared', true, false],
  ['installationFailed', 'prepared', true, false],
  ['installed', 'installed', true, false],
  ['enabled', 'enabled', true, false],
  ['disabled', 'disabled', true, false],
  ['deleted', undefined, false, false],
  ['swapped', undefined, false, false],
  ['cancelled', undefined, false, false],
])('%s: AID.02 status %s, holds a slot %s, cancellable %s', (state, status, live, cancellable) => {
  expect(aid02Status(state)).toBe(status);
  expect(isLive(state)).toBe(live);
  expect(isCancellable(state)).toBe(cancellable);
});

// the metric's event names are AID.02's status spelling (installation_failed), the rest the state itself
test.each<[ProfileState, string]>([
  ['installationFailed', 'installation_failed'],
  ['installed', 'installed'],
  ['released', 'released'],
])('a profile %s is counted as the event %s', (state, event) => {
  expect(eventOf(state)).toBe(event);
});

// the ES2+ seed's notificationPointId: "Defined check points are (1): '1' -> Eligibility and retry
// limit check '2' -> Confirmation Failure '3' -> BPP download ... '4' -> BPP installation"; the log names them so
test("the download progress points are the seed's four, by the seed's names", () => {
  expect(NOTIFICATION_POINTS).toEqual({ 1: 'eligibility and retry limit check', 2: 'confirmation failure', 3: 'BPP download', 4: 'BPP installation' });
});
