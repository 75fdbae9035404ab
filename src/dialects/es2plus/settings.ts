/**
 * The `es2plus:` block of an ES2+ operator's partner file: its schema (checked by the config loader
 * under the partner's dialect key) and the typed settings the dialect works with.
 */
import { buildActivationCode } from '../../esim/activationCode';
import { hasCredential, inboundCredentials, type RawInbound } from '../../config/credentials';
import { checkPlainHttp } from '../../config/loopback';
import { inboundCredentialsSchema } from '../../config/schemaParts';
import { webhookSchema, webhookUpstream, type RawWebhook } from '../../config/webhook';
import type { CredentialsRequired, InboundCredentials, UpstreamConfig } from '../../config/types';
import type { SettingsContext } from '../../config/dialects';

/** the partner file's `es2plus:` block */
export const settingsSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['functionRequesterIdentifier', 'smdpAddress', 'profileTypes', 'callback'],
  properties: {
    functionRequesterIdentifier: { type: 'string', minLength: 1 },
    adminProtocol: { type: 'string', pattern: '^gsma/rsp/v[0-9]+\\.[0-9]+\\.[0-9]+$' },
    smdpAddress: { type: 'string', minLength: 1 },
    smdpOid: { type: 'string', pattern: '^[0-2](\\.(0|[1-9][0-9]*))+$' },
    profileTypes: { type: 'object', minProperties: 1, additionalProperties: { type: 'string', minLength: 1 } },
    profilesPerSubscription: { type: 'integer', minimum: 1, maximum: 1000 },
    webhook: webhookSchema,
    callback: inboundCredentialsSchema,
    callbackRequires: { enum: ['any', 'all'] },
  },
} as const;

/** `dialect: es2plus`: the hub is the MSP toward CMPs and drives the operator's SM-DP+ over ES2+ */
export interface Es2plusSettings {
  readonly functionRequesterIdentifier: string;
  /** the `X-Admin-Protocol` header */
  readonly adminProtocol: string;
  /** the SM-DP+ address put into activation codes when ConfirmOrder returns none */
  readonly smdpAddress: string;
  readonly smdpOid?: string;
  /** AID.02 profileType -> the SM-DP+'s profile type */
  readonly profileTypes: ReadonlyMap<string, string>;
  /** AID.02 4.3.1 "n": Operational Profiles a subscription may hold at once */
  readonly profilesPerSubscription: number;
  /** the operator's back office, told what happened (orders, swaps, cancellations, progress) */
  readonly webhook?: UpstreamConfig;
  /** how the SM-DP+ proves itself when it calls HandleDownloadProgressInfo */
  readonly callback: InboundCredentials;
  /** `any`: one of the configured kinds (certificate, or key / basic) is enough; `all`: each */
  readonly callbackRequires: CredentialsRequired;
}

interface RawSettings {
  functionRequesterIdentifier: string;
  adminProtocol?: string;
  smdpAddress: string;
  smdpOid?: string;
  profileTypes: Record<string, string>;
  profilesPerSubscription?: number;
  webhook?: RawWebhook;
  callback: RawInbound;
  callbackRequires?: CredentialsRequired;
}

const DEFAULT_ADMIN_PROTOCOL = 'gsma/rsp/v2.5.0';

export function es2plusSettings(block: unknown, context: SettingsContext, problems: string[]): Es2plusSettings | undefined {
  const raw = block as RawSettings;
  const { where, breaker } = context;
  if (!hasCredential(raw.callback)) {
    problems.push(`${where}: es2plus.callback: at least one of apiKeys, basic, certificates is required`);
    return undefined;
  }
  if (raw.webhook) checkPlainHttp(raw.webhook, 'es2plus.webhook', where, problems);
  try {
    buildActivationCode({ smdpAddress: raw.smdpAddress, matchingId: 'CHECK', smdpOid: raw.smdpOid });
  } catch (err) {
    problems.push(`${where}: es2plus.smdpAddress: ${(err as Error).message}`);
    return undefined;
  }
  const webhook: UpstreamConfig | undefined = raw.webhook && webhookUpstream(raw.webhook, breaker);
  return Object.freeze({
    functionRequesterIdentifier: raw.functionRequesterIdentifier,
    adminProtocol: raw.adminProtocol ?? DEFAULT_ADMIN_PROTOCOL,
    smdpAddress: raw.smdpAddress,
    smdpOid: raw.smdpOid,
    profileTypes: new Map(Object.entries(raw.profileTypes)),
    profilesPerSubscription: raw.profilesPerSubscription ?? 1,
    webhook,
    callback: inboundCredentials(raw.callback),
    callbackRequires: raw.callbackRequires ?? 'any',
  });
}
