/**
 * The dialects' own steps in a user's journey, beside the AID.02 messages that stand for them: the
 * ES2+ functions on the SM-DP+ (DownloadOrder, ConfirmOrder, HandleDownloadProgressInfo), a
 * TelcoAPI platform's profile events, a device-management platform's transactions on a vehicle.
 * Each world is the dialect's own end-to-end world (real servers on 127.0.0.1), on each store.
 */
import { createPki } from '../support/certs';
import { Es2World, newEid } from '../support/es2World';
import { FleetWorld } from '../support/fleetWorld';
import { TelcoWorld } from '../support/telcoWorld';
import { request, type TestHub } from '../support/testHub';
import { waitFor } from '../support/waitFor';

jest.setTimeout(60000);

interface Event {
  readonly operation: string;
  readonly outcome: string;
  readonly iccid?: string;
  readonly eid?: string;
  readonly vehicle?: string;
  readonly requestId?: string;
}

async function eventsOf(hub: TestHub, token: string): Promise<Event[]> {
  const answer = await request(`${hub.hub.adminUrl}/admin/journeys/${token}`, {});
  return answer.status === 200 ? (answer.body.events as Event[]) : [];
}

async function eventsOnceThere(hub: TestHub, token: string, operation: string): Promise<Event[]> {
  await waitFor(async () => (await eventsOf(hub, token)).some((e) => e.operation === operation));
  return eventsOf(hub, token);
}

describe.each(['redis', 'memory'] as const)('%s store', (store) => {
  test('ES2+: DownloadOrder and ConfirmOrder within Request Activation Code, then HandleDownloadProgressInfo', async () => {
    const world = await Es2World.start({ pki: createPki(), store });
    try {
      const token = await world.onboard();
      const eid = newEid();
      const answer = await world.requestCode(token, { eid });
      expect(answer.status).toBe(200);
      await world.smdp.download(answer.body.activationCode, eid);
      const events = await eventsOnceThere(world.hub, token, 'ES2+ HandleDownloadProgressInfo');
      const names = events.map((e) => e.operation);
      expect(names.slice(0, 4)).toEqual(['sendMspToken', 'ES2+ DownloadOrder', 'ES2+ ConfirmOrder', 'requestActivationCode']);
      expect(events[1]).toMatchObject({ outcome: 'ordered', iccid: `…${answer.body.iccid.slice(-4)}`, eid: `…${eid.slice(-4)}` });
      expect(events[2]).toMatchObject({ outcome: 'released' });
      expect(events.filter((e) => e.operation === 'ES2+ HandleDownloadProgressInfo').map((e) => e.outcome)).toContain('installed');
    } finally {
      await world.close();
    }
  });

  test("TelcoAPI: the platform's profile events join the journey of the profile's token", async () => {
    const world = await TelcoWorld.start({ store });
    try {
      const token = await world.onboard();
      const eid = newEid();
      const answer = await world.requestCode(token, { eid });
      expect(answer.status).toBe(200);
      expect((await world.platform.sendEvent('PROFILE_ENABLED', answer.body.iccid)).status).toBe(200);
      const events = await eventsOnceThere(world.hub, token, 'telcoapi profile enabled');
      expect(events.map((e) => e.operation)).toEqual(
        expect.arrayContaining(['sendMspToken', 'requestActivationCode', 'telcoapi profile released', 'telcoapi profile enabled']),
      );
      expect(events.find((e) => e.operation === 'telcoapi profile enabled')).toMatchObject({ iccid: `…${answer.body.iccid.slice(-4)}` });
    } finally {
      await world.close();
    }
  });

  test('device management: the transactions on the vehicle, by its device id, until the profile is enabled', async () => {
    const world = await FleetWorld.start({ store });
    try {
      const token = await world.onboard();
      const car = world.vehicles[0];
      const answer = await world.requestCode(token, car);
      expect(answer.status).toBe(200);
      const events = await eventsOnceThere(world.hub, token, 'delivery.sendCsimStatus');
      const steps = events.filter((e) => e.operation.startsWith('device management provision'));
      expect(steps.map((e) => e.operation)).toEqual(expect.arrayContaining(['device management provision download', 'device management provision enable']));
      expect(steps.find((e) => e.vehicle !== undefined)?.vehicle).toBe(`…${car.deviceId.slice(-4)}`);
      await waitFor(async () => (await eventsOf(world.hub, token)).some((e) => e.operation.startsWith('device management provision') && e.outcome === 'done'));
    } finally {
      await world.close();
    }
  });
});
