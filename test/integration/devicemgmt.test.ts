/**
 * The device-management dialect end to end: a CMP whose vehicles are run by a simulated
 * device-management platform asks an MSP for codes through the hub; the hub puts each profile on
 * its vehicle, follows the platform's transactions and tells the MSP (Send CSIM Status). Real Redis,
 * real HTTP servers on 127.0.0.1.
 */
import { randomUUID } from 'node:crypto';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { FLEET_SETTINGS, FleetParts, FleetWorld, PLATFORM_KEY } from '../support/fleetWorld';
import { ProtectedValues } from '../support/protectedValues';
import { deleteKeys, REDIS_URL, uniquePrefix } from '../support/redis';
import { request, writeConfig } from '../support/testHub';
import { ACCOUNT_ID, notifyMspTokenInvalidBody, paths, requestActivationCodeBody, sendMspTokenBody, submitActivationCodeBody } from '../support/messages';
import { waitFor } from '../support/waitFor';

jest.setTimeout(40000);

const MAIN = path.join(__dirname, '../../dist/src/main.js');

let world: FleetWorld;
beforeAll(async () => {
  world = await FleetWorld.start();
});
afterAll(() => world.close());

const statusesOf = (w: FleetWorld, token: string) => w.statuses(token).map((s) => `${s.iccid} ${s.status}`);

describe('a code reaches the vehicle', () => {
  test('synchronous (200): download, then enable; the MSP hears installed, then enabled', async () => {
    const token = await world.onboard();
    const car = world.vehicles[0];
    const answer = await world.requestCode(token, car);
    expect(answer.status).toBe(200);
    const { iccid } = answer.body;
    await waitFor(() => statusesOf(world, token).includes(`${iccid} enabled`), 15000);
    expect(statusesOf(world, token)).toEqual([`${iccid} installed`, `${iccid} enabled`]);
    expect(world.statuses(token)[0].eid).toBe(car.eid);
    expect(world.profilesOn(car)).toContainEqual(expect.objectContaining({ iccid, status: 'active' }));
    // seed: eSIM Action Data, `activation_code` "The activation code secret"; the vehicle found by its EID in the inventory
    const download = world.platform.calls.find((c) => c.method === 'POST' && c.path === '/download' && c.body.activation_code === answer.body.activationCode);
    expect(download?.body).toEqual({ device_id: car.deviceId, eid: car.eid, activation_code: answer.body.activationCode, iccid });
    expect(world.platform.calls.some((c) => c.path.startsWith('/inventory?') && decodeURIComponent(c.path).includes(`eid="${car.eid}"`))).toBe(true);
    // the MSP's status deliveries come from the CMP, on the token's path
    const delivered = world.msp.received.find((r) => r.path === paths.sendCsimStatus(token));
    expect(delivered?.headers['client-id']).toBe('cmpF');
  });

  test('asynchronous (201, then Send Activation Code, AID.02 7.7.2.1): the vehicle the request named gets it', async () => {
    const token = await world.onboard();
    const car = world.vehicles[1];
    const requestId = randomUUID();
    world.asynchronous.add(requestId);
    expect((await world.requestCode(token, car, requestId)).status).toBe(201);
    const code = world.code(requestId);
    const sent = await world.hub.call({
      as: 'mspA',
      to: 'cmpF',
      method: 'POST',
      path: paths.submitActivationCode(token),
      body: { ...submitActivationCodeBody(requestId, code.iccid), activationCode: code.activationCode },
    });
    expect(sent.status).toBe(200);
    await waitFor(() => statusesOf(world, token).includes(`${code.iccid} enabled`), 15000);
    expect(world.profilesOn(car).map((p) => p.iccid)).toContain(code.iccid);
  });

  test('bridged (the MSP slower than the budget: 201, the code follows through the outbox): the vehicle gets it', async () => {
    const bridged = await FleetWorld.start({ vehicles: 1, routes: [{ from: '*', to: '*', timeoutMs: 300, bridgeTimeoutMs: 5000 }] });
    try {
      const token = await bridged.onboard();
      const requestId = randomUUID();
      bridged.parts.slow.set(requestId, 800);
      expect((await bridged.requestCode(token, bridged.vehicles[0], requestId)).status).toBe(201);
      await waitFor(() => bridged.statuses(token).some((s) => s.status === 'enabled'), 15000);
      const [installed] = bridged.profilesOn(bridged.vehicles[0]);
      expect(bridged.statuses(token).map((s) => `${s.iccid} ${s.status}`)).toEqual([`${installed.iccid} installed`, `${installed.iccid} enabled`]);
    } finally {
      await bridged.close();
    }
  });

  test('a failed download is reported as installation_failed, and the back office hears why', async () => {
    const token = await world.onboard();
    world.platform.failNext('download', 'the SM-DP+ refused the activation code');
    const answer = await world.requestCode(token, world.vehicles[2]);
    await waitFor(() => statusesOf(world, token).length > 0, 15000);
    expect(statusesOf(world, token)).toEqual([`${answer.body.iccid} installation_failed`]);
    await waitFor(() => world.events('transactionFailed').some((e) => e.reason === 'the SM-DP+ refused the activation code'));
  });

  test('a swap (4.3.1 2c): the swapped profile is deleted from the vehicle first and reported deleted', async () => {
    const token = await world.onboard();
    const car = world.vehicles[3];
    const first = await world.requestCode(token, car);
    await waitFor(() => statusesOf(world, token).includes(`${first.body.iccid} enabled`), 15000);
    const requestId = randomUUID();
    world.swaps.set(requestId, first.body.iccid);
    const second = await world.requestCode(token, car, requestId);
    expect(second.body.swappedIccid).toBe(first.body.iccid);
    await waitFor(() => statusesOf(world, token).includes(`${second.body.iccid} enabled`), 15000);
    expect(statusesOf(world, token).slice(2)).toEqual([`${first.body.iccid} deleted`, `${second.body.iccid} installed`, `${second.body.iccid} enabled`]);
    expect(world.profilesOn(car).map((p) => p.iccid)).toEqual([second.body.iccid]);
  });
});

