/**
 * The device-management dialect against platforms built to the seed (`/ws/v1/esim_profiles`) in each
 * of its readings: the simulator plays one reading per test (docs/dialects/devicemgmt.md,
 * lists them), and the hub must drive it right: a swapped profile deleted on the vehicle that holds
 * it, a multistep `activate` checked against what the vehicle reports, `deleted` only after a read
 * known complete, a transaction `unknown` or without status not taken as ended, and a platform
 * outage one warning that leaves the CMP's own traffic alone. Real Redis, real HTTP servers.
 */
import { randomUUID } from 'node:crypto';
import type { DeviceMgmtReadings } from '../../src/dialects/devicemgmt/simulator';
import { FleetWorld } from '../support/fleetWorld';
import { notifyMspTokenInvalidBody, paths, sendMspTokenBody } from '../support/messages';
import { waitFor } from '../support/waitFor';

jest.setTimeout(60000);

const statusesOf = (w: FleetWorld, token: string) => w.statuses(token).map((s) => `${s.iccid} ${s.status}`);

async function withWorld(options: Parameters<typeof FleetWorld.start>[0], run: (world: FleetWorld) => Promise<void>): Promise<void> {
  const world = await FleetWorld.start(options);
  try {
    await run(world);
  } finally {
    await world.close();
  }
}

// AID.02 4.3.1 2c: "the CMP will delete the Operational Profile which was specified by the MSP from
// the vehicle on which it was downloaded"; seed: `GET inventory/{iccid}` "Retrieve an eSIM profile by
// ICCID", answered with the profile or (reading `list`) with a list of it
test.each(['object', 'list'] as const)(
  "a swap deletes the swapped profile on the vehicle that holds it, reported deleted with that vehicle's EID (inventory/{iccid} as %s)",
  (single) =>
    withWorld({ vehicles: 2, simulator: { readings: { single } } }, async (world) => {
      const [first, second] = world.vehicles;
      const token = await world.onboard();
      const old = (await world.requestCode(token, first)).body.iccid as string;
      await waitFor(() => statusesOf(world, token).includes(`${old} enabled`), 15000);
      const requestId = randomUUID();
      world.swaps.set(requestId, old);
      const fresh = (await world.requestCode(token, second, requestId)).body.iccid as string;
      await waitFor(() => statusesOf(world, token).includes(`${fresh} enabled`) && statusesOf(world, token).includes(`${old} deleted`), 15000);
      expect(world.statuses(token).find((s) => s.iccid === old && s.status === 'deleted')?.eid).toBe(first.eid);
      const deletes = world.platform.calls.filter((c) => c.method === 'POST' && c.path === '/delete');
      expect(deletes.map((c) => c.body)).toEqual([{ device_id: first.deviceId, eid: first.eid, iccid: old }]);
      expect(world.profilesOn(first)).toEqual([]);
      expect(world.profilesOn(second)).toEqual([expect.objectContaining({ iccid: fresh, status: 'active' })]);
      expect(world.events('transactionFailed')).toEqual([]);
    }),
);

// AID.02 4.3.1 2c, and the seed: "eSIM profiles are created or deleted in the system only when the
// device reports successful profile actions": a profile no vehicle reports is off every vehicle
test('a swap of a profile no vehicle reports any more: no delete is sent, the MSP hears deleted with the EID it was on', () =>
  withWorld({ vehicles: 2 }, async (world) => {
    const [first, second] = world.vehicles;
    const token = await world.onboard();
    const old = (await world.requestCode(token, first)).body.iccid as string;
    await waitFor(() => statusesOf(world, token).includes(`${old} enabled`), 15000);
    world.platform.change(old, 'deleted');
    const requestId = randomUUID();
    world.swaps.set(requestId, old);
    const fresh = (await world.requestCode(token, second, requestId)).body.iccid as string;
    await waitFor(() => statusesOf(world, token).includes(`${fresh} enabled`), 15000);
    expect(
      world
        .statuses(token)
        .filter((s) => s.iccid === old)
        .map((s) => `${s.status} ${s.eid}`),
    ).toEqual([`installed ${first.eid}`, `enabled ${first.eid}`, `deleted ${first.eid}`]);
    expect(world.platform.calls.filter((c) => c.path === '/delete')).toEqual([]);
  }));

