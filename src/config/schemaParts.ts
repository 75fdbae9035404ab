/**
 * Pieces of the config schemas that the core and the dialects' own settings schemas share, and how
 * a schema problem names its field. Imports nothing of the hub, so a dialect may use it freely.
 */

const secret = { type: 'string', minLength: 1 } as const;

const basicCredential = {
  type: 'object',
  additionalProperties: false,
  required: ['username', 'password'],
  properties: { username: secret, password: secret },
} as const;

export const rateLimitSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['requests', 'perSeconds'],
  properties: {
    requests: { type: 'integer', minimum: 1 },
    perSeconds: { type: 'number', exclusiveMinimum: 0 },
    burst: { type: 'integer', minimum: 1 },
  },
} as const;

/** how a caller proves itself to the hub */
export const inboundCredentialsSchema = {
  type: 'object',
  additionalProperties: false,
  minProperties: 1,
  properties: {
    apiKeys: { type: 'array', minItems: 1, items: secret },
    basic: { type: 'array', minItems: 1, items: basicCredential },
    certificates: {
      type: 'array',
      minItems: 1,
      items: {
        type: 'object',
        additionalProperties: false,
        minProperties: 1,
        properties: {
          fingerprint256: { type: 'string', pattern: '^([0-9A-Fa-f]{2}:?){31}[0-9A-Fa-f]{2}$' },
          subject: { type: 'object', minProperties: 1, additionalProperties: { type: 'string' } },
        },
      },
    },
  },
} as const;

/** the credential the hub presents to a partner */
export const outboundAuthSchema = {
  type: 'object',
  additionalProperties: false,
  maxProperties: 1,
  properties: {
    apiKey: secret,
    basic: basicCredential,
    // RFC 6750: `authorization: Bearer <token>`, as REST platforms take an API token
    bearer: { type: 'string', pattern: '^[A-Za-z0-9._~+/-]+=*$' },
  },
} as const;

/** `/routes/0/from` -> `routes[0].from` */
export function fieldName(instancePath: string): string {
  return instancePath
    .split('/')
    .slice(1)
    .map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~'))
    .reduce((acc, part) => (/^\d+$/.test(part) ? `${acc}[${part}]` : acc ? `${acc}.${part}` : part), '');
}
