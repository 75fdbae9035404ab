/**
 * A partner's back-office webhook, as dialects take it in their settings block: `{url, insecure?,
 * auth?}`, called through the upstream layer like any partner endpoint.
 */
import { outboundAuth, type RawAuth } from './credentials';
import { outboundAuthSchema } from './schemaParts';
import type { BreakerSettings, UpstreamConfig } from './types';

export const webhookSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['url'],
  properties: { url: { type: 'string', pattern: '^https?://' }, insecure: { type: 'boolean' }, auth: outboundAuthSchema },
} as const;

export type RawWebhook = { url: string; insecure?: boolean; auth?: RawAuth };

/** events are few: a small pool */
export function webhookUpstream(raw: RawWebhook, breaker: BreakerSettings): UpstreamConfig {
  return Object.freeze({ url: new URL(raw.url), auth: outboundAuth(raw.auth), connections: 4, breaker });
}
