/**
 * The JSON Schemas of routes.yaml and partners/*.yaml, and the one validator that checks a parsed
 * file against them. Unknown keys are errors, so a misspelt option never silently falls back to
 * its default.
 */
import Ajv, { ErrorObject, type ValidateFunction } from 'ajv';
import type { DialectConfigs } from './dialects';
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

/** the partner file's schema, with the dialects' names and each one's settings block */
function partnerSchema(dialects: DialectConfigs) {
  return {
    type: 'object',
    additionalProperties: false,
    required: ['id', 'role', 'inbound', 'upstream'],
    properties: {
      id: { type: 'string', pattern: PARTNER_ID_PATTERN },
      role: { enum: ['msp', 'cmp'] },
      name: { type: 'string' },
      dialect: { enum: dialects.map((d) => d.name) },
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
            properties: {
              production: { type: 'string', pattern: '^https?://', maxLength: 2048 },
              preproduction: { type: 'string', pattern: '^https?://', maxLength: 2048 },
            },
          },
          redirects: { type: 'array', minItems: 1, maxItems: 100, items: { type: 'string', minLength: 1, maxLength: 256 } },
        },
      },
      // each dialect's own settings, under its name
      ...Object.fromEntries(dialects.flatMap((d) => (d.settingsSchema ? [[d.name, d.settingsSchema]] : []))),
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
}

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
        journeys: { type: 'boolean' },
        journeyMaxEvents: { type: 'integer', minimum: 1, maximum: 1000 },
        journeyFullIdentifiers: { type: 'boolean' },
        journeyStuckAwaitingCodeSeconds: { type: 'integer', minimum: 1 },
        journeyStuckAwaitingCsimStatusSeconds: { type: 'integer', minimum: 1 },
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

// verbose: an error carries its schema, whose known keys a misspelt one is compared with
const ajv = new Ajv({ allErrors: true, strict: true, verbose: true });
const validateRoutes = ajv.compile(routesSchema);
/** compiled once per dialect list: a hub has one, the registry's */
const partnerValidators = new WeakMap<DialectConfigs, ValidateFunction>();

function partnerValidator(dialects: DialectConfigs): ValidateFunction {
  let validate = partnerValidators.get(dialects);
  if (validate === undefined) {
    validate = ajv.compile(partnerSchema(dialects));
    partnerValidators.set(dialects, validate);
  }
  return validate;
}

/** Checks `data` against the named schema; returns one line per problem, naming the field. */
export function checkSchema(kind: 'partner' | 'routes', data: unknown, dialects: DialectConfigs): string[] {
  const validate = kind === 'routes' ? validateRoutes : partnerValidator(dialects);
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
    const key = String(e.params.additionalProperty);
    const known = Object.keys((e.parentSchema as { properties?: object } | undefined)?.properties ?? {});
    const near = closest(key, known);
    return `${field ? `${field}.` : ''}${key}: unknown key${near ? `; did you mean ${near}?` : ''}`;
  }
  if (e.keyword === 'enum') {
    return `${field}: must be one of ${(e.params.allowedValues as unknown[]).join(', ')}`;
  }
  return `${field || '(file)'}: ${e.message ?? 'is invalid'}`;
}

/** the known key a misspelt one most likely meant: a few edits away, or the same but for case */
function closest(key: string, known: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = Math.max(1, Math.floor(key.length / 3)) + 1;
  for (const candidate of known) {
    const distance = candidate.toLowerCase() === key.toLowerCase() ? 0 : editDistance(key, candidate);
    if (distance < bestDistance) {
      best = candidate;
      bestDistance = distance;
    }
  }
  return best;
}

/** edits from one word to the other: insertions, deletions, substitutions and swaps of neighbours
 * (optimal string alignment: `tsl` is one edit from `tls`) */
function editDistance(a: string, b: string): number {
  const d = Array.from({ length: a.length + 1 }, (_, i) => Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)));
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      d[i][j] = Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d[i][j] = Math.min(d[i][j], d[i - 2][j - 2] + 1);
    }
  }
  return d[a.length][b.length];
}
