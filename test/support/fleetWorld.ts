/**
 * The device-management test world: a CMP `cmpF` whose vehicles are run by a simulated
 * device-management platform (src/simulators/deviceMgmtSimulator), an AID.02 MSP `mspA` and the
 * CMP's back office as real HTTP servers, and the hub on real Redis. The MSP hands out a fresh
 * ICCID and code per request; the simulated cars report that ICCID when they download the code.
 */
import { randomUUID } from 'node:crypto';
import { startDeviceMgmtSimulator, type DeviceMgmtSimulator, type DeviceMgmtSimulatorOptions } from '../../src/dialects/devicemgmt/simulator';
import { newEid } from './es2World';
import { FakePartner, type Received } from './fakePartner';
import { paths, requestActivationCodeBody, sendMspTokenBody } from './messages';
import { TestHub, type Answer, type PartnerSpec, type TestHubOptions } from './testHub';

export const PLATFORM_KEY = 'hub-key-at-the-device-platform';

export interface FleetWorldOptions {
  /** the `devicemgmt:` block, merged over the world's */
  readonly settings?: Record<string, unknown>;
  readonly simulator?: Partial<DeviceMgmtSimulatorOptions>;
  readonly vehicles?: number;
  readonly redisKeyPrefix?: string;
  /** the hub's state store (Redis unless a test says so) */
  readonly store?: 'redis' | 'memory';
  readonly routes?: readonly Record<string, unknown>[];
  /** merged into the fleet CMP's `upstream` (the platform): its breaker, say */
  readonly platformUpstream?: Record<string, unknown>;
  readonly wrapStore?: TestHubOptions['wrapStore'];
}

export interface Vehicle {
  readonly deviceId: string;
  readonly eid: string;
}

let serial = 0;

/** the systems around the hub: the platform with its cars, the MSP, the CMP's back office */
export class FleetParts {
  /** what the MSP answers: per activationCodeRequestID, the swap to report, or 201 (asynchronous) */
  readonly swaps = new Map<string, string>();
  readonly asynchronous = new Set<string>();
  /** requests the MSP answers only after this many milliseconds */
  readonly slow = new Map<string, number>();
  /** how the MSP's codes are registered with the platform (false: not at all) */
  registration: { readonly supplier?: string } | false = {};

  private constructor(
    readonly platform: DeviceMgmtSimulator,
    readonly msp: FakePartner,
    readonly backOffice: FakePartner,
    readonly vehicles: readonly Vehicle[],
  ) {}

  static async start(options: FleetWorldOptions = {}): Promise<FleetParts> {
    const vehicles = Array.from({ length: options.vehicles ?? 6 }, (_, i) => ({
      deviceId: `00000000-00000000-0004F3FF-FF${String(i).padStart(6, '0')}`,
      eid: newEid(),
    }));
    // each car's eUICC reports its bootstrap profile: the inventory knows the car by it
    const fleet = vehicles.map((v, i) => ({
      ...v,
      profiles: [
        {
          iccid: `8949000000${String(Date.now() % 1e5).padStart(5, '0')}${String(i).padStart(4, '0')}`,
          status: 'active' as const,
          carrier: 'Bootstrap',
          type: 'bootstrap',
        },
      ],
    }));
    const platform = await startDeviceMgmtSimulator({ apiKey: PLATFORM_KEY, devices: fleet, transactionMs: 50, ...options.simulator });
    const parts = new FleetParts(platform, await FakePartner.start(), await FakePartner.start(), vehicles);
    parts.msp.answer((req) => parts.mspAnswer(req));
    parts.backOffice.answer(() => ({ status: 204 }));
    return parts;
  }

  /** the hub's partner files: the MSP and the fleet CMP with its `devicemgmt:` block */
  partners(settings: Record<string, unknown> = {}, platformUpstream: Record<string, unknown> = {}): PartnerSpec[] {
    return [
      { id: 'mspA', role: 'msp', apiKey: 'key-mspA', upstreamUrl: this.msp.url },
      {
        id: 'cmpF',
        role: 'cmp',
        apiKey: 'key-cmpF',
        upstreamUrl: this.platform.url,
        extra: {
          dialect: 'devicemgmt',
          upstream: { url: this.platform.url, auth: { apiKey: PLATFORM_KEY }, ...platformUpstream },
          devicemgmt: { pollIntervalSeconds: 1, carriers: { mspA: 'Mobile' }, webhook: { url: `${this.backOffice.url}/events` }, ...settings },
        },
      },
    ];
  }

  /** an MSP that gives each request its own ICCID and code, now or (asynchronous) later */
  private mspAnswer(req: Received) {
    if (req.method !== 'POST' || !req.path.startsWith('/v1/activation-code-requests/')) return undefined;
    const body = req.body as { activationCodeRequestID: string };
    if (this.asynchronous.has(body.activationCodeRequestID)) return { status: 201 };
    return { status: 200, body: this.code(body.activationCodeRequestID), delayMs: this.slow.get(body.activationCodeRequestID) };
  }