// seed: "The APIs for delete, disable, download and enable return a transaction ID": named
// `transaction` (as in the transaction data) or `id`
test.each(['transaction', 'id'] as const)('an action answered with its transaction id as %s is followed to its end', (actionAnswer) =>
  withWorld({ vehicles: 1, simulator: { readings: { actionAnswer } } }, async (world) => {
    const token = await world.onboard();
    const iccid = (await world.requestCode(token, world.vehicles[0])).body.iccid as string;
    await waitFor(() => statusesOf(world, token).includes(`${iccid} enabled`), 15000);
    expect(statusesOf(world, token)).toEqual([`${iccid} installed`, `${iccid} enabled`]);
  }),
);

describe('multistep activate', () => {
  // seed: operations/inventory/{id} is listed with "cursor size query orderby": the operation as the
  // object itself or as a list of it
  test.each(['object', 'list'] as const)('an operation read as %s: successful and the profile active on the vehicle -> enabled', (single) =>
    withWorld({ vehicles: 1, settings: { enable: 'multistep' }, simulator: { readings: { single } } }, async (world) => {
      const token = await world.onboard();
      const iccid = (await world.requestCode(token, world.vehicles[0])).body.iccid as string;
      await waitFor(() => statusesOf(world, token).length > 0, 15000);
      expect(statusesOf(world, token)).toEqual([`${iccid} enabled`]);
      expect(world.platform.calls.some((c) => c.path === `/inventory/${iccid}`)).toBe(true);
    }),
  );

  // seed: "If you try to activate “Fred’s Fast Wireless Service” profile on a device but the system
  // sees only “Mobile” being reported, it may attempt to activate another profile"
  test('successful, yet another profile activated (the SPN warning): the MSP hears installed, the hub enables its profile by ICCID, then enabled', () =>
    withWorld({ vehicles: 1, settings: { enable: 'multistep' }, simulator: { reportedCarrier: "Fred's Fast Wireless Service" } }, async (world) => {
      const car = world.vehicles[0];
      // a profile of another supplier already on the car that reports the SPN configured for the MSP
      world.platform.devices
        .get(car.deviceId)
        ?.profiles.set('8949000000000000017', { iccid: '8949000000000000017', status: 'inactive', carrier: 'Mobile', type: 'operational' });
      const token = await world.onboard();
      const iccid = (await world.requestCode(token, car)).body.iccid as string;
      await waitFor(() => statusesOf(world, token).includes(`${iccid} enabled`), 15000);
      expect(statusesOf(world, token)).toEqual([`${iccid} installed`, `${iccid} enabled`]);
      expect(world.events('activationNotConfirmed')[0]).toMatchObject({ iccid, msp: 'mspA', onVehicle: 'inactive' });
      expect(world.platform.calls.filter((c) => c.path === '/enable').map((c) => c.body.iccid)).toEqual([iccid]);
      expect(world.profilesOn(car)).toContainEqual(expect.objectContaining({ iccid, status: 'active' }));
      expect(world.profilesOn(car)).toContainEqual(expect.objectContaining({ iccid: '8949000000000000017', status: 'inactive' }));
    }));

  // seed: the carrier is "Used to find a matching activation code or existing profile on the device":
  // a platform that finds an existing profile of that SPN enables it and downloads nothing
  test("successful on an existing profile of the SPN, the MSP's never downloaded: the hub downloads and enables it separately", () =>
    withWorld({ vehicles: 1, settings: { enable: 'multistep' }, simulator: { readings: { operationFinds: 'existingProfile' } } }, async (world) => {
      const car = world.vehicles[0];
      world.platform.devices
        .get(car.deviceId)
        ?.profiles.set('8949000000000000025', { iccid: '8949000000000000025', status: 'inactive', carrier: 'Mobile', type: 'operational' });
      const token = await world.onboard();
      const iccid = (await world.requestCode(token, car)).body.iccid as string;
      await waitFor(() => statusesOf(world, token).includes(`${iccid} enabled`), 15000);
      expect(statusesOf(world, token)).toEqual([`${iccid} installed`, `${iccid} enabled`]);
      expect(world.events('activationNotConfirmed')[0]).toMatchObject({ iccid, msp: 'mspA', onVehicle: 'absent' });
      expect(world.profilesOn(car)).toContainEqual(expect.objectContaining({ iccid, status: 'active' }));
    }));

  // seed: the carrier is used "to find a matching activation code", and "the carrier providing an
  // activation code might be “Fred’s Fast Wireless Service”, but the SPN reported by the eSIM
  // profile might be “Mobile”": a platform that finds the code by the supplier's name finds none for
  // the SPN (nor for a code it does not hold): the operation fails having downloaded nothing
  test.each([
    ["the SPN configured, the code registered under the supplier's name", { supplier: "Fred's Fast Wireless Service" }],
    ['the code not registered with the platform', false],
  ] as const)("an operation that finds no code (%s): the hub downloads the MSP's code and enables it separately", (_name, registration) =>
    withWorld({ vehicles: 1, settings: { enable: 'multistep' }, simulator: { readings: { operationFinds: 'codeByCarrier' } } }, async (world) => {
      world.parts.registration = registration;
      const car = world.vehicles[0];
      const token = await world.onboard();
      const answer = await world.requestCode(token, car);
      const iccid = answer.body.iccid as string;
      await waitFor(() => statusesOf(world, token).includes(`${iccid} enabled`), 15000);
      expect(statusesOf(world, token)).toEqual([`${iccid} installed`, `${iccid} enabled`]);
      expect(world.platform.calls.filter((c) => c.path === '/download').map((c) => c.body.activation_code)).toEqual([answer.body.activationCode]);
      expect(world.profilesOn(car)).toEqual([expect.objectContaining({ iccid, status: 'active' })]);
    }),
  );

  // docs/dialects/devicemgmt.md: a platform that "refuses an action (4xx) fails that step", a poll
  // too; AID.02 7.8: the profile never reached the vehicle as far as the hub knows: installation_failed
  test("the operation's progress answered 404: installation_failed, the back office told of the activate", () =>
    withWorld({ vehicles: 1, settings: { enable: 'multistep' } }, async (world) => {
      world.platform.refuseNext('/operations/inventory/', 404);
      const token = await world.onboard();
      const iccid = (await world.requestCode(token, world.vehicles[0])).body.iccid as string;
      await waitFor(() => statusesOf(world, token).length > 0 && world.events('transactionFailed').length > 0, 15000);
      expect(statusesOf(world, token)).toEqual([`${iccid} installation_failed`]);
      expect(world.events('transactionFailed')).toEqual([
        expect.objectContaining({ action: 'activate', step: 'activate', iccid, msp: 'mspA', needs: 'a look at the vehicle' }),
      ]);
    }));

  // the same warning with the supplier's name configured: the operation downloads the code, but its
  // enable finds no profile reporting that name and the operation fails with the profile on the car
  test("failed after its download (no profile reports the supplier's name): installed, then the hub enables it by ICCID", () =>
    withWorld(
      {
        vehicles: 1,
        settings: { enable: 'multistep', carriers: { mspA: "Fred's Fast Wireless Service" } },
        simulator: { readings: { operationFinds: 'codeByCarrier' } },
      },
      async (world) => {
        world.parts.registration = { supplier: "Fred's Fast Wireless Service" };
        const car = world.vehicles[0];
        const token = await world.onboard();
        const iccid = (await world.requestCode(token, car)).body.iccid as string;
        await waitFor(() => statusesOf(world, token).includes(`${iccid} enabled`), 15000);
        expect(statusesOf(world, token)).toEqual([`${iccid} installed`, `${iccid} enabled`]);
        expect(world.platform.calls.filter((c) => c.path === '/download')).toEqual([]);
        expect(world.platform.calls.filter((c) => c.path === '/enable').map((c) => c.body.iccid)).toEqual([iccid]);
      },
    ));
});

