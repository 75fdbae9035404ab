/**
 * The device-management task state machine (dialects/devicemgmt/tasks.ts) driven run by run, without
 * a hub: a real Fleet on the memory store, its platform client through a real Upstream (breaker and
 * all) to the simulated platform as a real HTTP server whose transactions end within milliseconds.
 * What the task owes others is read from the outbox it queues into: Send CSIM Status to the MSP
 * (AID.02 7.8), events to the CMP's back office, tasks of its own. The end-to-end journeys through a
 * hub are in devicemgmt.test.ts and devicemgmtReadings.test.ts; this file holds each branch of a
 * step fast enough for mutation testing.
 */
import { randomUUID } from 'node:crypto';
import http from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { loadConfig } from '../../src/config/load';
import type { Partner } from '../../src/config/types';
import { aid02 } from '../../src/dialects/aid02/forward';
import { devicemgmt } from '../../src/dialects/devicemgmt/module';
import { Fleet, type Task, type VehicleProfile } from '../../src/dialects/devicemgmt/fleet';
import { devicemgmtMetrics } from '../../src/dialects/devicemgmt/metrics';
import { DevicePlatformClient } from '../../src/dialects/devicemgmt/platformClient';
import type { DevicemgmtSettings } from '../../src/dialects/devicemgmt/settings';
import {
  startDeviceMgmtSimulator,
  type DeviceMgmtReadings,
  type DeviceMgmtSimulator,
  type SimAction,
  type SimProfile,
} from '../../src/dialects/devicemgmt/simulator';
import { runTask, type RunOutcome } from '../../src/dialects/devicemgmt/tasks';
import { createLogger } from '../../src/log';
import { createMetrics, type Metrics } from '../../src/metrics/metrics';
import { closeServer, listen } from '../../src/simulators/simulatorServer';
import { MemoryStore } from '../../src/state/memory/store';
import type { Store } from '../../src/state/store';
import type { Delivery } from '../../src/state/outbox';
import { withLocalFallback } from '../../src/state/rateLimits';
import { Breakers } from '../../src/upstream/breakers';
import { isPartnerFailure, Upstream } from '../../src/upstream/upstream';
import { newEid } from '../support/es2World';
import { FaultPlan, faultyStore } from '../support/faultyStore';
import { ALL_ROUTES, writeConfig } from '../support/testHub';

jest.setTimeout(10000);

const KEY = 'hub-key-at-the-platform';
const CAR = { deviceId: '00000000-00000000-0004F3FF-FF000001', eid: newEid() };
const OTHER = { deviceId: '00000000-00000000-0004F3FF-FF000002', eid: newEid() };
const BOOTSTRAP: SimProfile = { iccid: '8949000000000000009', status: 'active', carrier: 'Bootstrap', type: 'bootstrap' };
const OLD = '8949010000000000011';
const NEW = '8949010000000000029';
const CODE = '1$smdp.example.com$AC-TASKS-1';

/** the hub's config, read once: the fleet CMP `cmpF` of MSP `mspA`; each world points its platform
 * calls at its own simulator */
let partner: Partner;
beforeAll(() => {
  const dir = mkdtempSync(path.join(tmpdir(), 'aidgw-tasks-'));
  const nowhere = 'http://127.0.0.1:9';
  writeConfig(
    dir,
    [
      { id: 'mspA', role: 'msp', apiKey: 'key-mspA', upstreamUrl: nowhere },
      {
        id: 'cmpF',
        role: 'cmp',
        apiKey: 'key-cmpF',
        upstreamUrl: nowhere,
        extra: {
          dialect: 'devicemgmt',
          upstream: { url: nowhere, auth: { apiKey: KEY } },
          devicemgmt: { carriers: { mspA: 'Mobile' }, webhook: { url: `${nowhere}/events` } },
        },
      },
    ],
    ALL_ROUTES,
  );
  try {
    const found = loadConfig(dir, [aid02, devicemgmt], {}).partners.get('cmpF');
    if (!found) throw new Error('no cmpF in the config');
    partner = found;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

interface Options {
  readonly settings?: Partial<DevicemgmtSettings>;
  readonly readings?: DeviceMgmtReadings;
  readonly transactionMs?: number;
  /** the car's profiles besides its bootstrap one */
  readonly profiles?: readonly SimProfile[];
  readonly otherProfiles?: readonly SimProfile[];
  /** the car unknown to the platform */
  readonly noCar?: boolean;
  /** store calls that fail on purpose */
  readonly faults?: FaultPlan;
  readonly reportedCarrier?: string;
  /** the platform's JSON answers rewritten on their way to the hub (a platform that leaves out what
   * the simulator always reports), by path */
  readonly rewrite?: (path: string, json: Record<string, unknown>) => Record<string, unknown>;
}

/** a real HTTP server in front of the simulator that passes every call on and rewrites its JSON answer */
async function rewriting(to: string, rewrite: NonNullable<Options['rewrite']>): Promise<{ url: string; close: () => Promise<void> }> {
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const body = chunks.length === 0 ? undefined : Buffer.concat(chunks);
      const headers: Record<string, string> = {};
      for (const [name, value] of Object.entries(req.headers))
        if (typeof value === 'string' && name !== 'host' && name !== 'content-length') headers[name] = value;
      fetch(`${to}${req.url ?? '/'}`, { method: req.method, headers, body })
        .then(async (answer) => {
          const text = await answer.text();
          const path = (req.url ?? '').split('?')[0].replace('/ws/v1/esim_profiles', '');
          const rewritten = answer.headers.get('content-type')?.includes('json')
            ? JSON.stringify(rewrite(path, JSON.parse(text) as Record<string, unknown>))
            : text;
          res.writeHead(answer.status, { 'content-type': answer.headers.get('content-type') ?? 'text/plain' }).end(rewritten);
        })
        .catch(() => res.writeHead(502).end());
    });
  });
  const port = await listen(server, '127.0.0.1', 0);
  return { url: `http://127.0.0.1:${port}`, close: () => closeServer(server) };
}

/** a fleet CMP `cmpF` of MSP `mspA` on a simulated platform, and what its tasks queued */
class World {
  private readonly taken: Delivery[] = [];

  private constructor(
    readonly fleet: Fleet,
    readonly platform: DeviceMgmtSimulator,
    readonly store: Store,
    readonly metrics: Metrics,
    private readonly upstream: Upstream,
    private readonly front?: { close: () => Promise<void> },
  ) {}

  static async start(options: Options = {}): Promise<World> {
    const platform = await startDeviceMgmtSimulator({
      apiKey: KEY,
      devices: [
        ...(options.noCar ? [] : [{ ...CAR, profiles: [BOOTSTRAP, ...(options.profiles ?? [])] }]),
        { ...OTHER, profiles: [{ ...BOOTSTRAP, iccid: '8949000000000000017' }, ...(options.otherProfiles ?? [])] },
      ],
      transactionMs: options.transactionMs ?? 0,
      reportedCarrier: options.reportedCarrier,
      readings: options.readings,
    });
    platform.registerCode(CODE, NEW);
    const front = options.rewrite ? await rewriting(platform.url, options.rewrite) : undefined;
    const log = createLogger({ level: process.env.TASKS_LOG ?? 'silent' });
    const metrics = createMetrics();
    const store = options.faults ? faultyStore(new MemoryStore(), options.faults) : new MemoryStore();
    const upstream = new Upstream(
      partner,
      { breakers: new Breakers(log, metrics, isPartnerFailure), store, metrics, limits: withLocalFallback(store.limits, () => undefined) },
      { ...partner.upstream, url: new URL(front?.url ?? platform.url) },
    );
    const dm = devicemgmtMetrics(metrics.registry);
    const settings = { ...(partner.settings as DevicemgmtSettings), pollIntervalSeconds: 1, giveUpSeconds: 60, ...options.settings };
    const fleet = new Fleet(partner, settings, new DevicePlatformClient(upstream, dm), store.records('cmpF'), store.outbox, metrics, dm, log, 3600);
    return new World(fleet, platform, store, metrics, upstream, front);
  }

  /** a task saved as the dialect starts it (fleet.startTask), not yet run */
  async task(fields: Partial<Task> = {}): Promise<Task> {
    const now = Date.now();
    const task: Task = {
      id: randomUUID(),
      kind: 'provision',
      msp: 'mspA',
      mspToken: 'token-1',
      correlationId: 'correlation-1',
      eid: CAR.eid,
      iccid: NEW,
      activationCode: CODE,
      swappedIccid: null,
      step: 'device',
      createdAt: now,
      giveUpAt: now + 60000,
      done: false,
      ...fields,
    };
    await this.fleet.saveTask(task);
    return task;
  }

  run(id: string): Promise<RunOutcome> {
    return runTask(this.fleet, id, this.fleet.log);
  }

  /** runs the task until it is done, as the outbox would (a few milliseconds between runs); at most `runs` runs */
  async finish(id: string, runs = 40): Promise<number> {
    for (let i = 1; i <= runs; i++) {
      if ((await this.run(id)) === 'done') return i;
      await sleep(2);
    }
    throw new Error(`task ${id} not done after ${runs} runs`);
  }