describe("the MSP's calls to the fleet", () => {
  test('Send MSP Token reaches the back office: 201', async () => {
    const token = await world.onboard();
    await waitFor(() => world.events('sendMspToken').some((e) => (e.message as { msp_token?: string }).msp_token === token));
  });

  test("Notify MSP Token Invalid deletes the token's profiles from the vehicles (4.5 Delete OP), each reported deleted", async () => {
    const token = await world.onboard();
    const car = world.vehicles[4];
    const code = await world.requestCode(token, car);
    await waitFor(() => statusesOf(world, token).includes(`${code.body.iccid} enabled`), 15000);
    const answer = await world.hub.call({
      as: 'mspA',
      to: 'cmpF',
      method: 'POST',
      path: paths.notifyMspTokenInvalid(token),
      body: notifyMspTokenInvalidBody(),
    });
    expect(answer.status).toBe(204);
    await waitFor(() => statusesOf(world, token).includes(`${code.body.iccid} deleted`), 15000);
    expect(world.profilesOn(car).map((p) => p.iccid)).not.toContain(code.body.iccid);
    await waitFor(() => world.events('notifyMspTokenInvalid').some((e) => JSON.stringify(e.removing) === JSON.stringify([code.body.iccid])));
  });
});

describe('the platform', () => {
  test('down for a while: the task waits and finishes when it is back', async () => {
    const token = await world.onboard();
    world.platform.unavailableFor(4);
    const answer = await world.requestCode(token, world.vehicles[5]);
    await waitFor(() => statusesOf(world, token).includes(`${answer.body.iccid} enabled`), 20000);
    expect(await world.hub.metric('aid_gateway_devicemgmt_calls_total', { outcome: '503' })).toBeGreaterThan(0);
  });

  test('slow (its transactions take seconds): followed until they end', async () => {
    const slow = await FleetWorld.start({ simulator: { transactionMs: 2500 }, vehicles: 1 });
    try {
      const token = await slow.onboard();
      const answer = await slow.requestCode(token, slow.vehicles[0]);
      await waitFor(() => statusesOf(slow, token).includes(`${answer.body.iccid} enabled`), 20000);
      expect(slow.platform.calls.filter((c) => c.path.startsWith('/progress/')).length).toBeGreaterThan(2);
    } finally {
      await slow.close();
    }
  });

  test('multistep (download and enable in one operation) with the SPN configured for the MSP', async () => {
    const multi = await FleetWorld.start({ settings: { enable: 'multistep' }, vehicles: 1 });
    try {
      const token = await multi.onboard();
      const answer = await multi.requestCode(token, multi.vehicles[0]);
      await waitFor(() => statusesOf(multi, token).includes(`${answer.body.iccid} enabled`), 15000);
      expect(statusesOf(multi, token)).toEqual([`${answer.body.iccid} enabled`]);
      const started = multi.platform.calls.find((c) => c.method === 'POST' && c.path === '/operations/inventory');
      expect(started?.body).toMatchObject({ operation: 'activate', carrier: 'Mobile', activation_code: answer.body.activationCode });
    } finally {
      await multi.close();
    }
  });

  // AID.02 7.8: the MSP hears `installation_failed` of a profile that never reached the vehicle;
  // docs/dialects/devicemgmt.md: a task not finished after `giveUpSeconds` is given up and the back office told
  test.each(['memory', 'redis'] as const)(
    'a transaction that never completes is given up (%s store): the MSP hears installation_failed, the back office transactionGaveUp, no dead letter',
    async (store) => {
      const stuck = await FleetWorld.start({ settings: { giveUpSeconds: 5 }, vehicles: 1, simulator: { readings: { running: 'unknown' } }, store });
      try {
        stuck.platform.hold('download', true);
        const token = await stuck.onboard();
        const iccid = (await stuck.requestCode(token, stuck.vehicles[0])).body.iccid as string;
        await waitFor(() => stuck.events('transactionGaveUp').length > 0 && statusesOf(stuck, token).length > 0, 20000);
        expect(stuck.events('transactionGaveUp')[0]).toMatchObject({
          action: 'download',
          step: 'download',
          iccid,
          msp: 'mspA',
          eid: stuck.vehicles[0].eid,
          reason: 'the download did not end within 5 s',
          seconds: 5,
          needs: 'a look at the vehicle',
        });
        expect(statusesOf(stuck, token)).toEqual([`${iccid} installation_failed`]);
        expect(await stuck.hub.metric('aid_gateway_devicemgmt_transactions_total', { action: 'download', outcome: 'gave_up' })).toBe(1);
        await waitFor(async () => (await stuck.hub.metric('aid_gateway_outbox_events_total', { target: 'cmpF', event: 'delivered' })) >= 3, 5000);
        expect(await stuck.hub.metric('aid_gateway_outbox_events_total', { target: 'cmpF', event: 'dead_lettered' })).toBe(0);
        expect(stuck.hub.logs.map((l) => JSON.parse(l) as { level: number }).filter((l) => l.level >= 50)).toEqual([]);
      } finally {
        await stuck.close();
      }
    },
  );
});

