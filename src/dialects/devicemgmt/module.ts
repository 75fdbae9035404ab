/**
 * The `devicemgmt` dialect module: a CMP whose vehicles' modems are run by a device-management
 * platform with an eSIM API (seed: `/ws/v1/esim_profiles`). The hub does the CMP's machine work:
 * it puts the profiles its activation codes are for on the vehicles and tells the MSPs
 * (devicemgmtDialect.ts, tasks.ts), takes an invalidated token's profiles off them, passes the MSPs'
 * messages to the CMP's back office, and reports what changed on the vehicles without it
 * (reconcile.ts).
 */
import { randomUUID } from 'node:crypto';
import { startDeviceMgmtSimulator } from './simulator';
import type { DialectModule } from '../dialect';
import { createDevicemgmtDialect } from './devicemgmtDialect';
import { Fleet } from './fleet';
import { devicemgmtKnownSeries, devicemgmtMetrics } from './metrics';
import { DevicePlatformClient } from './platformClient';
import { reconcile } from './reconcile';
import { devicemgmtSettings, settingsSchema, type DevicemgmtSettings } from './settings';

/** the quick start's fleet, the walk's car first; each eUICC reports its bootstrap profile, by
 * which the inventory knows the car */
const DEMO_FLEET = [
  { deviceId: '00000000-00000000-0004F3FF-FF000001', eid: '89049032000001000000000831934057', iccid: '8949000099000000014' },
  { deviceId: '00000000-00000000-0004F3FF-FF000002', eid: '89049032123451234512345678901235', iccid: '8949000099000000022' },
].map(({ iccid, ...car }) => ({ ...car, profiles: [{ iccid, status: 'active' as const, carrier: 'Bootstrap', type: 'bootstrap' }] }));

export const devicemgmt: DialectModule<DevicemgmtSettings> = {
  name: 'devicemgmt',
  roles: ['cmp'],
  settingsSchema,
  settings: devicemgmtSettings,
  endpoints: (settings) => [{ name: 'devicemgmt.webhook', url: settings.webhook.url }],
  build(partner, settings, services) {
    const metrics = devicemgmtMetrics(services.metrics.registry);
    devicemgmtKnownSeries(metrics, partner.id);
    const client = new DevicePlatformClient(services.upstream, metrics);
    const fleet = new Fleet(
      partner,
      settings,
      client,
      services.records,
      services.outbox,
      services.metrics,
      metrics,
      services.log,
      services.settings.tokenBindingTtlSeconds,
      services.journey,
    );
    const source = randomUUID();
    metrics.inFlight.set(source, async () => ({ [partner.id]: await fleet.tasksInFlight() }));
    return {
      ...createDevicemgmtDialect(fleet, services.upstreamFor(settings.webhook, `${partner.id}.webhook`)),
      routines: [{ name: `${partner.id} reconcile`, everyMs: settings.reconcileIntervalSeconds * 1000, run: () => reconcile(fleet, services.log) }],
      close: async () => {
        metrics.inFlight.delete(source);
      },
    };
  },
  // a simulated platform with two cars; it also plays the CMP's back office
  simulate: (partner, _settings, options) =>
    startDeviceMgmtSimulator({
      apiKey: partner.upstream.auth.kind === 'apiKey' ? partner.upstream.auth.apiKey : '',
      devices: DEMO_FLEET,
      transactionMs: 1500,
      host: options.host,
      port: options.port,
    }),
};