  /** the code of a request: its ICCID is what the car reports after downloading it */
  code(requestId: string): { iccid: string; activationCode: string; profileType: string; swappedIccid: string | null } {
    serial += 1;
    const iccid = `89490100${String(Date.now() % 1e6).padStart(6, '0')}${String(serial).padStart(5, '0')}`;
    const activationCode = `1$smdp.example.com$AC-${serial}-${Date.now() % 1e6}`;
    this.platform.registerCode(activationCode, iccid, this.registration);
    return { iccid, activationCode, profileType: 'personal', swappedIccid: this.swaps.get(requestId) ?? null };
  }

  /** the Send CSIM Status bodies the MSP received for the token */
  statuses(token: string): { iccid: string; eid: string; status: string }[] {
    return this.msp.received
      .filter((r) => r.method === 'POST' && r.path === paths.sendCsimStatus(token))
      .map((r) => r.body as { iccid: string; eid: string; status: string });
  }

  /** the operational profiles on the car (its bootstrap profile left out) */
  profilesOn(vehicle: Vehicle): { iccid: string; status: string }[] {
    return [...(this.platform.devices.get(vehicle.deviceId)?.profiles.values() ?? [])].filter((p) => p.type !== 'bootstrap');
  }

  events(event?: string): Record<string, unknown>[] {
    return this.backOffice.received.map((r) => r.body as Record<string, unknown>).filter((e) => event === undefined || e.event === event);
  }

  close(): Promise<unknown> {
    return Promise.all([this.platform.close(), this.msp.close(), this.backOffice.close()]);
  }
}

/** the hub's settings for these tests: an outbox that looks at tasks often */
export const FLEET_SETTINGS = { outboxPollMs: 50, outboxRetryBaseMs: 100, outboxRetryMaxMs: 500, outboxClaimIdleMs: 1000 };

export class FleetWorld {
  private constructor(
    readonly hub: TestHub,
    readonly parts: FleetParts,
    private readonly owned: boolean,
  ) {}

  /** with `shared`, a hub on systems another world or process uses */
  static async start(options: FleetWorldOptions = {}, shared?: FleetParts): Promise<FleetWorld> {
    const parts = shared ?? (await FleetParts.start(options));
    const hub = await TestHub.start({
      partners: parts.partners(options.settings, options.platformUpstream),
      routes: { settings: FLEET_SETTINGS, routes: options.routes ?? [{ from: '*', to: '*', timeoutMs: 20000 }] },
      redisKeyPrefix: options.redisKeyPrefix,
      wrapStore: options.wrapStore,
      store: options.store,
    }).catch(async (err: unknown) => {
      if (!shared) await parts.close();
      throw err;
    });
    return new FleetWorld(hub, parts, !shared);
  }

  get platform(): DeviceMgmtSimulator {
    return this.parts.platform;
  }

  get msp(): FakePartner {
    return this.parts.msp;
  }

  get backOffice(): FakePartner {
    return this.parts.backOffice;
  }

  get vehicles(): readonly Vehicle[] {
    return this.parts.vehicles;
  }

  get swaps(): Map<string, string> {
    return this.parts.swaps;
  }

  get asynchronous(): Set<string> {
    return this.parts.asynchronous;
  }

  code(requestId: string): ReturnType<FleetParts['code']> {
    return this.parts.code(requestId);
  }

  statuses(token: string): ReturnType<FleetParts['statuses']> {
    return this.parts.statuses(token);
  }

  profilesOn(vehicle: Vehicle): ReturnType<FleetParts['profilesOn']> {
    return this.parts.profilesOn(vehicle);
  }

  events(event?: string): Record<string, unknown>[] {
    return this.parts.events(event);
  }

  /** the MSP issues an msp_token to the fleet through the hub (AID.02 4.2) */
  async onboard(token: string = randomUUID()): Promise<string> {
    const answer = await this.hub.call({ as: 'mspA', to: 'cmpF', method: 'POST', path: paths.sendMspToken(), body: sendMspTokenBody(token) });
    if (answer.status !== 201) throw new Error(`onboarding answered ${answer.status}`);
    return token;
  }

  requestCode(token: string, vehicle: Vehicle, requestId: string = randomUUID()): Promise<Answer> {
    return this.hub.call({
      as: 'cmpF',
      to: 'mspA',
      method: 'POST',
      path: paths.requestActivationCode(token),
      body: { ...requestActivationCodeBody(requestId), eid: vehicle.eid },
    });
  }

  async close(): Promise<void> {
    await this.hub.close();
    if (this.owned) await this.parts.close();
  }
}