  /** everything queued so far */
  async queued(): Promise<Delivery[]> {
    this.taken.push(...(await this.store.outbox.receive('test', 1000)).map((r) => r.delivery));
    return this.taken;
  }

  /** Send CSIM Status bodies, as `iccid status eid` */
  async statuses(): Promise<string[]> {
    return (await this.queued())
      .filter((d) => d.operation === 'sendCsimStatus')
      .map((d) => JSON.parse(d.body) as { iccid: string; eid: string; status: string })
      .map((s) => `${s.iccid} ${s.status} ${s.eid}`);
  }

  async statusDeliveries(): Promise<Delivery[]> {
    return (await this.queued()).filter((d) => d.operation === 'sendCsimStatus');
  }

  /** back-office events (bodies) */
  async events(event?: string): Promise<Record<string, unknown>[]> {
    return (await this.queued())
      .filter((d) => d.operation === 'dialectEvent')
      .map((d) => JSON.parse(d.body) as Record<string, unknown>)
      .filter((e) => event === undefined || e.event === event);
  }

  /** the platform's calls, as `METHOD path` (query left out) */
  calls(): string[] {
    return this.platform.calls.map((c) => `${c.method} ${c.path.split('?')[0]}`);
  }

  profilesOn(deviceId: string): { iccid: string; status: string }[] {
    return [...(this.platform.devices.get(deviceId)?.profiles.values() ?? [])].filter((p) => p.type !== 'bootstrap');
  }

  /** the sum of a histogram's series */
  async sum(name: string, labels: Record<string, string>): Promise<number | undefined> {
    const all = await this.metrics.registry.getMetricsAsJSON();
    const found = all.find((m) => m.name === name) as { values: { value: number; labels: Record<string, unknown>; metricName?: string }[] } | undefined;
    return found?.values.find((v) => v.metricName === `${name}_sum` && Object.entries(labels).every(([k, l]) => v.labels[k] === l))?.value;
  }

  async metric(name: string): Promise<string[]> {
    const all = await this.metrics.registry.getMetricsAsJSON();
    const found = all.find((m) => m.name === name) as { values: { value: number; labels: Record<string, unknown>; metricName?: string }[] } | undefined;
    return (found?.values ?? [])
      .filter((v) => v.value > 0 && (v.metricName === undefined || v.metricName.endsWith('_count') || !v.metricName.includes('_bucket')))
      .map(
        (v) =>
          `${v.metricName ?? name} ${Object.entries(v.labels)
            .map(([k, l]) => `${k}=${String(l)}`)
            .join(',')} ${v.value}`,
      );
  }

  async close(): Promise<void> {
    await this.upstream.close();
    await this.front?.close();
    await this.platform.close();
    await this.store.close();
  }
}

async function withWorld(options: Options, run: (world: World) => Promise<void>): Promise<void> {
  const world = await World.start(options);
  try {
    await run(world);
  } finally {
    await world.close();
  }
}

const task = async (world: World, id: string) => world.fleet.task(id);
const profile = (iccid: string, status: 'active' | 'inactive' = 'active', carrier = 'Mobile'): SimProfile => ({ iccid, status, carrier, type: 'operational' });

describe('separate actions (download, then enable)', () => {
  // seed: "An eSIM profile (ICCID) is downloaded to a device using an activation code" and "Once
  // downloaded, an eSIM profile can be enabled"; AID.02 7.8: installed, then enabled
  test('the device found, the download, then the enable: the MSP hears installed, then enabled, with the EID', () =>
    withWorld({}, async (world) => {
      const { id } = await world.task();
      // one run: the device looked up, the download started; it takes minutes, so the run waits
      expect(await world.run(id)).toBe('wait');
      expect(world.calls()).toEqual(['GET /inventory', 'POST /download']);
      expect(await task(world, id)).toMatchObject({ step: 'download', deviceId: CAR.deviceId, tx: expect.any(String), starting: undefined });
      expect(world.platform.calls[1].body).toEqual({ device_id: CAR.deviceId, eid: CAR.eid, activation_code: CODE, iccid: NEW });
      // the next run sees the download complete and starts the enable
      expect(await world.run(id)).toBe('wait');
      expect(await world.statuses()).toEqual([`${NEW} installed ${CAR.eid}`]);
      expect(await world.fleet.profile(NEW)).toEqual<VehicleProfile>({
        iccid: NEW,
        eid: CAR.eid,
        deviceId: CAR.deviceId,
        msp: 'mspA',
        mspToken: 'token-1',
        status: 'installed',
        task: id,
      });
      expect(await task(world, id)).toMatchObject({ step: 'enable', iccid: NEW, tx: expect.any(String), done: false });
      expect(await world.run(id)).toBe('done');
      expect(await world.statuses()).toEqual([`${NEW} installed ${CAR.eid}`, `${NEW} enabled ${CAR.eid}`]);
      expect(world.platform.calls.filter((c) => c.path === '/enable').map((c) => c.body)).toEqual([{ device_id: CAR.deviceId, eid: CAR.eid, iccid: NEW }]);
      expect(await world.fleet.profile(NEW)).toMatchObject({ status: 'enabled', task: undefined });
      expect(await task(world, id)).toMatchObject({ done: true, tx: undefined });
      expect(world.profilesOn(CAR.deviceId)).toEqual([expect.objectContaining({ iccid: NEW, status: 'active' })]);
      expect(await world.events()).toEqual([]);
      // the MSP's status goes to its Send CSIM Status path, as the CMP, under the task's correlation
      const [installed] = await world.statusDeliveries();
      expect(installed).toMatchObject({ target: 'mspA', path: '/v1/statuses/token-1' });
      expect(installed.headers).toMatchObject({ 'client-id': 'cmpF', 'target-id': 'mspA', 'correlation-id': 'correlation-1' });
      // a task done is not run again
      expect(await world.run(id)).toBe('done');
      expect(world.calls()).toHaveLength(5);
      expect(await world.metric('aid_gateway_devicemgmt_transactions_total')).toEqual(
        expect.arrayContaining([
          'aid_gateway_devicemgmt_transactions_total cmp=cmpF,action=download,outcome=started 1',
          'aid_gateway_devicemgmt_transactions_total cmp=cmpF,action=download,outcome=complete 1',
          'aid_gateway_devicemgmt_transactions_total cmp=cmpF,action=enable,outcome=started 1',
          'aid_gateway_devicemgmt_transactions_total cmp=cmpF,action=enable,outcome=complete 1',
        ]),
      );
      expect(await world.metric('aid_gateway_devicemgmt_transaction_seconds')).toEqual(
        expect.arrayContaining([
          'aid_gateway_devicemgmt_transaction_seconds_count cmp=cmpF,action=download,outcome=complete 1',
          'aid_gateway_devicemgmt_transaction_seconds_count cmp=cmpF,action=enable,outcome=complete 1',
        ]),
      );
    }));

  test('a task no longer recorded is done', () =>
    withWorld({}, async (world) => {
      expect(await world.run(randomUUID())).toBe('done');
      expect(world.calls()).toEqual([]);
    }));

  test('a device id known already: the run starts the download without a lookup', () =>
    withWorld({}, async (world) => {
      const { id } = await world.task({ deviceId: CAR.deviceId });
      expect(await world.run(id)).toBe('wait');
      expect(world.calls()).toEqual(['POST /download']);
    }));

  // seed: "eSIM profile actions are generally processed asynchronously and make take 3-10 minutes":
  // a run whose steps need no waiting goes on; one that finds an action under way waits
  test('a run takes every step that needs no waiting, up to the start of an action', () =>
    withWorld({ settings: { enable: 'never' } }, async (world) => {
      const { id } = await world.task();
      expect(await world.run(id)).toBe('wait');
      await sleep(5);
      expect(await world.run(id)).toBe('done');
      expect(await world.statuses()).toEqual([`${NEW} installed ${CAR.eid}`]);
    }));

  // settings `enable: never`: download only, the MSP hears installed and the task ends
  test('enable never: installed, no enable, the profile left with no task', () =>
    withWorld({ settings: { enable: 'never' } }, async (world) => {
      const { id } = await world.task();
      await world.finish(id);
      expect(await world.statuses()).toEqual([`${NEW} installed ${CAR.eid}`]);
      expect(world.calls().filter((c) => c === 'POST /enable')).toEqual([]);
      expect(await world.fleet.profile(NEW)).toMatchObject({ status: 'installed', task: undefined });
      expect(await task(world, id)).toMatchObject({ done: true, step: 'download' });
    }));

  // seed: the transaction's `iccid` is "The ICCID of the eSIM profile": a code the MSP gave without
  // an ICCID is reported under the one the vehicle reports
  test('a code without an ICCID: reported under the ICCID the download reports', () =>
    withWorld({ settings: { enable: 'never' } }, async (world) => {
      const { id } = await world.task({ iccid: undefined });
      await world.finish(id);
      expect(await world.statuses()).toEqual([`${NEW} installed ${CAR.eid}`]);
      expect(await task(world, id)).toMatchObject({ iccid: NEW });
    }));
});

