/**
 * The `telcoapi` dialect module: an MSP whose machine interface is an eSIM management REST platform
 * (seed "TelcoAPI"). The hub plays the MSP toward every CMP (hostedMsp/mspDialect.ts), creates profiles
 * and activation codes on the platform (activation.ts, platformClient.ts), keeps the operator's
 * profiles in its record store and tells its back office through the outbox (operator.ts), and
 * takes the platform's signed webhooks (webhook.ts). The hub issues such an operator's msp_tokens
 * itself, so it knows every one: tokens are strict.
 */
import type { DialectInstance, DialectModule } from '../dialect';
import { createMspDialect } from '../../hostedMsp/mspDialect';
import { startTelcoapiSimulator } from './simulator';
import { requestActivationCode } from './activation';
import { deactivate, withdraw } from './deactivation';
import { telcoapiKnownSeries, telcoapiMetrics } from './metrics';
import { TelcoOperator } from './operator';
import { PlatformClient } from './platformClient';
import { applyAllPending, PENDING_SWEEP_MS } from './platformEvents';
import { settingsSchema, telcoapiSettings, type TelcoapiSettings } from './settings';
import { platformWebhook, WEBHOOK_PATH } from './webhook';

export interface TelcoapiInstance extends DialectInstance {
  readonly operator: TelcoOperator;
}

export const telcoapi: DialectModule<TelcoapiSettings, TelcoapiInstance> = {
  name: 'telcoapi',
  roles: ['msp'],
  settingsSchema,
  settings: telcoapiSettings,
  endpoints: (settings) => (settings.webhook ? [{ name: 'telcoapi.webhook', url: settings.webhook.url }] : []),
  build(partner, settings, services) {
    const webhook = settings.webhook && services.upstreamFor(settings.webhook, `${partner.id}.webhook`);
    const metrics = telcoapiMetrics(services.metrics.registry);
    telcoapiKnownSeries(metrics, partner.id);
    const client = new PlatformClient(services.upstream, settings, metrics);
    const operator = new TelcoOperator(
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
    const dialect = createMspDialect(operator, webhook, {
      requestActivationCode: (req, deadline, log) => requestActivationCode(operator, req, deadline, log),
      withdraw: (profile, deadline, log) => withdraw(operator, profile, deadline, log),
      deactivate: (profile, deadline, log) => deactivate(operator, profile, deadline, log),
    });
    // the hub is the MSP here: its platform being away is the MSP's service being unavailable (503)
    return {
      ...dialect,
      operator,
      policy: { tokens: 'strict', unreachable: 'platformUnavailable' },
      // platform events whose hub stopped between answering the webhook and applying them
      routines: [{ name: `${partner.id} platform events`, everyMs: PENDING_SWEEP_MS, run: () => applyAllPending(operator, services.log) }],
    };
  },
  routes: (instances) => [platformWebhook(instances.map((i) => i.operator))],
  // a simulated platform whose webhooks reach the hub, signed with the operator's first secret
  simulate: (partner, settings, options) =>
    startTelcoapiSimulator({
      token: partner.upstream.auth.kind === 'bearer' ? partner.upstream.auth.token : '',
      smdpAddress: 'smdp.telcoapi.example',
      host: options.host,
      port: options.port,
      webhook: { url: `${options.hubUrl}${WEBHOOK_PATH.replace(':partner', partner.id)}`, secret: settings.webhookSecrets[0] },
    }),
};