test("a hub instance killed (SIGKILL) while it starts a vehicle's download: another on the same Redis finds that transaction and finishes the task", async () => {
  const parts = await FleetParts.start({ vehicles: 1 });
  const prefix = uniquePrefix();
  const dir = mkdtempSync(path.join(tmpdir(), 'aidgw-fleet-'));
  writeConfig(dir, parts.partners(), { settings: FLEET_SETTINGS, routes: [{ from: '*', to: '*', timeoutMs: 20000 }] });
  const child = spawn(
    process.execPath,
    [MAIN, 'start', '--config', dir, '--listen', '127.0.0.1:0', '--admin-listen', 'off', '--workers', '1', '--redis-url', REDIS_URL, '--redis-prefix', prefix],
    { env: { PATH: process.env.PATH } },
  );
  let output = '';
  child.stdout.on('data', (d: Buffer) => (output += d.toString()));
  let survivor: FleetWorld | undefined;
  try {
    await waitFor(() => output.includes('hub started'));
    const url = (JSON.parse(output.split('\n').find((l) => l.includes('hub started')) as string) as { urls: string[] }).urls[0];
    // the partners' calls to the doomed instance, with their credentials and the AID.02 ids
    const call = (as: string, to: string, route: string, body: unknown) =>
      request(`${url}${route}`, {
        method: 'POST',
        headers: {
          'api-key': `key-${as}`,
          'client-id': as,
          'target-id': to,
          'cmp-request-id': randomUUID(),
          'correlation-id': randomUUID(),
          'content-type': 'application/json',
        },
        body: JSON.stringify(body),
      });
    const token = randomUUID();
    expect((await call('mspA', 'cmpF', paths.sendMspToken(), sendMspTokenBody(token))).status).toBe(201);
    // the platform takes its time to answer the start of the download: the instance dies waiting
    parts.platform.delayNext('download', 3000);
    const answer = await call('cmpF', 'mspA', paths.requestActivationCode(token), { ...requestActivationCodeBody(), eid: parts.vehicles[0].eid });
    expect(answer.status).toBe(200);
    await waitFor(() => parts.platform.calls.some((c) => c.path === '/download'), 10000);
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGKILL');
    await exited;

    survivor = await FleetWorld.start({ redisKeyPrefix: prefix }, parts);
    await waitFor(() => parts.statuses(token).some((s) => s.status === 'enabled'), 45000);
    expect(parts.statuses(token).map((s) => `${s.iccid} ${s.status}`)).toEqual([`${answer.body.iccid} installed`, `${answer.body.iccid} enabled`]);
    // the transaction the dead instance started was taken over, not started again
    expect(parts.platform.calls.filter((c) => c.path === '/download')).toHaveLength(1);
    expect(parts.platform.calls.some((c) => c.path.startsWith('/transactions/inventory?'))).toBe(true);
  } finally {
    if (child.exitCode === null) child.kill('SIGKILL');
    await survivor?.close();
    await parts.close();
    await deleteKeys(prefix);
    rmSync(dir, { recursive: true, force: true });
  }
}, 60000);