describe('transaction statuses (seed: "Possible values are in_progress, complete, failed, unknown")', () => {
  // seed: status "Possible values are in_progress, complete, failed, unknown": only complete and
  // failed are ends; unknown, or no status at all, is still under way
  test.each(['in_progress', 'unknown', 'none'] as const)('a download reported %s is not ended: the task waits, tells nothing, and polls again', (running) =>
    withWorld({ readings: { running } }, async (world) => {
      world.platform.hold('download', true);
      const { id } = await world.task({ deviceId: CAR.deviceId });
      for (let i = 0; i < 3; i++) expect(await world.run(id)).toBe('wait');
      expect(world.calls().map((c) => c.replace(/\/progress\/.*/, '/progress'))).toEqual(['POST /download', 'GET /progress', 'GET /progress']);
      expect(await world.queued()).toEqual([]);
      expect(await task(world, id)).toMatchObject({ step: 'download', done: false, tx: expect.any(String) });
      expect(await world.metric('aid_gateway_devicemgmt_transactions_total')).toEqual([
        'aid_gateway_devicemgmt_transactions_total cmp=cmpF,action=download,outcome=started 1',
      ]);
    }),
  );

  // the same for every action a task follows: the swapped profile's delete, the enable, a removal
  test.each(['unknown', 'none'] as const)("a swapped profile's delete, an enable and a disable reported %s are waited for, nothing told", (running) =>
    withWorld({ readings: { running }, profiles: [profile(OLD)] }, async (world) => {
      world.platform.hold('delete', true);
      world.platform.hold('enable', true);
      world.platform.hold('disable', true);
      const swap = await world.task({ swappedIccid: OLD, deviceId: CAR.deviceId });
      const install = await world.task({ deviceId: CAR.deviceId });
      const removal = await world.task({ kind: 'remove', iccid: OLD, activationCode: undefined, deviceId: CAR.deviceId, step: 'remove', removal: 'disable' });
      for (let i = 0; i < 3; i++) for (const { id } of [swap, install, removal]) expect(await world.run(id)).toBe('wait');
      expect(await world.statuses()).toEqual([`${NEW} installed ${CAR.eid}`]);
      expect(await world.events()).toEqual([]);
      expect((await task(world, swap.id))?.step).toBe('removeSwapped');
      expect((await task(world, install.id))?.step).toBe('enable');
      expect((await task(world, removal.id))?.done).toBe(false);
    }),
  );

  test('a download without an ICCID that fails: the back office told, the MSP told nothing (no ICCID to name)', () =>
    withWorld({}, async (world) => {
      world.platform.failNext('download', 'the SM-DP+ refused the code');
      const { id } = await world.task({ iccid: undefined });
      await world.finish(id);
      expect(await world.statuses()).toEqual([]);
      expect(await world.events('transactionFailed')).toEqual([expect.objectContaining({ action: 'download', reason: 'the SM-DP+ refused the code' })]);
    }));

  // seed: the transaction's `iccid`, "The ICCID of the eSIM profile": without it the hub has no
  // ICCID to report (AID.02 7.8 names the profile by its ICCID)
  test('a download complete that names no ICCID, for a code given without one: the back office told to tell the MSP by hand', () =>
    withWorld({ rewrite: (p, json) => (p.startsWith('/progress/') ? { ...json, iccid: undefined } : json) }, async (world) => {
      const { id } = await world.task({ iccid: undefined });
      await world.finish(id);
      expect(await world.statuses()).toEqual([]);
      expect(await world.events()).toEqual([
        expect.objectContaining({
          event: 'transactionFailed',
          action: 'download',
          msp: 'mspA',
          reason: 'the vehicle reported no ICCID for the profile',
          needs: 'the MSP told by hand',
        }),
      ]);
      expect(await task(world, id)).toMatchObject({ done: true, tx: undefined });
      expect(world.calls()).not.toContain('POST /enable');
    }));
});

/** an action the vehicle fails, and what the task owes then */
interface FailedAction {
  readonly what: string;
  readonly told: string;
  readonly action: SimAction;
  readonly message: string;
  readonly options: Options;
  readonly fields: Partial<Task>;
  readonly statuses: readonly string[];
  readonly iccid: string;
  readonly needs?: string;
  /** the hub's record of a profile afterwards (`undefined`: none) */
  readonly record: readonly [string, Partial<VehicleProfile> | undefined];
  /** the car's profiles afterwards besides its bootstrap one */
  readonly onCar: readonly string[];
}

const removalOf = (action: 'delete' | 'disable'): Partial<Task> => ({
  kind: 'remove',
  iccid: OLD,
  activationCode: undefined,
  deviceId: CAR.deviceId,
  step: 'remove',
  removal: action,
});

describe('an action the vehicle fails (seed: "eSIM profiles are created or deleted in the system only when the device reports successful profile actions")', () => {
  // AID.02 7.8: the statuses a CMP sends, installation_failed for a download that failed; seed:
  // `message` "A message describing the status of the transaction from the system or profile server
  // (SM-DP+)"; AID.02 4.3.1 2c: only a delete the vehicle reports counts, and a failed one holds up no
  // new profile; AID.02 4.5: a removal the vehicle fails is not reported
  test.each<FailedAction>([
    {
      what: 'a download',
      told: 'installation_failed, the back office told the action, ICCID and message',
      action: 'download',
      message: 'the SM-DP+ refused the code',
      options: {},
      fields: {},
      statuses: [`${NEW} installation_failed ${CAR.eid}`],
      iccid: NEW,
      record: [NEW, undefined],
      onCar: [],
    },
    {
      what: 'an enable',
      told: 'the MSP hears installed only, the back office is told to enable it',
      action: 'enable',
      message: 'the eSIM refused to enable the profile',
      options: {},
      fields: {},
      statuses: [`${NEW} installed ${CAR.eid}`],
      iccid: NEW,
      needs: 'the profile enabled on the vehicle',
      record: [NEW, { status: 'installed', task: undefined }],
      onCar: [NEW],
    },
    {
      what: "the swapped profile's delete",
      told: 'not reported deleted, the back office told to delete it by hand, the new one goes on',
      action: 'delete',
      message: 'the vehicle is in a workshop',
      options: { profiles: [profile(OLD)], settings: { enable: 'never' } },
      fields: { swappedIccid: OLD },
      statuses: [`${NEW} installed ${CAR.eid}`],
      iccid: OLD,
      needs: 'the swapped profile deleted from the vehicle by hand',
      record: [NEW, { status: 'installed', task: undefined }],
      onCar: [OLD, NEW],
    },
    ...(['delete', 'disable'] as const).map((action): FailedAction => ({
      what: `a removal's ${action}`,
      told: 'not reported, the back office told to do it by hand',
      action,
      message: 'the vehicle is in a workshop',
      options: { profiles: [profile(OLD)] },
      fields: removalOf(action),
      statuses: [],
      iccid: OLD,
      needs: `the profile ${action}d on the vehicle by hand`,
      record: [OLD, undefined],
      onCar: [OLD],
    })),
  ])('$what the vehicle fails: $told', ({ action, message, options, fields, statuses, iccid, needs, record, onCar }) =>
    withWorld(options, async (world) => {
      world.platform.failNext(action, message);
      const { id } = await world.task(fields);
      await world.finish(id);
      expect(await world.statuses()).toEqual(statuses);
      expect(await world.events()).toEqual([
        expect.objectContaining({ event: 'transactionFailed', action, iccid, msp: 'mspA', reason: message, cmp: 'cmpF', ...(needs ? { needs } : {}) }),
      ]);
      expect(await task(world, id)).toMatchObject({ done: true, iccid: fields.iccid ?? NEW, tx: undefined });
      const [recorded, expected] = record;
      expect(await world.fleet.profile(recorded)).toEqual(expected === undefined ? undefined : expect.objectContaining(expected));
      expect(world.profilesOn(CAR.deviceId).map((p) => p.iccid)).toEqual(onCar);
      expect(await world.metric('aid_gateway_devicemgmt_transactions_total')).toContain(
        `aid_gateway_devicemgmt_transactions_total cmp=cmpF,action=${action},outcome=failed 1`,
      );
    }),
  );
});

