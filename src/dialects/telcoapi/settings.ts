/**
 * The `telcoapi:` block of a partner file for an operator whose machine interface is an eSIM
 * management REST platform (seed "TelcoAPI"): its schema (checked by the config loader under the
 * partner's dialect key) and the typed settings the dialect works with. The platform's base URL,
 * credential (bearer token or API key) and TLS are the partner's `upstream`.
 */
import { rateLimitOf, type RawRateLimit } from '../../config/rateLimit';
import { checkPlainHttp } from '../../config/loopback';
import { rateLimitSchema } from '../../config/schemaParts';
import { webhookSchema, webhookUpstream, type RawWebhook } from '../../config/webhook';
import type { RateLimit, UpstreamConfig } from '../../config/types';
import type { SettingsContext } from '../../config/dialects';
import type { SignatureForm } from './signature';

/** what the platform calls a profile type (seed: Create Profile) */
export const PLATFORM_PROFILE_TYPES = ['OPERATIONAL', 'PROVISIONING', 'TESTING'] as const;
export type PlatformProfileType = (typeof PLATFORM_PROFILE_TYPES)[number];

/** the platform's limits the hub's calls count against (seed: Rate Limits); the hub never calls
 * Download Profile, which the vehicle's LPA does */
export const LIMITED_ENDPOINTS = ['profileCreation', 'deviceRegistration', 'activationCodeGeneration'] as const;
export type LimitedEndpoint = (typeof LIMITED_ENDPOINTS)[number];

/** the seed's table: requests per minute */
const DEFAULT_LIMITS: Readonly<Record<LimitedEndpoint, number>> = { profileCreation: 100, deviceRegistration: 30, activationCodeGeneration: 100 };

const ICCID_BODY = '^[0-9]{18,19}$';

export const settingsSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['mno', 'profileTypes', 'webhookSecrets'],
  properties: {
    mno: { type: 'string', minLength: 1, maxLength: 64 },
    profileTypes: {
      type: 'object',
      minProperties: 1,
      additionalProperties: {
        type: 'object',
        additionalProperties: false,
        required: ['platformType', 'iccids'],
        properties: {
          platformType: { enum: PLATFORM_PROFILE_TYPES },
          // the ICCIDs the operator set aside for the hub, without their Luhn check digit (E.118)
          iccids: {
            type: 'object',
            additionalProperties: false,
            required: ['from', 'to'],
            properties: { from: { type: 'string', pattern: ICCID_BODY }, to: { type: 'string', pattern: ICCID_BODY } },
          },
          name: { type: 'string', minLength: 1, maxLength: 128 },
        },
      },
    },
    profilesPerSubscription: { type: 'integer', minimum: 1, maximum: 1000 },
    // the platform signs its webhooks with one of these; two at once while a secret is rotated
    webhookSecrets: { type: 'array', minItems: 1, maxItems: 2, items: { type: 'string', minLength: 16 } },
    webhookToleranceSeconds: { type: 'integer', minimum: 10, maximum: 3600 },
    // where the platform puts its webhook signature; absent: either place is taken
    webhookSignature: { enum: ['header', 'body'] },
    // the compatibility endpoint asked first (the other one when the platform has no such endpoint)
    compatibility: { enum: ['get', 'post'] },
    // what Request Invalidate MSP Token does on the platform with a profile on a vehicle
    onInvalidate: { enum: ['disable', 'delete'] },
    rateLimits: { type: 'object', additionalProperties: false, properties: Object.fromEntries(LIMITED_ENDPOINTS.map((e) => [e, rateLimitSchema])) },
    webhook: webhookSchema,
  },
} as const;

export interface ProfileTypeSettings {
  readonly platformType: PlatformProfileType;
  /** the profile's name on the platform (its metadata) */
  readonly name: string;
  /** the first and last ICCID of the block without check digit, as numbers of `digits` digits */
  readonly iccids: { readonly from: bigint; readonly to: bigint; readonly digits: number };
}

