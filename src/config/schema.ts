/**
 * The JSON Schemas of routes.yaml and partners/*.yaml, and the one validator that checks a parsed
 * file against them. Unknown keys are errors, so a misspelt option never silently falls back to
 * its default.
 */
import Ajv, { ErrorObject } from 'ajv';
import { DIALECTS } from '../dialects';
import { OPERATION_IDS } from '../openapi/operations';
import { fieldName, inboundCredentialsSchema, outboundAuthSchema, rateLimitSchema } from './schemaParts';

/** AID.02 section 5.1: client-id and target-id are `([A-Za-z0-9])` */
export const PARTNER_ID_PATTERN = '^[A-Za-z0-9]{1,64}$';

const routePolicy = {
  timeoutMs: { type: 'integer', minimum: 1, maximum: 300000 },
  tokenBinding: { enum: ['strict', 'learn', 'off'] },
  responseValidation: { enum: ['off', 'warn', 'refuse'] },
  rateLimit: rateLimitSchema,
  retries: {
    type: 'object',
    additionalProperties: false,
    properties: {
      attempts: { type: 'integer', minimum: 0, maximum: 10 },
      baseDelayMs: { type: 'integer', minimum: 1 },
      maxDelayMs: { type: 'integer', minimum: 1 },
    },
  },
  bridge: { type: 'boolean' },
  bridgeTimeoutMs: { type: 'integer', minimum: 1, maximum: 3600000 },
  storeAndForward: { type: 'boolean' },
  correlation: { enum: ['strict', 'off'] },
} as const;

export const partnerSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['id', 'role', 'inbound', 'upstream'],
  properties: {
    id: { type: 'string', pattern: PARTNER_ID_PATTERN },
    role: { enum: ['msp', 'cmp'] },
    name: { type: 'string' },
    dialect: { enum: DIALECTS.map((d) => d.name) },
    rateLimit: rateLimitSchema,
    inbound: inboundCredentialsSchema,
    touchpoint: {
      type: 'object',
      additionalProperties: false,
      required: ['displayName', 'portal', 'redirects'],
      properties: {
        displayName: { type: 'string', minLength: 1, maxLength: 128 },
        logoUrl: { type: 'string', pattern: '^https://', maxLength: 2048 },
        portal: {
          type: 'object',
          additionalProperties: false,
          minProperties: 1,
          properties: { production: { type: 'string', pattern: '^https?://', maxLength: 2048 }, preproduction: { type: 'string', pattern: '^https?://', maxLength: 2048 } },
        },
        redirects: { type: 'array', minItems: 1, maxItems: 100, items: { type: 'string', minLength: 1, maxLength: 256 } },
      },
    },
    // each dialect's own settings, under its name
    ...Object.fromEntries(DIALECTS.flatMap((d) => (d.settingsSchema ? [[d.name, d.settingsSchema]] : []))),
    upstream: {
      type: 'object',
      additionalProperties: false,
      required: ['url'],
      properties: {
        url: { type: 'string', pattern: '^https?://' },
        // plain http:// to a host that is not loopback (AID.02 6 requires TLS)
        insecure: { type: 'boolean' },
        auth: outboundAuthSchema,
        tls: {
          type: 'object',
          additionalProperties: false,
          properties: {
            cert: { type: 'string' },
            key: { type: 'string' },
            ca: { type: 'string' },
            rejectUnauthorized: { type: 'boolean' },
          },
          dependencies: { cert: ['key'], key: ['cert'] },
        },
        connections: { type: 'integer', minimum: 1, maximum: 1024 },
        rateLimit: rateLimitSchema,
        breaker: {
          type: 'object',
          additionalProperties: false,
          properties: {
            scope: { enum: ['partner', 'operation'] },
            errorThresholdPercentage: { type: 'number', minimum: 1, maximum: 100 },
            volumeThreshold: { type: 'integer', minimum: 1 },
            windowMs: { type: 'integer', minimum: 100 },
            resetTimeoutMs: { type: 'integer', minimum: 10 },
          },
        },
      },
    },
  },
} as const;

export const routesSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['routes'],
  properties: {
    settings: {
      type: 'object',
      additionalProperties: false,
      properties: {
        bodyLimitBytes: { type: 'integer', minimum: 1024, maximum: 10485760 },
        requestIdTtlSeconds: { type: 'integer', minimum: 1 },
        tokenBindingTtlSeconds: { type: 'integer', minimum: 1 },
        pendingActivationTtlSeconds: { type: 'integer', minimum: 1 },
        replayTtlSeconds: { type: 'integer', minimum: 1 },
        outboxHorizonSeconds: { type: 'integer', minimum: 1 },
        outboxRetryBaseMs: { type: 'integer', minimum: 1 },
        outboxRetryMaxMs: { type: 'integer', minimum: 1 },
        outboxClaimIdleMs: { type: 'integer', minimum: 100 },
        outboxPollMs: { type: 'integer', minimum: 10, maximum: 60000 },
        memoryStoreMaxEntries: { type: 'integer', minimum: 100 },
        authFailuresPerAddressAndClient: { type: 'integer', minimum: 1 },
        authFailuresPerAddress: { type: 'integer', minimum: 1 },
        authFailuresPerClient: { type: 'integer', minimum: 1 },
        authFailureWindowSeconds: { type: 'integer', minimum: 1, maximum: 86400 },
        environment: { enum: ['production', 'preproduction'] },
      },
    },
    defaults: { type: 'object', additionalProperties: false, properties: routePolicy },
    routes: {
      type: 'array',
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['from', 'to'],
        properties: {
          from: { type: 'string', anyOf: [{ const: '*' }, { pattern: PARTNER_ID_PATTERN }] },
          to: { type: 'string', anyOf: [{ const: '*' }, { pattern: PARTNER_ID_PATTERN }] },
          operations: { type: 'array', minItems: 1, uniqueItems: true, items: { enum: OPERATION_IDS } },
          ...routePolicy,
        },
      },
    },
  },
} as const;

const ajv = new Ajv({ allErrors: true, strict: true });
const validators = { partner: ajv.compile(partnerSchema), routes: ajv.compile(routesSchema) };

/** Checks `data` against the named schema; returns one line per problem, naming the field. */
export function checkSchema(kind: keyof typeof validators, data: unknown): string[] {
  const validate = validators[kind];
  if (validate(data)) return [];
  return (validate.errors ?? []).filter(isUseful).map(describe);
}

// anyOf reports every branch; its own summary line says nothing more than the branch errors
function isUseful(e: ErrorObject): boolean {
  return e.keyword !== 'anyOf' && e.keyword !== 'if';
}

function describe(e: ErrorObject): string {
  const field = fieldName(e.instancePath);
  if (e.keyword === 'additionalProperties') {
    return `${field ? `${field}.` : ''}${String(e.params.additionalProperty)}: unknown key`;
  }
  if (e.keyword === 'enum') {
    return `${field}: must be one of ${(e.params.allowedValues as unknown[]).join(', ')}`;
  }
  return `${field || '(file)'}: ${e.message ?? 'is invalid'}`;
}