describe('refusals and outages', () => {
  // docs/dialects/devicemgmt.md: a platform that "refuses an action (4xx) fails that step"
  test('the download refused (400) in every form: installation_failed, the back office told', () =>
    withWorld({}, async (world) => {
      world.platform.refuseNext('/download', 400, 3);
      const { id } = await world.task({ deviceId: CAR.deviceId });
      await world.finish(id);
      expect(await world.statuses()).toEqual([`${NEW} installation_failed ${CAR.eid}`]);
      expect(await world.events('transactionFailed')).toEqual([expect.objectContaining({ action: 'download', iccid: NEW })]);
      expect(await world.metric('aid_gateway_devicemgmt_transactions_total')).toEqual([]);
    }));

  // seed: `activation_code` "Only required if the activation code is not already registered with the
  // system": a platform that refuses an unregistered code with the ICCID takes it alone
  test('a platform that refuses the code with the ICCID: the download goes on with the code alone', () =>
    withWorld({ readings: { downloadBody: 'exclusive' }, settings: { enable: 'never' } }, async (world) => {
      const code = '1$smdp.example.com$AC-TASKS-2';
      world.platform.registerCode(code, NEW, false);
      const { id } = await world.task({ deviceId: CAR.deviceId, activationCode: code });
      await world.finish(id);
      const forms = world.platform.calls.filter((c) => c.path === '/download').map((c) => Object.keys(c.body).sort().join(','));
      expect(forms).toEqual(['activation_code,device_id,eid,iccid', 'activation_code,device_id,eid']);
      expect(await world.statuses()).toEqual([`${NEW} installed ${CAR.eid}`]);
    }));

  // docs/dialects/devicemgmt.md: a refused lookup or poll fails the step as a refused action does
  test('the progress poll refused (404): installation_failed, the back office told which step', () =>
    withWorld({ transactionMs: 50 }, async (world) => {
      const { id } = await world.task({ deviceId: CAR.deviceId });
      expect(await world.run(id)).toBe('wait');
      world.platform.refuseNext('/progress/', 404);
      expect(await world.run(id)).toBe('done');
      expect(await world.statuses()).toEqual([`${NEW} installation_failed ${CAR.eid}`]);
      expect(await world.events()).toEqual([
        expect.objectContaining({
          event: 'transactionFailed',
          action: 'download',
          step: 'download',
          iccid: NEW,
          msp: 'mspA',
          eid: CAR.eid,
          needs: 'a look at the vehicle',
        }),
      ]);
      expect(await task(world, id)).toMatchObject({ done: true, tx: undefined, starting: undefined });
      // the seconds a task had are told only when it is given up
      expect((await world.events())[0]).not.toHaveProperty('seconds');
    }));

  test('the device lookup refused (400): installation_failed for the profile, the back office told', () =>
    withWorld({}, async (world) => {
      world.platform.refuseNext('/inventory', 400);
      const { id } = await world.task();
      expect(await world.run(id)).toBe('done');
      expect(await world.statuses()).toEqual([`${NEW} installation_failed ${CAR.eid}`]);
      expect(await world.events()).toEqual([expect.objectContaining({ event: 'transactionFailed', action: 'device', step: 'device' })]);
    }));

  test('the enable poll refused (404): no installation_failed for a profile already installed', () =>
    withWorld({}, async (world) => {
      const { id } = await world.task({ deviceId: CAR.deviceId });
      expect(await world.run(id)).toBe('wait');
      expect(await world.run(id)).toBe('wait');
      world.platform.refuseNext('/progress/', 404);
      expect(await world.run(id)).toBe('done');
      expect(await world.statuses()).toEqual([`${NEW} installed ${CAR.eid}`]);
      expect(await world.events()).toEqual([expect.objectContaining({ event: 'transactionFailed', action: 'enable', needs: 'a look at the vehicle' })]);
    }));

  // docs/dialects/devicemgmt.md: the platform away (5xx) is waited for, nothing concluded
  test('the platform away (503): the task waits, concludes nothing, and goes on when it is back', () =>
    withWorld({}, async (world) => {
      const { id } = await world.task({ deviceId: CAR.deviceId });
      world.platform.unavailableFor(1);
      expect(await world.run(id)).toBe('wait');
      expect(await task(world, id)).toMatchObject({ step: 'download', done: false });
      expect(await world.queued()).toEqual([]);
      await world.finish(id);
      expect(await world.statuses()).toEqual([`${NEW} installed ${CAR.eid}`, `${NEW} enabled ${CAR.eid}`]);
    }));

  test('a vehicle the inventory does not know: the task waits', () =>
    withWorld({ noCar: true }, async (world) => {
      const { id } = await world.task();
      expect(await world.run(id)).toBe('wait');
      expect(await world.run(id)).toBe('wait');
      expect(await task(world, id)).toMatchObject({ step: 'device', done: false });
      expect((await task(world, id))?.deviceId).toBeUndefined();
      expect(await world.queued()).toEqual([]);
    }));

  // seed: the inventory lists eSIM profiles, each with its device_id and eid; a vehicle whose eSIM
  // reports none is not in it
  test('given up while no vehicle is found: transactionGaveUp naming the EID and the seconds, installation_failed', () =>
    withWorld({ noCar: true, settings: { giveUpSeconds: 42 } }, async (world) => {
      const { id } = await world.task({ giveUpAt: Date.now() - 1 });
      expect(await world.run(id)).toBe('done');
      expect(await world.events()).toEqual([
        expect.objectContaining({
          event: 'transactionGaveUp',
          step: 'device',
          iccid: NEW,
          eid: CAR.eid,
          seconds: 42,
          reason: `no vehicle with EID ${CAR.eid} in the platform's inventory (an eSIM that reports no profile is not listed)`,
          needs: 'a look at the vehicle',
        }),
      ]);
      expect(await world.statuses()).toEqual([`${NEW} installation_failed ${CAR.eid}`]);
      expect(await task(world, id)).toMatchObject({ done: true });
      expect(world.calls()).toEqual([]);
      expect(await world.metric('aid_gateway_devicemgmt_transactions_total')).toEqual([
        'aid_gateway_devicemgmt_transactions_total cmp=cmpF,action=device,outcome=gave_up 1',
      ]);
    }));

  test('given up during the enable: the reason names the enable and the seconds, no installation_failed after installed', () =>
    withWorld({ settings: { giveUpSeconds: 42 } }, async (world) => {
      world.platform.hold('enable', true);
      const { id } = await world.task({ deviceId: CAR.deviceId });
      expect(await world.run(id)).toBe('wait');
      expect(await world.run(id)).toBe('wait');
      const saved = (await task(world, id)) as Task;
      expect(saved.step).toBe('enable');
      await world.fleet.saveTask({ ...saved, giveUpAt: Date.now() - 1, txStartedAt: Date.now() - 30000 });
      expect(await world.run(id)).toBe('done');
      expect(await world.events()).toEqual([
        expect.objectContaining({ event: 'transactionGaveUp', action: 'enable', reason: 'the enable did not end within 42 s', seconds: 42 }),
      ]);
      expect(await world.statuses()).toEqual([`${NEW} installed ${CAR.eid}`]);
      expect(await world.metric('aid_gateway_devicemgmt_transaction_seconds')).toContain(
        'aid_gateway_devicemgmt_transaction_seconds_count cmp=cmpF,action=enable,outcome=gave_up 1',
      );
      // the seconds since the enable started
      const seconds = await world.sum('aid_gateway_devicemgmt_transaction_seconds', { action: 'enable', outcome: 'gave_up' });
      expect(seconds).toBeGreaterThanOrEqual(30);
      expect(seconds).toBeLessThan(60);
    }));

  test('given up before the device was found, for a code given without an ICCID: no status (no ICCID to name), the back office told', () =>
    withWorld({ noCar: true }, async (world) => {
      const { id } = await world.task({ iccid: undefined, giveUpAt: Date.now() - 1 });
      expect(await world.run(id)).toBe('done');
      expect(await world.statuses()).toEqual([]);
      expect(await world.events('transactionGaveUp')).toHaveLength(1);
    }));

  // a store call that fails is no answer of the platform: the outbox runs the task again
  test('a store call that fails within a step: the run fails to be made again, the task neither failed nor told', () => {
    const faults = new FaultPlan();
    return withWorld({ faults }, async (world) => {
      const { id } = await world.task();
      // the task's read, then the device's cached id: the second fails
      faults.arm(1, 'before');
      await expect(world.run(id)).rejects.toThrow();
      expect(faults.hit).toBe('before records(cmpF).get');
      faults.reset();
      expect(await task(world, id)).toMatchObject({ step: 'device', done: false });
      expect(await world.queued()).toEqual([]);
    });
  });

  // the task records that it starts an action before it asks the platform, so that an instance that
  // dies meanwhile leaves a task that looks for the action instead of starting it twice
  test('the start of an action is recorded before the platform is asked', () =>
    withWorld({}, async (world) => {
      world.platform.delayNext('download', 300);
      const { id } = await world.task({ deviceId: CAR.deviceId });
      const before = Date.now();
      let settled = false;
      const run = world.run(id).finally(() => (settled = true));
      let starting: Task['starting'];
      while (!starting && !settled) {
        starting = (await task(world, id))?.starting;
        await sleep(5);
      }
      expect(starting?.action).toBe('download');
      expect(starting?.at).toBeGreaterThanOrEqual(before);
      expect(await run).toBe('wait');
      expect((await task(world, id))?.starting).toBeUndefined();
    }));

  // an instance that died between recording that it starts the download and recording the
  // transaction: seed `transactions/inventory` "Monitor the progress of an eSIM profile action"
  test('a download started by an instance that died before recording it is found and followed, not started again', () =>
    withWorld({ settings: { enable: 'never' } }, async (world) => {
      const at = Date.now();
      const { id } = await world.task({ deviceId: CAR.deviceId, step: 'download', starting: { action: 'download', at } });
      const started = await fetch(`${world.platform.url}/ws/v1/esim_profiles/download`, {
        method: 'POST',
        headers: { 'api-key': KEY, 'content-type': 'application/json' },
        body: JSON.stringify({ device_id: CAR.deviceId, eid: CAR.eid, activation_code: CODE, iccid: NEW }),
      });
      const { transaction } = (await started.json()) as { transaction: string };
      expect(await world.run(id)).toBe('wait');
      expect(await task(world, id)).toMatchObject({ tx: transaction, starting: undefined, done: false, txStartedAt: at });
      expect(await world.run(id)).toBe('done');
      expect(world.calls().filter((c) => c === 'POST /download')).toHaveLength(1);
      expect(world.calls()).toContain('GET /transactions/inventory');
      expect(await world.statuses()).toEqual([`${NEW} installed ${CAR.eid}`]);
    }));

  test('a start recorded but none found on the platform: the download is started', () =>
    withWorld({ settings: { enable: 'never' } }, async (world) => {
      const { id } = await world.task({ deviceId: CAR.deviceId, step: 'download', starting: { action: 'download', at: Date.now() } });
      expect(await world.run(id)).toBe('wait');
      expect(world.calls()).toEqual(['GET /transactions/inventory', 'POST /download']);
    }));

  test('a start recorded of another action: no look for it, the download is started', () =>
    withWorld({ settings: { enable: 'never' } }, async (world) => {
      const { id } = await world.task({ deviceId: CAR.deviceId, step: 'download', starting: { action: 'enable', at: Date.now() } });
      expect(await world.run(id)).toBe('wait');
      expect(world.calls()).toEqual(['POST /download']);
      expect(await task(world, id)).toMatchObject({ starting: undefined, tx: expect.any(String) });
    }));
});