// seed: `iccid` "If the activation code is registered with the system, then required for download";
// `activation_code` "Only required if the activation code is not already registered with the system.
// If the activation code is already registered with the system, then use the iccid for download"
describe.each<[string, DeviceMgmtReadings['downloadBody'], false | object, string[][]]>([
  ['any body', 'either', {}, [['activation_code', 'iccid']]],
  ['an unregistered code never with an ICCID', 'exclusive', false, [['activation_code', 'iccid'], ['activation_code']]],
  ['a registered code with its ICCID', 'iccidWhenRegistered', {}, [['activation_code', 'iccid']]],
])("the download of the MSP's code, a platform that takes %s", (_name, downloadBody, registration, bodies) => {
  test('is started and followed: installed, then enabled', () =>
    withWorld({ vehicles: 1, simulator: { readings: { downloadBody } } }, async (world) => {
      world.parts.registration = registration;
      const token = await world.onboard();
      const iccid = (await world.requestCode(token, world.vehicles[0])).body.iccid as string;
      await waitFor(() => statusesOf(world, token).includes(`${iccid} enabled`), 15000);
      expect(statusesOf(world, token)).toEqual([`${iccid} installed`, `${iccid} enabled`]);
      expect(
        world.platform.calls.filter((c) => c.path === '/download').map((c) => Object.keys(c.body).filter((k) => k === 'activation_code' || k === 'iccid')),
      ).toEqual(bodies);
      // a form refused on the way is expected: no warning
      expect(world.hub.logs.map((l) => JSON.parse(l) as { level: number; msg: string }).filter((l) => l.level >= 40 && l.msg.includes('refused'))).toEqual([]);
    }));
});