test('the reconcile pages through the inventory (more than one page) and reports what changed without the hub', async () => {
  const others = Array.from({ length: 1100 }, (_, i) => ({
    deviceId: `other-${i}`,
    eid: `8904903200000100000000${String(i).padStart(10, '0')}`,
    profiles: [{ iccid: `89490900000000${String(i).padStart(5, '0')}`, status: 'active' as const, carrier: 'Other', type: 'bootstrap' }],
  }));
  const big = await FleetWorld.start({ settings: { reconcileIntervalSeconds: 1 }, vehicles: 1, simulator: { devices: [...others] } });
  try {
    // the fleet's car comes after the others: on the second page
    const car = { deviceId: 'our-car', eid: big.vehicles[0].eid };
    const bootstrap = { iccid: '8949000000999999991', status: 'active', carrier: 'Bootstrap', type: 'bootstrap' };
    (big.platform.devices as Map<string, { deviceId: string; eid: string; profiles: Map<string, unknown> }>).set(car.deviceId, {
      ...car,
      profiles: new Map([[bootstrap.iccid, bootstrap]]),
    });
    const token = await big.onboard();
    const answer = await big.requestCode(token, car);
    await waitFor(() => statusesOf(big, token).includes(`${answer.body.iccid} enabled`), 15000);
    big.platform.change(answer.body.iccid, 'inactive');
    await waitFor(() => statusesOf(big, token).includes(`${answer.body.iccid} disabled`), 15000);
    big.platform.change(answer.body.iccid, 'deleted');
    await waitFor(() => statusesOf(big, token).includes(`${answer.body.iccid} deleted`), 15000);
    expect(statusesOf(big, token)).toEqual([
      `${answer.body.iccid} installed`,
      `${answer.body.iccid} enabled`,
      `${answer.body.iccid} disabled`,
      `${answer.body.iccid} deleted`,
    ]);
    const pages = big.platform.calls.filter((c) => c.path.startsWith('/inventory?') && !c.path.includes('query='));
    expect(pages.some((c) => c.path.includes('cursor=1000'))).toBe(true);
    expect(await big.hub.metric('aid_gateway_devicemgmt_reconciled_total', { status: 'deleted' })).toBe(1);
  } finally {
    await big.close();
  }
});

// DESIGN.md "Data that must not leak" (activationCode, api-key, authorization, account ids, EIDs),
// and the ICCIDs (in every spelling), msp_tokens and MatchingIDs
test('no EID, ICCID, activation code, MatchingID, msp_token or credential reaches a log line', () => {
  const secrets = new ProtectedValues();
  for (const key of [PLATFORM_KEY, 'key-mspA', 'key-cmpF', ACCOUNT_ID]) secrets.add(key);
  for (const vehicle of world.vehicles) secrets.add(vehicle.eid);
  for (const call of world.platform.calls) secrets.addFrom(call.body);
  for (const partner of [world.msp, world.backOffice]) {
    for (const r of partner.received) secrets.addFrom(r.body).addFrom(r.headers);
  }
  // every kind was exchanged, so every kind was looked for
  expect(secrets.count(/^\d{19}$/)).toBeGreaterThan(0);
  expect(secrets.count(/^1\$/)).toBeGreaterThan(0);
  expect(secrets.values.size).toBeGreaterThan(10);
  expect(secrets.loggedIn(world.hub.logs)).toEqual([]);
});