describe('swap (AID.02 4.3.1 2c)', () => {
  // AID.02 4.3.1 2c: "the CMP will delete the Operational Profile which was specified by the MSP from
  // the vehicle on which it was downloaded"
  test('the swapped profile on this vehicle: deleted there first, reported deleted, then the new one installed and enabled', () =>
    withWorld({ profiles: [profile(OLD)] }, async (world) => {
      const { id } = await world.task({ swappedIccid: OLD });
      expect(await world.run(id)).toBe('wait');
      expect(world.calls()).toEqual(['GET /inventory', `GET /inventory/${OLD}`, 'POST /delete']);
      expect(world.platform.calls[2].body).toEqual({ device_id: CAR.deviceId, eid: CAR.eid, iccid: OLD });
      await world.finish(id);
      expect(await world.statuses()).toEqual([`${OLD} deleted ${CAR.eid}`, `${NEW} installed ${CAR.eid}`, `${NEW} enabled ${CAR.eid}`]);
      expect(world.profilesOn(CAR.deviceId)).toEqual([expect.objectContaining({ iccid: NEW, status: 'active' })]);
      expect(await world.events()).toEqual([]);
    }));

  // AID.02 4.3.1 2c; the hub's record of the profile it put on the vehicle follows it
  test("a swapped profile the hub put on the vehicle: its record marked deleted, its MSP's token named", () =>
    withWorld({ profiles: [profile(OLD)], settings: { enable: 'never' } }, async (world) => {
      await world.fleet.saveProfile({ iccid: OLD, eid: CAR.eid, deviceId: CAR.deviceId, msp: 'mspB', mspToken: 'token-0', status: 'enabled' });
      const { id } = await world.task({ swappedIccid: OLD });
      await world.finish(id);
      expect(await world.fleet.profile(OLD)).toMatchObject({ status: 'deleted', task: undefined });
      const [deleted] = await world.statusDeliveries();
      expect(deleted).toMatchObject({ target: 'mspB', path: '/v1/statuses/token-0' });
      expect(deleted.headers['correlation-id']).toBe('correlation-1');
      expect(JSON.parse(deleted.body)).toEqual({ iccid: OLD, eid: CAR.eid, status: 'deleted' });
    }));

  // AID.02 4.3.1 2c, and its NOTE: the vehicle that holds it may be away for weeks
  test('the swapped profile on another vehicle: a task of its own deletes it there, reported with that EID; the new one goes on', () =>
    withWorld({ otherProfiles: [profile(OLD)], settings: { enable: 'never' } }, async (world) => {
      const { id } = await world.task({ swappedIccid: OLD });
      await world.finish(id);
      expect(await world.statuses()).toEqual([`${NEW} installed ${CAR.eid}`]);
      const swap = await world.fleet.task(`swap ${id}`);
      expect(swap).toMatchObject({
        kind: 'remove',
        msp: 'mspA',
        mspToken: 'token-1',
        correlationId: 'correlation-1',
        eid: OTHER.eid,
        deviceId: OTHER.deviceId,
        iccid: OLD,
        removal: 'delete',
        step: 'remove',
        done: false,
      });
      expect((await world.queued()).filter((d) => d.operation === 'dialectTask').map((d) => JSON.parse(d.body))).toEqual([{ task: `swap ${id}` }]);
      await world.finish(`swap ${id}`);
      expect(world.platform.calls.filter((c) => c.path === '/delete').map((c) => c.body)).toEqual([{ device_id: OTHER.deviceId, eid: OTHER.eid, iccid: OLD }]);
      expect(await world.statuses()).toEqual([`${NEW} installed ${CAR.eid}`, `${OLD} deleted ${OTHER.eid}`]);
      expect(world.profilesOn(OTHER.deviceId)).toEqual([]);
    }));

  // seed: "eSIM profiles are created or deleted in the system only when the device reports
  // successful profile actions": a profile no vehicle reports is off every vehicle
  test('the swapped profile on no vehicle, put on one by the hub: no delete, the MSP hears deleted with the EID it was on', () =>
    withWorld({ settings: { enable: 'never' } }, async (world) => {
      await world.fleet.saveProfile({ iccid: OLD, eid: OTHER.eid, deviceId: OTHER.deviceId, msp: 'mspA', mspToken: 'token-1', status: 'enabled' });
      const { id } = await world.task({ swappedIccid: OLD });
      await world.finish(id);
      expect(world.calls().filter((c) => c === 'POST /delete')).toEqual([]);
      expect(await world.statuses()).toEqual([`${OLD} deleted ${OTHER.eid}`, `${NEW} installed ${CAR.eid}`]);
    }));

  test('the swapped profile on no vehicle, never put on one by the hub or reported deleted already: the MSP hears nothing of it', () =>
    withWorld({ settings: { enable: 'never' } }, async (world) => {
      await world.fleet.saveProfile({
        iccid: '8949010000000000037',
        eid: OTHER.eid,
        deviceId: OTHER.deviceId,
        msp: 'mspA',
        mspToken: 'token-1',
        status: 'deleted',
      });
      const first = await world.task({ swappedIccid: OLD });
      await world.finish(first.id);
      const second = await world.task({ swappedIccid: '8949010000000000037', iccid: undefined, activationCode: CODE });
      await world.finish(second.id);
      expect((await world.statuses()).filter((s) => s.includes('deleted'))).toEqual([]);
    }));

  test('the lookup of the swapped profile refused (400): the back office told, the new one goes on', () =>
    withWorld({ settings: { enable: 'never' } }, async (world) => {
      world.platform.refuseNext(`/inventory/${OLD}`, 400);
      const { id } = await world.task({ swappedIccid: OLD, deviceId: CAR.deviceId, step: 'removeSwapped' });
      await world.finish(id);
      expect(await world.events()).toEqual([
        expect.objectContaining({
          event: 'transactionFailed',
          action: 'delete',
          step: 'removeSwapped',
          iccid: OLD,
          needs: 'the swapped profile deleted from the vehicle by hand',
        }),
      ]);
      expect(await world.statuses()).toEqual([`${NEW} installed ${CAR.eid}`]);
    }));

  test('given up during the delete of the swapped profile: the new profile never reached the vehicle, installation_failed', () =>
    withWorld({ profiles: [profile(OLD)] }, async (world) => {
      world.platform.hold('delete', true);
      const { id } = await world.task({ swappedIccid: OLD, deviceId: CAR.deviceId });
      expect(await world.run(id)).toBe('wait');
      await world.fleet.saveTask({ ...((await task(world, id)) as Task), giveUpAt: Date.now() - 1 });
      expect(await world.run(id)).toBe('done');
      expect(await world.events()).toEqual([
        expect.objectContaining({
          event: 'transactionGaveUp',
          action: 'delete',
          step: 'removeSwapped',
          iccid: OLD,
          needs: 'the swapped profile deleted from the vehicle by hand',
        }),
      ]);
      expect(await world.statuses()).toEqual([`${NEW} installation_failed ${CAR.eid}`]);
    }));

  // seed: eSIM profile data names "device_id - The device ID of the device that reported the eSIM
  // profile" and "eid - The eSIM's EID": either names the vehicle
  test.each([
    ['its device id but no EID', 'eid'],
    ['its EID but no device id', 'device_id'],
  ] as const)('the swapped profile reported with %s: it is on this vehicle, deleted there', (_title, missing) =>
    withWorld(
      { profiles: [profile(OLD)], settings: { enable: 'never' }, rewrite: (p, json) => (p === `/inventory/${OLD}` ? { ...json, [missing]: undefined } : json) },
      async (world) => {
        const { id } = await world.task({ swappedIccid: OLD });
        await world.finish(id);
        expect(world.platform.calls.filter((c) => c.path === '/delete').map((c) => c.body)).toEqual([{ device_id: CAR.deviceId, eid: CAR.eid, iccid: OLD }]);
        expect(await world.statuses()).toEqual([`${OLD} deleted ${CAR.eid}`, `${NEW} installed ${CAR.eid}`]);
        expect(await world.events()).toEqual([]);
      },
    ),
  );

  // AID.02 4.3.1 2c: deleted "from the vehicle on which it was downloaded", which the platform must name
  test('the swapped profile reported on no device the hub can name: the back office told to delete it by hand, the new one goes on', () =>
    withWorld(
      {
        otherProfiles: [profile(OLD)],
        settings: { enable: 'never' },
        rewrite: (p, json) => (p === `/inventory/${OLD}` ? { ...json, device_id: undefined } : json),
      },
      async (world) => {
        const { id } = await world.task({ swappedIccid: OLD });
        await world.finish(id);
        expect(await world.events()).toEqual([
          expect.objectContaining({
            event: 'transactionFailed',
            action: 'delete',
            iccid: OLD,
            msp: 'mspA',
            reason: 'the platform names no device for the swapped profile',
            needs: 'the swapped profile deleted from its vehicle by hand',
          }),
        ]);
        expect(await world.fleet.task(`swap ${id}`)).toBeUndefined();
        expect(world.calls()).not.toContain('POST /delete');
        expect(await world.statuses()).toEqual([`${NEW} installed ${CAR.eid}`]);
      },
    ));

  test('the swapped profile on another vehicle that the platform names by device only: the back office told to delete it by hand', () =>
    withWorld(
      { otherProfiles: [profile(OLD)], settings: { enable: 'never' }, rewrite: (p, json) => (p === `/inventory/${OLD}` ? { ...json, eid: undefined } : json) },
      async (world) => {
        const { id } = await world.task({ swappedIccid: OLD });
        await world.finish(id);
        expect(await world.events('transactionFailed')).toEqual([expect.objectContaining({ reason: 'the platform names no device for the swapped profile' })]);
      },
    ));

  // an instance that died between recording that it starts the delete and recording the transaction
  test("a swapped profile's delete started by an instance that died: found and followed, reported deleted, not looked up again", () =>
    withWorld({ profiles: [profile(OLD)], settings: { enable: 'never' } }, async (world) => {
      const at = Date.now();
      const { id } = await world.task({ swappedIccid: OLD, deviceId: CAR.deviceId, step: 'removeSwapped', starting: { action: 'delete', at } });
      await fetch(`${world.platform.url}/ws/v1/esim_profiles/delete`, {
        method: 'POST',
        headers: { 'api-key': KEY, 'content-type': 'application/json' },
        body: JSON.stringify({ device_id: CAR.deviceId, eid: CAR.eid, iccid: OLD }),
      });
      await world.finish(id);
      expect(world.calls().filter((c) => c.startsWith('POST /delete') || c.startsWith('GET /inventory/'))).toEqual(['POST /delete']);
      expect(await world.statuses()).toEqual([`${OLD} deleted ${CAR.eid}`, `${NEW} installed ${CAR.eid}`]);
    }));

  test('the multistep setting: after the swap, the operation activate', () =>
    withWorld({ profiles: [profile(OLD)], settings: { enable: 'multistep' } }, async (world) => {
      const { id } = await world.task({ swappedIccid: OLD });
      await world.finish(id);
      expect(world.calls()).toContain('POST /operations/inventory');
      expect(await world.statuses()).toEqual([`${OLD} deleted ${CAR.eid}`, `${NEW} enabled ${CAR.eid}`]);
    }));
});