// docs/dialects/devicemgmt.md: a platform that "refuses an action (4xx) fails that step"; a lookup or a poll it refuses
// too: the task goes on to its end (AID.02 7.8: a profile that never reached the car is
// installation_failed), on either store
describe.each(['memory', 'redis'] as const)('a refused lookup or poll (%s store)', (store) => {
  test("the transaction's progress answered 404: the download fails, installation_failed, the back office told", () =>
    withWorld({ vehicles: 1, store }, async (world) => {
      world.platform.refuseNext('/progress/', 404);
      const token = await world.onboard();
      const iccid = (await world.requestCode(token, world.vehicles[0])).body.iccid as string;
      await waitFor(() => statusesOf(world, token).length > 0 && world.events('transactionFailed').length > 0, 15000);
      expect(statusesOf(world, token)).toEqual([`${iccid} installation_failed`]);
      expect(world.events('transactionFailed')[0]).toMatchObject({ action: 'download', iccid, msp: 'mspA' });
      // the task ended: its delivery done, nothing left to retry
      await waitFor(async () => (await world.hub.metric('aid_gateway_outbox_events_total', { target: 'cmpF', event: 'delivered' })) >= 2, 5000);
      const polls = world.platform.calls.filter((c) => c.path.startsWith('/progress/')).length;
      await new Promise((resolve) => setTimeout(resolve, 1500));
      expect(world.platform.calls.filter((c) => c.path.startsWith('/progress/')).length).toBe(polls);
    }));

  test('the device lookup refused 400: installation_failed, the back office told', () =>
    withWorld({ vehicles: 1, store }, async (world) => {
      world.platform.refuseNext('/inventory?size=1000&query=', 400);
      const token = await world.onboard();
      const iccid = (await world.requestCode(token, world.vehicles[0])).body.iccid as string;
      await waitFor(() => statusesOf(world, token).length > 0 && world.events('transactionFailed').length > 0, 15000);
      expect(statusesOf(world, token)).toEqual([`${iccid} installation_failed`]);
      expect(world.events('transactionFailed')[0]).toMatchObject({ action: 'device', iccid, msp: 'mspA' });
      expect(world.platform.calls.filter((c) => c.path === '/download')).toEqual([]);
    }));
});

