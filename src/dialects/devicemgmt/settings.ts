/**
 * The `devicemgmt:` block of a partner file for a CMP whose vehicles' modems are run by a
 * device-management platform with an eSIM API (seed: `/ws/v1/esim_profiles`): its schema and the
 * typed settings. The platform's base URL, credential and TLS are the partner's `upstream`.
 */
import { checkPlainHttp } from '../../config/loopback';
import type { UpstreamConfig } from '../../config/types';
import { webhookSchema, webhookUpstream, type RawWebhook } from '../../config/webhook';
import type { SettingsContext } from '../../config/dialects';

/** `multistep`: one operation that downloads and enables (and waits for the device to report);
 * `separate`: download, then enable; `never`: download only */
export type EnableMode = 'multistep' | 'separate' | 'never';

export const settingsSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['webhook'],
  properties: {
    enable: { enum: ['multistep', 'separate', 'never'] },
    // the SPN the platform should expect per MSP (seed: the carrier field and its warning)
    carriers: { type: 'object', additionalProperties: { type: 'string', minLength: 1, maxLength: 128 } },
    onTokenInvalid: { enum: ['delete', 'disable'] },
    pollIntervalSeconds: { type: 'integer', minimum: 1, maximum: 3600 },
    giveUpSeconds: { type: 'integer', minimum: 5, maximum: 604800 },
    deviceCacheSeconds: { type: 'integer', minimum: 0, maximum: 604800 },
    reconcileIntervalSeconds: { type: 'integer', minimum: 1, maximum: 86400 },
    // the Remote Manager query that selects the fleet's eSIM profiles for the reconcile
    inventoryQuery: { type: 'string', maxLength: 1000 },
    webhook: webhookSchema,
  },
} as const;

export interface DevicemgmtSettings {
  readonly enable: EnableMode;
  /** MSP id -> the SPN its profiles report */
  readonly carriers: ReadonlyMap<string, string>;
  /** AID.02 4.5 Delete OP after Notify MSP Token Invalid, or only disable */
  readonly onTokenInvalid: 'delete' | 'disable';
  readonly pollIntervalSeconds: number;
  /** a task not finished by then is given up: dead letter and an event to the back office */
  readonly giveUpSeconds: number;
  /** how long an EID's device id is kept once the inventory named it */
  readonly deviceCacheSeconds: number;
  readonly reconcileIntervalSeconds: number;
  readonly inventoryQuery?: string;
  /** the CMP's back office: MSP messages it must know (Send MSP Token, ...) and events for a person */
  readonly webhook: UpstreamConfig;
}

interface RawSettings {
  enable?: EnableMode;
  carriers?: Record<string, string>;
  onTokenInvalid?: 'delete' | 'disable';
  pollIntervalSeconds?: number;
  giveUpSeconds?: number;
  deviceCacheSeconds?: number;
  reconcileIntervalSeconds?: number;
  inventoryQuery?: string;
  webhook: RawWebhook;
}

export function devicemgmtSettings(block: unknown, context: SettingsContext, problems: string[]): DevicemgmtSettings | undefined {
  const raw = block as RawSettings;
  const before = problems.length;
  checkPlainHttp(raw.webhook, 'devicemgmt.webhook', context.where, problems);
  if (problems.length > before) return undefined;
  return Object.freeze({
    enable: raw.enable ?? 'separate',
    carriers: new Map(Object.entries(raw.carriers ?? {})),
    onTokenInvalid: raw.onTokenInvalid ?? 'delete',
    pollIntervalSeconds: raw.pollIntervalSeconds ?? 30,
    // seed: 3-10 minutes per action; a swap, a download and an enable in a row
    giveUpSeconds: raw.giveUpSeconds ?? 3600,
    deviceCacheSeconds: raw.deviceCacheSeconds ?? 3600,
    reconcileIntervalSeconds: raw.reconcileIntervalSeconds ?? 900,
    inventoryQuery: raw.inventoryQuery,
    webhook: webhookUpstream(raw.webhook, context.breaker),
  });
}