describe('remove (AID.02 4.5: after Notify MSP Token Invalid)', () => {
  const removal = (world: World, fields: Partial<Task>) =>
    world.task({ kind: 'remove', iccid: OLD, activationCode: undefined, deviceId: CAR.deviceId, step: 'remove', ...fields });

  // AID.02 4.5 Delete OP; AID.02 7.8: deleted / disabled; seed: delete and disable actions
  test.each([
    ['delete', undefined, 'deleted', []],
    ['delete', 'delete', 'deleted', []],
    ['disable', 'disable', 'disabled', [OLD]],
  ] as const)('%s: reported %s once the vehicle did it', (action, removalField, status, left) =>
    withWorld({ profiles: [profile(OLD)] }, async (world) => {
      await world.fleet.saveProfile({ iccid: OLD, eid: CAR.eid, deviceId: CAR.deviceId, msp: 'mspA', mspToken: 'token-1', status: 'enabled', task: 'x' });
      const { id } = await removal(world, { removal: removalField });
      expect(await world.run(id)).toBe('wait');
      expect(await world.statuses()).toEqual([]);
      expect(world.platform.calls.map((c) => `${c.path} ${JSON.stringify(c.body)}`)).toEqual([
        `/${action} ${JSON.stringify({ device_id: CAR.deviceId, eid: CAR.eid, iccid: OLD })}`,
      ]);
      expect(await world.run(id)).toBe('done');
      expect(await world.statuses()).toEqual([`${OLD} ${status} ${CAR.eid}`]);
      expect(world.profilesOn(CAR.deviceId).map((p) => p.iccid)).toEqual(left);
      expect(await world.fleet.profile(OLD)).toMatchObject({ status, task: undefined });
    }),
  );

  test.each([
    [undefined, 'delete'],
    ['disable', 'disable'],
  ] as const)('a removal (%s) whose poll is refused: no status, the back office told to %s it by hand, no installation_failed', (removalField, action) =>
    withWorld({ profiles: [profile(OLD)] }, async (world) => {
      const { id } = await removal(world, { removal: removalField });
      expect(await world.run(id)).toBe('wait');
      world.platform.refuseNext('/progress/', 404);
      expect(await world.run(id)).toBe('done');
      expect(await world.statuses()).toEqual([]);
      expect(await world.events()).toEqual([
        expect.objectContaining({ event: 'transactionFailed', action, step: 'remove', needs: `the profile ${action}d on the vehicle by hand` }),
      ]);
    }),
  );

  test('a removal that finds no device: given up, the reason names the EID, no installation_failed', () =>
    withWorld({ noCar: true }, async (world) => {
      const { id } = await removal(world, { deviceId: undefined, step: 'device', giveUpAt: Date.now() - 1 });
      expect(await world.run(id)).toBe('done');
      expect(await world.statuses()).toEqual([]);
      expect(await world.events('transactionGaveUp')).toEqual([
        expect.objectContaining({ action: 'delete', needs: 'the profile deleted on the vehicle by hand' }),
      ]);
    }));

  test('a removal whose device is found goes to the remove step', () =>
    withWorld({ profiles: [profile(OLD)] }, async (world) => {
      const { id } = await removal(world, { deviceId: undefined, step: 'device', swappedIccid: OLD });
      expect(await world.run(id)).toBe('wait');
      expect(world.calls()).toEqual(['GET /inventory', 'POST /delete']);
    }));
});