// AID.02 7.8: Send CSIM Status notifies "the MSP of OP status updates", and seed: a transaction's
// status `failed` is one the vehicle did not carry out: a failed enable or delete is no update for
// the MSP (the profile stays installed, or on the vehicle), only a task for the back office
describe('an action the vehicle fails', () => {
  test('the enable: the MSP hears installed only, the back office transactionFailed naming the enable', () =>
    withWorld({ vehicles: 1 }, async (world) => {
      world.platform.failNext('enable', 'the eSIM refused to enable the profile');
      const token = await world.onboard();
      const iccid = (await world.requestCode(token, world.vehicles[0])).body.iccid as string;
      await waitFor(() => world.events('transactionFailed').length > 0 && statusesOf(world, token).length > 0, 15000);
      expect(world.events('transactionFailed')[0]).toMatchObject({
        action: 'enable',
        iccid,
        msp: 'mspA',
        reason: 'the eSIM refused to enable the profile',
        needs: 'the profile enabled on the vehicle',
      });
      expect(statusesOf(world, token)).toEqual([`${iccid} installed`]);
      expect(world.profilesOn(world.vehicles[0])).toContainEqual(expect.objectContaining({ iccid, status: 'inactive' }));
    }));

  test('the delete after Notify MSP Token Invalid: the MSP does not hear deleted, the back office is told to delete it by hand', () =>
    withWorld({ vehicles: 1 }, async (world) => {
      const car = world.vehicles[0];
      const token = await world.onboard();
      const iccid = (await world.requestCode(token, car)).body.iccid as string;
      await waitFor(() => statusesOf(world, token).includes(`${iccid} enabled`), 15000);
      world.platform.failNext('delete', 'the vehicle is in a workshop');
      const answer = await world.hub.call({
        as: 'mspA',
        to: 'cmpF',
        method: 'POST',
        path: paths.notifyMspTokenInvalid(token),
        body: notifyMspTokenInvalidBody(),
      });
      expect(answer.status).toBe(204);
      await waitFor(() => world.events('transactionFailed').length > 0, 15000);
      expect(world.events('transactionFailed')[0]).toMatchObject({
        action: 'delete',
        iccid,
        msp: 'mspA',
        reason: 'the vehicle is in a workshop',
        needs: 'the profile deleted on the vehicle by hand',
      });
      expect(statusesOf(world, token)).toEqual([`${iccid} installed`, `${iccid} enabled`]);
      expect(world.profilesOn(car).map((p) => p.iccid)).toContain(iccid);
    }));

  // AID.02 4.3.1 2c: the swapped profile is deleted "from the vehicle on which it was downloaded";
  // one the vehicle failed to delete is still there: not deleted for the MSP, and the new one goes on
  test('the delete of a swapped profile: the MSP does not hear it deleted, the new profile is installed and enabled', () =>
    withWorld({ vehicles: 1 }, async (world) => {
      const car = world.vehicles[0];
      const token = await world.onboard();
      const old = (await world.requestCode(token, car)).body.iccid as string;
      await waitFor(() => statusesOf(world, token).includes(`${old} enabled`), 15000);
      world.platform.failNext('delete', 'the vehicle is in a workshop');
      const requestId = randomUUID();
      world.swaps.set(requestId, old);
      const fresh = (await world.requestCode(token, car, requestId)).body.iccid as string;
      await waitFor(() => statusesOf(world, token).includes(`${fresh} enabled`), 15000);
      expect(statusesOf(world, token)).toEqual([`${old} installed`, `${old} enabled`, `${fresh} installed`, `${fresh} enabled`]);
      expect(world.events('transactionFailed')).toEqual([
        expect.objectContaining({
          action: 'delete',
          iccid: old,
          msp: 'mspA',
          reason: 'the vehicle is in a workshop',
          needs: 'the swapped profile deleted from the vehicle by hand',
        }),
      ]);
      expect(world.profilesOn(car).map((p) => p.iccid)).toContain(old);
    }));
});

// the seed names no authentication: a 401 refuses the hub's credential, not the vehicle's request
// (RFC 9110 15.5.2), so the task waits as for an outage (one warning) and goes on once it is taken
test("the platform refusing the hub's credential (401) for a while: the task waits, one warning, then installed and enabled", () =>
  withWorld({ vehicles: 1 }, async (world) => {
    world.platform.refuseNext('/inventory?size=1000&query=', 401, 3);
    const token = await world.onboard();
    const iccid = (await world.requestCode(token, world.vehicles[0])).body.iccid as string;
    await waitFor(() => statusesOf(world, token).includes(`${iccid} enabled`), 20000);
    expect(statusesOf(world, token)).toEqual([`${iccid} installed`, `${iccid} enabled`]);
    expect(world.events('transactionFailed')).toEqual([]);
    const warnings = world.hub.logs.map((l) => JSON.parse(l) as { level: number; msg: string }).filter((l) => l.level >= 40);
    expect(warnings.map((l) => l.msg)).toEqual(['the device-management platform is not answering; its vehicle tasks and the reconcile wait for it']);
  }));