export interface TelcoapiSettings {
  /** the platform's Mobile Network Operator identifier */
  readonly mno: string;
  /** AID.02 profileType -> how the platform makes one */
  readonly profileTypes: ReadonlyMap<string, ProfileTypeSettings>;
  /** AID.02 4.3.1 "n": Operational Profiles a subscription may hold at once */
  readonly profilesPerSubscription: number;
  readonly webhookSecrets: readonly string[];
  /** how far a webhook's signed time may be from the hub's clock */
  readonly webhookToleranceSeconds: number;
  /** the one place a webhook's signature is taken from; undefined: the header or the body */
  readonly webhookSignature?: SignatureForm;
  /** seed: `GET /devices/{eid}/compatibility?profileType=` or `POST /devices/{eid}/check-compatibility` first */
  readonly compatibility: 'get' | 'post';
  /** AID.02 7.9 on the platform: disable or delete each profile on a vehicle */
  readonly onInvalidate: 'disable' | 'delete';
  readonly rateLimits: Readonly<Record<LimitedEndpoint, RateLimit>>;
  /** the operator's back office, told what happened (orders, swaps, statuses, withdrawals) */
  readonly webhook?: UpstreamConfig;
}

interface RawSettings {
  mno: string;
  profileTypes: Record<string, { platformType: PlatformProfileType; iccids: { from: string; to: string }; name?: string }>;
  profilesPerSubscription?: number;
  webhookSecrets: string[];
  webhookToleranceSeconds?: number;
  webhookSignature?: SignatureForm;
  compatibility?: 'get' | 'post';
  onInvalidate?: 'disable' | 'delete';
  rateLimits?: Partial<Record<LimitedEndpoint, RawRateLimit>>;
  webhook?: RawWebhook;
}

export function telcoapiSettings(block: unknown, context: SettingsContext, problems: string[]): TelcoapiSettings | undefined {
  const raw = block as RawSettings;
  const { where, breaker } = context;
  const before = problems.length;
  if (raw.webhook) checkPlainHttp(raw.webhook, 'telcoapi.webhook', where, problems);
  const profileTypes = new Map<string, ProfileTypeSettings>();
  for (const [type, given] of Object.entries(raw.profileTypes)) {
    const { from, to } = given.iccids;
    if (from.length !== to.length || BigInt(from) > BigInt(to)) {
      problems.push(`${where}: telcoapi.profileTypes.${type}.iccids: from and to must have the same number of digits, from <= to`);
      continue;
    }
    profileTypes.set(type, { platformType: given.platformType, name: given.name ?? type, iccids: { from: BigInt(from), to: BigInt(to), digits: from.length } });
  }
  if (problems.length > before) return undefined;
  const limits = Object.fromEntries(
    // spaced evenly unless a burst is given: the platform counts per minute, and a burst at the end
    // of one period followed by the next period's share would be twice its count in one minute
    LIMITED_ENDPOINTS.map((e) => [e, rateLimitOf({ burst: 1, ...(raw.rateLimits?.[e] ?? { requests: DEFAULT_LIMITS[e], perSeconds: 60 }) }) as RateLimit]),
  ) as Record<LimitedEndpoint, RateLimit>;
  return Object.freeze({
    mno: raw.mno,
    profileTypes,
    profilesPerSubscription: raw.profilesPerSubscription ?? 1,
    webhookSecrets: Object.freeze([...raw.webhookSecrets]),
    webhookToleranceSeconds: raw.webhookToleranceSeconds ?? 300,
    webhookSignature: raw.webhookSignature,
    compatibility: raw.compatibility ?? 'get',
    onInvalidate: raw.onInvalidate ?? 'disable',
    rateLimits: Object.freeze(limits),
    webhook: raw.webhook && webhookUpstream(raw.webhook, breaker),
  });
}