describe('multistep activate (seed: "multistep operations combine actions like download and enable into a single API call")', () => {
  // seed: operation `activate`, statuses "starting, download, download_verify, enable, enable_verify,
  // failed, successful"; carrier "Used to find a matching activation code or existing profile"
  test('successful and the profile active: enabled, the operation asked with the carrier configured for the MSP', () =>
    withWorld({ settings: { enable: 'multistep' } }, async (world) => {
      const { id } = await world.task({ deviceId: CAR.deviceId });
      expect(await world.run(id)).toBe('wait');
      expect(world.platform.calls[0].body).toEqual({
        operation: 'activate',
        device_id: CAR.deviceId,
        eid: CAR.eid,
        iccid: NEW,
        activation_code: CODE,
        carrier: 'Mobile',
      });
      await world.finish(id);
      expect(await world.statuses()).toEqual([`${NEW} enabled ${CAR.eid}`]);
      expect(await world.fleet.profile(NEW)).toMatchObject({ status: 'enabled', task: undefined });
      expect(await world.events()).toEqual([]);
      expect(world.calls()).toContain(`GET /inventory/${NEW}`);
      expect(await world.metric('aid_gateway_devicemgmt_transactions_total')).toEqual(
        expect.arrayContaining([
          'aid_gateway_devicemgmt_transactions_total cmp=cmpF,action=activate,outcome=started 1',
          'aid_gateway_devicemgmt_transactions_total cmp=cmpF,action=activate,outcome=complete 1',
        ]),
      );
    }));

  test('no carrier configured for the MSP: the operation is asked without one', () =>
    withWorld({ settings: { enable: 'multistep', carriers: new Map() } }, async (world) => {
      const { id } = await world.task({ deviceId: CAR.deviceId });
      expect(await world.run(id)).toBe('wait');
      expect(world.platform.calls[0].body).toEqual({ operation: 'activate', device_id: CAR.deviceId, eid: CAR.eid, iccid: NEW, activation_code: CODE });
    }));

  // seed: "If you try to activate “Fred’s Fast Wireless Service” profile on a device but the system
  // sees only “Mobile” being reported, it may attempt to activate another profile"
  test('successful, yet another profile activated: installed, the back office told, the hub enables its profile by ICCID', () =>
    withWorld({ settings: { enable: 'multistep' }, reportedCarrier: 'Fred', profiles: [profile('8949000000000000025', 'inactive')] }, async (world) => {
      const { id } = await world.task({ deviceId: CAR.deviceId });
      await world.finish(id);
      expect(await world.statuses()).toEqual([`${NEW} installed ${CAR.eid}`, `${NEW} enabled ${CAR.eid}`]);
      expect(await world.events()).toEqual([
        expect.objectContaining({
          event: 'activationNotConfirmed',
          iccid: NEW,
          msp: 'mspA',
          onVehicle: 'inactive',
          needs: 'a look at the carrier configured for the MSP (the hub enables the profile by its ICCID)',
        }),
      ]);
      expect(world.platform.calls.filter((c) => c.path === '/enable').map((c) => c.body.iccid)).toEqual([NEW]);
    }));

  test('successful, yet another profile activated, with enable never: installed only, done', () =>
    withWorld({ settings: { enable: 'never' }, reportedCarrier: 'Fred', profiles: [profile('8949000000000000025', 'inactive')] }, async (world) => {
      const { id } = await world.task({ deviceId: CAR.deviceId, step: 'activate' });
      await world.finish(id);
      expect(await world.statuses()).toEqual([`${NEW} installed ${CAR.eid}`]);
      expect(await world.fleet.profile(NEW)).toMatchObject({ status: 'installed', task: undefined });
      expect(world.calls().filter((c) => c === 'POST /enable')).toEqual([]);
    }));

  // seed: the carrier is "Used to find a matching activation code or existing profile on the device"
  test("successful on an existing profile of the SPN, the MSP's not downloaded: the hub downloads and enables it separately", () =>
    withWorld(
      { settings: { enable: 'multistep' }, readings: { operationFinds: 'existingProfile' }, profiles: [profile('8949000000000000025', 'inactive')] },
      async (world) => {
        const { id } = await world.task({ deviceId: CAR.deviceId });
        await world.finish(id);
        expect(await world.events()).toEqual([
          expect.objectContaining({
            event: 'activationNotConfirmed',
            iccid: NEW,
            onVehicle: 'absent',
            needs: 'a look at the carrier configured for the MSP (the hub downloads and enables the profile separately)',
          }),
        ]);
        expect(await world.statuses()).toEqual([`${NEW} installed ${CAR.eid}`, `${NEW} enabled ${CAR.eid}`]);
        expect(world.calls().filter((c) => c === 'POST /download' || c === 'POST /enable')).toEqual(['POST /download', 'POST /enable']);
      },
    ));

  test('failed without a download, and no code to download separately: installation_failed', () =>
    withWorld(
      { settings: { enable: 'multistep' }, readings: { operationFinds: 'existingProfile' }, profiles: [profile('8949000000000000025', 'inactive')] },
      async (world) => {
        const { id } = await world.task({ deviceId: CAR.deviceId, activationCode: undefined });
        await world.finish(id);
        expect(world.calls().filter((c) => c === 'POST /download')).toEqual([]);
        expect(await world.statuses()).toEqual([`${NEW} installation_failed ${CAR.eid}`]);
        expect(await world.events()).toEqual([
          expect.objectContaining({
            event: 'activationNotConfirmed',
            iccid: NEW,
            onVehicle: 'absent',
            needs: 'the profile put on the vehicle; check the carrier configured for the MSP',
          }),
        ]);
      },
    ));

  // seed: the carrier is "Used to find a matching activation code or existing profile on the
  // device": the existing profile it found may be the MSP's own, which it enables without a download
  test("successful on the MSP's profile already on the vehicle, nothing downloaded: enabled, no separate download", () =>
    withWorld({ settings: { enable: 'multistep' }, readings: { operationFinds: 'existingProfile' }, profiles: [profile(NEW, 'inactive')] }, async (world) => {
      const { id } = await world.task({ deviceId: CAR.deviceId });
      await world.finish(id);
      expect(await world.statuses()).toEqual([`${NEW} enabled ${CAR.eid}`]);
      expect(await world.events()).toEqual([]);
      expect(world.calls().filter((c) => c === 'POST /download' || c === 'POST /enable')).toEqual([]);
    }));

  // the same, another profile of the SPN found, whose enable fails: the MSP's profile is not on the
  // vehicle, and no code was given to download it separately (AID.02 7.8: installation_failed)
  test("failed enabling another profile of the SPN, the MSP's not on the vehicle and no code: installation_failed, the activate failed", () =>
    withWorld(
      { settings: { enable: 'multistep' }, readings: { operationFinds: 'existingProfile' }, profiles: [profile('8949000000000000025', 'inactive')] },
      async (world) => {
        world.platform.failNext('enable', 'the eSIM refused to enable the profile');
        const { id } = await world.task({ deviceId: CAR.deviceId, activationCode: undefined });
        await world.finish(id);
        expect(await world.statuses()).toEqual([`${NEW} installation_failed ${CAR.eid}`]);
        expect(await world.events()).toEqual([
          expect.objectContaining({ event: 'transactionFailed', action: 'activate', iccid: NEW, reason: 'the eSIM refused to enable the profile' }),
        ]);
        expect(world.calls().filter((c) => c === 'POST /download' || c === 'POST /enable')).toEqual([]);
      },
    ));

  // seed: the carrier is "Used to find a matching activation code", and an operation's `iccid` is
  // "The ICCID of the eSIM profile requested": one that found another code than the MSP's (one
  // registered under the same carrier) names the profile it downloaded; the MSP hears of its own
  test("an operation that downloaded another code than the MSP's: installation_failed for the MSP's ICCID, not the other", () =>
    withWorld({ settings: { enable: 'multistep' }, readings: { operationFinds: 'codeByCarrier' } }, async (world) => {
      const mine = '8949010000000000045';
      const code = '1$smdp.example.com$AC-TASKS-3';
      world.platform.registerCode(code, mine, false);
      const { id } = await world.task({ deviceId: CAR.deviceId, iccid: mine, activationCode: code });
      await world.finish(id);
      expect(world.profilesOn(CAR.deviceId)).toEqual([expect.objectContaining({ iccid: NEW, status: 'active' })]);
      expect(await world.statuses()).toEqual([`${mine} installation_failed ${CAR.eid}`]);
      expect(await world.events()).toEqual([expect.objectContaining({ event: 'activationNotConfirmed', iccid: mine, onVehicle: 'absent' })]);
      expect(await world.fleet.profile(NEW)).toBeUndefined();
    }));

  // AID.02 7.8 installation_failed: the operation's download failed, nothing reached the vehicle
  test('failed in its download: installation_failed, the back office told the activate failed', () =>
    withWorld({ settings: { enable: 'multistep' } }, async (world) => {
      world.platform.failNext('activate', 'the SM-DP+ refused the code');
      const { id } = await world.task({ deviceId: CAR.deviceId });
      await world.finish(id);
      expect(await world.statuses()).toEqual([`${NEW} installation_failed ${CAR.eid}`]);
      expect(await world.events()).toEqual([
        expect.objectContaining({ event: 'transactionFailed', action: 'activate', iccid: NEW, reason: 'the SM-DP+ refused the code' }),
      ]);
      expect(await world.metric('aid_gateway_devicemgmt_transactions_total')).toContain(
        'aid_gateway_devicemgmt_transactions_total cmp=cmpF,action=activate,outcome=failed 1',
      );
    }));

  // seed: enable_tx "The transaction ID for the enable operation": an operation failed in its enable
  // left the profile on the vehicle
  test('failed after its download (no profile reports the SPN): installed, the back office told, the hub enables it by ICCID', () =>
    withWorld({ settings: { enable: 'multistep' }, reportedCarrier: 'Fred' }, async (world) => {
      const { id } = await world.task({ deviceId: CAR.deviceId });
      await world.finish(id);
      expect(await world.statuses()).toEqual([`${NEW} installed ${CAR.eid}`, `${NEW} enabled ${CAR.eid}`]);
      expect(await world.events()).toEqual([
        expect.objectContaining({ event: 'activationNotConfirmed', iccid: NEW, onVehicle: 'inactive', reason: expect.stringContaining('Mobile') }),
      ]);
    }));

  // seed: an operation `failed` may have failed after "the device ... report[ed] the profiles"; what the
  // vehicle reports of the MSP's profile decides (AID.02 7.8: enabled once it is active)
  test('failed in its enable, yet the vehicle reports the profile active: enabled, the back office told the operation failed', () =>
    withWorld({ settings: { enable: 'multistep' } }, async (world) => {
      world.platform.failNext('enable', 'the eSIM refused to enable the profile');
      const { id } = await world.task({ deviceId: CAR.deviceId });
      expect(await world.run(id)).toBe('wait');
      const tx = (await task(world, id))?.tx ?? '';
      for (let i = 0; i < 5; i++) await fetch(`${world.platform.url}/ws/v1/esim_profiles/operations/inventory/${tx}`, { headers: { 'api-key': KEY } });
      world.platform.change(NEW, 'active');
      expect(await world.run(id)).toBe('done');
      expect(await world.statuses()).toEqual([`${NEW} enabled ${CAR.eid}`]);
      expect(await world.events()).toEqual([
        expect.objectContaining({ event: 'activationNotConfirmed', iccid: NEW, reason: 'the eSIM refused to enable the profile' }),
      ]);
      expect(world.calls()).not.toContain('POST /enable');
    }));

  // seed: an operation's `iccid`, "The ICCID of the eSIM profile requested": one that names none, for
  // a code given without one, leaves the hub no ICCID to report (AID.02 7.8 names the profile by it)
  test.each([
    ['successful', undefined, 'the vehicle reported no ICCID for the profile'],
    ['failed in its enable', 'enable', 'the vehicle reported no ICCID for the profile'],
    ['failed in its download', 'activate', 'the SM-DP+ refused the code'],
  ] as const)('an operation %s that names no ICCID: no status, the back office told', (_title, fails, reason) =>
    withWorld(
      { settings: { enable: 'multistep' }, rewrite: (p, json) => (p.startsWith('/operations/inventory/') ? { ...json, iccid: undefined } : json) },
      async (world) => {
        if (fails) world.platform.failNext(fails, 'the SM-DP+ refused the code');
        const { id } = await world.task({ deviceId: CAR.deviceId, iccid: undefined });
        await world.finish(id);
        expect(await world.statuses()).toEqual([]);
        expect(await world.events()).toEqual([expect.objectContaining({ event: 'transactionFailed', action: 'activate', reason })]);
        expect(world.calls().filter((c) => c.startsWith('GET /inventory/'))).toEqual([]);
      },
    ),
  );

  test('successful, the vehicle reporting the profile elsewhere: installation_failed, the back office told it is absent', () =>
    withWorld({ settings: { enable: 'multistep' } }, async (world) => {
      const { id } = await world.task({ deviceId: CAR.deviceId });
      expect(await world.run(id)).toBe('wait');
      const tx = (await task(world, id))?.tx ?? '';
      // the operation runs to its end; the profile then moves to the other car (the inventory says so)
      for (let i = 0; i < 5; i++) await fetch(`${world.platform.url}/ws/v1/esim_profiles/operations/inventory/${tx}`, { headers: { 'api-key': KEY } });
      const moved = world.platform.devices.get(CAR.deviceId)?.profiles.get(NEW) as SimProfile;
      world.platform.devices.get(CAR.deviceId)?.profiles.delete(NEW);
      world.platform.devices.get(OTHER.deviceId)?.profiles.set(NEW, moved);
      expect(await world.run(id)).toBe('done');
      expect(await world.statuses()).toEqual([`${NEW} installation_failed ${CAR.eid}`]);
      expect(await world.events()).toEqual([expect.objectContaining({ event: 'activationNotConfirmed', iccid: NEW, onVehicle: 'absent' })]);
    }));

  test('successful for a code without an ICCID: reported under the ICCID the operation names', () =>
    withWorld({ settings: { enable: 'multistep' } }, async (world) => {
      const { id } = await world.task({ deviceId: CAR.deviceId, iccid: undefined });
      await world.finish(id);
      expect(await world.statuses()).toEqual([`${NEW} enabled ${CAR.eid}`]);
    }));

  test("the operation's poll refused (404): installation_failed, the back office told of the activate", () =>
    withWorld({ settings: { enable: 'multistep' } }, async (world) => {
      const { id } = await world.task({ deviceId: CAR.deviceId });
      expect(await world.run(id)).toBe('wait');
      world.platform.refuseNext('/operations/inventory/', 404);
      expect(await world.run(id)).toBe('done');
      expect(await world.statuses()).toEqual([`${NEW} installation_failed ${CAR.eid}`]);
      expect(await world.events()).toEqual([expect.objectContaining({ event: 'transactionFailed', action: 'activate', step: 'activate' })]);
    }));
});