// seed: the inventory lists eSIM profiles ("eSIM profiles are created or deleted in the system only
// when the device reports successful profile actions"): a vehicle whose eSIM reports none is not in it
test('a vehicle whose eSIM reports no profile is never found: given up, transactionGaveUp naming the EID, the MSP hears installation_failed', () =>
  withWorld({ vehicles: 1, settings: { giveUpSeconds: 5 } }, async (world) => {
    const car = world.vehicles[0];
    world.platform.devices.get(car.deviceId)?.profiles.clear();
    const token = await world.onboard();
    const iccid = (await world.requestCode(token, car)).body.iccid as string;
    await waitFor(() => statusesOf(world, token).length > 0 && world.events('transactionGaveUp').length > 0, 20000);
    expect(statusesOf(world, token)).toEqual([`${iccid} installation_failed`]);
    expect(world.events('transactionGaveUp')[0]).toMatchObject({ step: 'device', iccid, eid: car.eid, reason: expect.stringContaining('inventory') });
  }));

// seed: "If a full page is returned and more activation codes are available a cursor value is
// returned in the full page": a cursor only when more follow, on every full page, or (a platform
// that leaves it out) never; the platform's page may be shorter than the 1,000 asked
describe.each<[string, DeviceMgmtReadings]>([
  ['a cursor when more follow', { cursor: 'more', pageSize: 100 }],
  ['a cursor on every full page, the last one too', { cursor: 'fullPage', pageSize: 100 }],
  ['no cursor ever: a full page is not known to be the end', { cursor: 'never', pageSize: 100 }],
])('the reconcile, pages of 100 with %s', (_name, readings) => {
  test('reports disabled, then deleted, only when the vehicle did so', () => {
    // 298 other profiles first, the fleet car's two last: exactly three full pages
    const others = Array.from({ length: 298 }, (_, i) => ({
      deviceId: `other-${i}`,
      eid: `8904903200000100000000${String(i).padStart(10, '0')}`,
      profiles: [{ iccid: `89490900000000${String(i).padStart(5, '0')}`, status: 'active' as const, carrier: 'Other', type: 'bootstrap' }],
    }));
    return withWorld({ vehicles: 1, settings: { reconcileIntervalSeconds: 1 }, simulator: { readings } }, async (world) => {
      const car = world.vehicles[0];
      const devices = world.platform.devices as Map<string, unknown>;
      const fleetCar = devices.get(car.deviceId);
      devices.delete(car.deviceId);
      for (const other of others) devices.set(other.deviceId, { ...other, profiles: new Map(other.profiles.map((p) => [p.iccid, { ...p }])) });
      devices.set(car.deviceId, fleetCar);
      const token = await world.onboard();
      const iccid = (await world.requestCode(token, car)).body.iccid as string;
      await waitFor(() => statusesOf(world, token).includes(`${iccid} enabled`), 15000);
      // two reconcile runs over the whole fleet after the task ended: nothing changed, nothing told
      const readsBefore = world.platform.calls.filter((c) => c.path.startsWith('/inventory?') && !c.path.includes('cursor=')).length;
      await waitFor(() => world.platform.calls.filter((c) => c.path.startsWith('/inventory?') && !c.path.includes('cursor=')).length >= readsBefore + 2, 15000);
      expect(statusesOf(world, token)).toEqual([`${iccid} installed`, `${iccid} enabled`]);
      world.platform.change(iccid, 'inactive');
      await waitFor(() => statusesOf(world, token).includes(`${iccid} disabled`), 15000);
      world.platform.change(iccid, 'deleted');
      await waitFor(() => statusesOf(world, token).includes(`${iccid} deleted`), 15000);
      expect(statusesOf(world, token)).toEqual([`${iccid} installed`, `${iccid} enabled`, `${iccid} disabled`, `${iccid} deleted`]);
      if (readings.cursor === 'never') expect(world.platform.calls.some((c) => c.path === `/inventory/${iccid}`)).toBe(true);
      else expect(world.platform.calls.some((c) => c.path.includes('cursor=200'))).toBe(true);
    });
  });
});

