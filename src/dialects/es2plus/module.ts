/**
 * The `es2plus` dialect module: an MSP whose only machine interface is its SM-DP+. The hub plays
 * the MSP toward every CMP (hostedMsp/mspDialect.ts), drives the SM-DP+ over ES2+ (es2Client.ts), keeps
 * the operator's profiles in its record store and tells its back office through the outbox
 * (operator.ts), and serves the SM-DP+'s HandleDownloadProgressInfo (progressCallback.ts). The hub
 * issues such an operator's msp_tokens itself, so it knows every one: tokens are strict.
 */
import type { DialectInstance, DialectModule } from '../dialect';
import { Es2Client } from './es2Client';
import { es2plusKnownSeries, es2plusMetrics } from './metrics';
import { createMspDialect } from '../../hostedMsp/mspDialect';
import { cancel, requestActivationCode } from './activation';
import { Es2Operator } from './operator';
import { progressCallback } from './progressCallback';
import { es2plusSettings, settingsSchema, type Es2plusSettings } from './settings';
import { startSmdpSimulator } from './simulator';

export interface Es2plusInstance extends DialectInstance {
  readonly operator: Es2Operator;
}

export const es2plus: DialectModule<Es2plusSettings, Es2plusInstance> = {
  name: 'es2plus',
  roles: ['msp'],
  settingsSchema,
  settings: es2plusSettings,
  endpoints: (settings) => (settings.webhook ? [{ name: 'es2plus.webhook', url: settings.webhook.url }] : []),
  build(partner, settings, services) {
    const webhook = settings.webhook && services.upstreamFor(settings.webhook, `${partner.id}.webhook`);
    const metrics = es2plusMetrics(services.metrics.registry);
    es2plusKnownSeries(metrics, partner.id);
    const client = new Es2Client(services.upstream, settings, metrics);
    const operator = new Es2Operator(
      partner,
      settings,
      client,
      services.records,
      services.outbox,
      services.metrics,
      services.log,
      services.settings.tokenBindingTtlSeconds,
      services.journey,
    );
    // the hub is the MSP here: its SM-DP+ being away is the MSP's service being unavailable (503)
    const dialect = createMspDialect(operator, webhook, {
      requestActivationCode: (req, deadline, log) => requestActivationCode(operator, req, deadline, log),
      // a profile not yet downloaded is cancelled on the SM-DP+ for good
      withdraw: async (profile, deadline, log) => {
        const outcome = await cancel(operator, profile, 'Unavailable', deadline, log);
        return outcome === 'cancelled' ? 'withdrawn' : outcome;
      },
    });
    return { ...dialect, operator, policy: { tokens: 'strict', unreachable: 'smdpUnavailable' } };
  },
  routes: (instances) => [progressCallback(instances.map((i) => i.operator))],
  // a simulated SM-DP+ with 100 demo profiles of each profile type the operator maps to
  simulate: (_partner, settings, options) =>
    startSmdpSimulator({
      inventory: Object.fromEntries([...settings.profileTypes.values()].map((type, i) => [type, demoIccids(i, 100)])),
      smdpAddress: settings.smdpAddress,
      host: options.host,
      port: options.port,
      operator: { url: options.hubUrl, headers: options.callbackHeaders },
    }),
};

/** `count` ICCIDs of 19 digits for the `block`-th profile type */
function demoIccids(block: number, count: number): string[] {
  return Array.from({ length: count }, (_, i) => `894900000000${String(block).padStart(3, '0')}${String(i).padStart(4, '0')}`);
}