describe('told once (a run made again after a store call lost its answer)', () => {
  // AID.02 5.1: one CMP-request-id per message; each status of a task is its own message
  test('each status and event of a task has its own CMP-request-id, the same when the step is made again', () =>
    withWorld({ profiles: [profile(OLD)] }, async (world) => {
      const { id } = await world.task({ swappedIccid: OLD });
      await world.finish(id);
      const ids = (await world.statusDeliveries()).map((d) => d.headers['cmp-request-id']);
      expect(new Set(ids).size).toBe(3);
      const again = await world.task({ id, swappedIccid: OLD });
      await world.finish(again.id);
      expect(await world.statuses()).toEqual([`${OLD} deleted ${CAR.eid}`, `${NEW} installed ${CAR.eid}`, `${NEW} enabled ${CAR.eid}`]);
    }));

  // AID.02 5.1: one CMP-request-id per message; AID.02 7.8: the profile never reached the vehicle,
  // which the MSP hears once whichever way the task learns it (the step's end, the give-up)
  test.each<[string, Options, Partial<Task>, SimAction | undefined, string]>([
    ['a download that failed', {}, {}, 'download', 'transactionFailed'],
    [
      'an operation that left the profile off the vehicle',
      { settings: { enable: 'multistep' }, readings: { operationFinds: 'existingProfile' }, profiles: [profile('8949000000000000025', 'inactive')] },
      { activationCode: undefined },
      undefined,
      'activationNotConfirmed',
    ],
  ])('%s, its end lost by the store and the task given up before its next run: installation_failed told once', (_title, options, fields, fails, told) =>
    withWorld(options, async (world) => {
      if (fails) world.platform.failNext(fails, 'the SM-DP+ refused the code');
      const { id } = await world.task({ deviceId: CAR.deviceId, ...fields });
      expect(await world.run(id)).toBe('wait');
      const following = (await task(world, id)) as Task;
      await world.finish(id);
      expect(await world.statuses()).toEqual([`${NEW} installation_failed ${CAR.eid}`]);
      // the run's save of the ended task lost: the store holds the task as the run found it, and its time runs out
      await world.fleet.saveTask({ ...following, giveUpAt: Date.now() - 1 });
      expect(await world.run(id)).toBe('done');
      expect((await world.events()).map((e) => e.event)).toEqual([told, 'transactionGaveUp']);
      expect(await world.statuses()).toEqual([`${NEW} installation_failed ${CAR.eid}`]);
    }),
  );

  // AID.02 5.1: one CMP-request-id per message. The MSP hears installed, then installation_failed;
  // the back office hears both looks at the vehicle as well (the profile inactive, then absent), not
  // the first only: each kind of "not confirmed" is its own message
  test("an operation's end lost by the store, the vehicle's report changed before the step is made again: the back office told both", () =>
    withWorld({ settings: { enable: 'multistep' }, reportedCarrier: 'Fred', profiles: [profile('8949000000000000025', 'inactive')] }, async (world) => {
      const { id } = await world.task({ deviceId: CAR.deviceId });
      expect(await world.run(id)).toBe('wait');
      const following = (await task(world, id)) as Task;
      for (let i = 0; i < 5; i++)
        await fetch(`${world.platform.url}/ws/v1/esim_profiles/operations/inventory/${following.tx ?? ''}`, { headers: { 'api-key': KEY } });
      await world.run(id);
      expect((await world.events()).map((e) => e.onVehicle)).toEqual(['inactive']);
      // the run's save of the ended operation lost; the profile then leaves the vehicle
      await world.fleet.saveTask(following);
      world.platform.devices.get(CAR.deviceId)?.profiles.delete(NEW);
      expect(await world.run(id)).toBe('done');
      expect(await world.statuses()).toEqual([`${NEW} installed ${CAR.eid}`, `${NEW} installation_failed ${CAR.eid}`]);
      expect((await world.events()).map((e) => [e.event, e.onVehicle])).toEqual([
        ['activationNotConfirmed', 'inactive'],
        ['activationNotConfirmed', 'absent'],
      ]);
    }));

  // AID.02 5.1 as above; docs/dialects/devicemgmt.md: a refused poll fails the step as its failed end
  // does: one failure of a step is one event to the back office, whichever way the task learns it
  const workshop = 'the vehicle is in a workshop';
  test.each<[string, Options, Partial<Task>, SimAction | undefined, number, string]>([
    ['a download that failed', {}, {}, 'download', 1, workshop],
    ['an enable that failed', {}, {}, 'enable', 2, workshop],
    ["a swapped profile's delete that failed", { profiles: [profile(OLD)], settings: { enable: 'never' } }, { swappedIccid: OLD }, 'delete', 1, workshop],
    [
      "a removal's delete that failed",
      { profiles: [profile(OLD)] },
      { kind: 'remove', iccid: OLD, activationCode: undefined, step: 'remove', removal: 'delete' },
      'delete',
      1,
      workshop,
    ],
    [
      'a download complete that names no ICCID, for a code given without one',
      { rewrite: (p, json) => (p.startsWith('/progress/') ? { ...json, iccid: undefined } : json) },
      { iccid: undefined },
      undefined,
      1,
      'the vehicle reported no ICCID for the profile',
    ],
  ])('%s, its end lost by the store, then its poll refused: the back office told once', (_title, options, fields, fails, runs, reason) =>
    withWorld(options, async (world) => {
      if (fails) world.platform.failNext(fails, workshop);
      const { id } = await world.task({ deviceId: CAR.deviceId, ...fields });
      for (let i = 0; i < runs; i++) expect(await world.run(id)).toBe('wait');
      const following = (await task(world, id)) as Task;
      await world.finish(id);
      expect(await world.events('transactionFailed')).toHaveLength(1);
      // the run's save of the ended task lost; the next run's poll refused
      await world.fleet.saveTask(following);
      world.platform.refuseNext('/progress/', 404);
      const before = world.calls().length;
      await world.run(id);
      expect(world.calls()[before]).toMatch(/^GET \/progress\//);
      expect(await world.events('transactionFailed')).toEqual([expect.objectContaining({ reason })]);
    }),
  );
});