// seed: "status - The status of the eSIM profile action. Possible values are in_progress, complete,
// failed, unknown": only complete and failed are ends; `unknown` (or no status) is still under way
describe.each(['unknown', 'none'] as const)('a transaction under way reported as %s', (running) => {
  test('is followed to its end: a download that fails is installation_failed, never installed', () =>
    withWorld({ vehicles: 1, simulator: { transactionMs: 2500, readings: { running } } }, async (world) => {
      world.platform.failNext('download', 'the SM-DP+ refused the activation code');
      const token = await world.onboard();
      const iccid = (await world.requestCode(token, world.vehicles[0])).body.iccid as string;
      await waitFor(() => statusesOf(world, token).length > 0, 20000);
      expect(statusesOf(world, token)).toEqual([`${iccid} installation_failed`]);
      expect(world.platform.calls.filter((c) => c.path.startsWith('/progress/')).length).toBeGreaterThan(1);
    }));

  test('one that completes: installed, then enabled', () =>
    withWorld({ vehicles: 1, simulator: { transactionMs: 1500, readings: { running } } }, async (world) => {
      const token = await world.onboard();
      const iccid = (await world.requestCode(token, world.vehicles[0])).body.iccid as string;
      await waitFor(() => statusesOf(world, token).includes(`${iccid} enabled`), 20000);
      expect(statusesOf(world, token)).toEqual([`${iccid} installed`, `${iccid} enabled`]);
    }));
});

describe('log levels', () => {
  const lines = (world: FleetWorld) => world.hub.logs.map((l) => JSON.parse(l) as { level: number; msg: string; target?: string });

  test('a transaction under way is an expected wait: logged at debug, never as a failed delivery', () =>
    withWorld({ vehicles: 1, simulator: { transactionMs: 2500 } }, async (world) => {
      const token = await world.onboard();
      const iccid = (await world.requestCode(token, world.vehicles[0])).body.iccid as string;
      await waitFor(() => statusesOf(world, token).includes(`${iccid} enabled`), 20000);
      expect(lines(world).filter((l) => l.msg === 'dialect task waits; looked at again later').length).toBeGreaterThan(1);
      expect(lines(world).filter((l) => l.level >= 40 && l.target === 'cmpF')).toEqual([]);
    }));

  test("a platform outage is one warning and a gauge; the CMP's own traffic goes on while the platform's breaker opens and opens again", () =>
    withWorld({ vehicles: 1, settings: { reconcileIntervalSeconds: 1 }, platformUpstream: { breaker: { resetTimeoutMs: 500 } } }, async (world) => {
      const token = await world.onboard();
      world.platform.unavailableFor(1000000);
      const iccid = (await world.requestCode(token, world.vehicles[0])).body.iccid as string;
      // the breaker opens, and its trials fail while the outage lasts; the reconcile's runs go on
      await waitFor(async () => (await world.hub.metric('aid_gateway_breaker_transitions_total', { target: 'cmpF', to: 'open' })) >= 3, 20000);
      await waitFor(() => lines(world).filter((l) => l.msg === 'reconcile skipped: the device-management platform is away').length > 3, 20000);
      expect(await world.hub.metric('aid_gateway_devicemgmt_platform_available', { cmp: 'cmpF' })).toBe(0);
      // the CMP's own traffic: its requests to the MSP, and the MSP's messages to it
      expect((await world.requestCode(token, world.vehicles[0])).status).toBe(200);
      const other = randomUUID();
      expect((await world.hub.call({ as: 'mspA', to: 'cmpF', method: 'POST', path: paths.sendMspToken(), body: sendMspTokenBody(other) })).status).toBe(201);
      expect(lines(world).filter((l) => l.level >= 50)).toEqual([]);
      expect(
        lines(world)
          .filter((l) => l.level === 40)
          .map((l) => l.msg),
      ).toEqual(
        expect.arrayContaining(['the device-management platform is not answering; its vehicle tasks and the reconcile wait for it', 'circuit breaker open']),
      );
      expect(lines(world).filter((l) => l.level === 40 && (/device-management/.test(l.msg) || l.msg.startsWith('circuit breaker')))).toHaveLength(2);
      world.platform.unavailableFor(0);
      await waitFor(() => statusesOf(world, token).includes(`${iccid} enabled`), 30000);
      expect(await world.hub.metric('aid_gateway_devicemgmt_platform_available', { cmp: 'cmpF' })).toBe(1);
      expect(lines(world).filter((l) => l.msg === 'the device-management platform answers again').length).toBe(1);
    }));
});
