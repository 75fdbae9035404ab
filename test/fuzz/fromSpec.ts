/**
 * Requests generated from the two AID.02 OpenAPI documents (the JSON Schema subset they use:
 * objects, arrays, strings with format, pattern, enum and length, integers, booleans, nullable),
 * and mutations a hostile or broken client sends: the fuzz suite's raw material.
 */
import fc from 'fast-check';
import type { ApiOperation } from '../../src/openapi/apis';

interface Schema {
  type?: string;
  format?: string;
  pattern?: string;
  maxLength?: number;
  minLength?: number;
  enum?: unknown[];
  nullable?: boolean;
  items?: Schema;
  properties?: Record<string, Schema>;
  required?: string[];
}

/** a value the schema accepts */
export function valueOf(schema: Schema): fc.Arbitrary<unknown> {
  const value = nonNull(schema);
  return schema.nullable ? fc.oneof(value, fc.constant(null)) : value;
}

function nonNull(schema: Schema): fc.Arbitrary<unknown> {
  if (schema.enum) return fc.constantFrom(...schema.enum.filter((v) => v !== null));
  switch (schema.type) {
    case 'object': {
      const properties = schema.properties ?? {};
      const model = Object.fromEntries(Object.entries(properties).map(([name, s]) => [name, valueOf(s)]));
      return fc.record(model, { requiredKeys: (schema.required ?? []).filter((n) => n in properties) });
    }
    case 'array':
      return fc.array(valueOf(schema.items ?? {}), { maxLength: 3 });
    case 'integer':
      return fc.integer({ min: 0, max: 1000 });
    case 'boolean':
      return fc.boolean();
    default:
      if (schema.format === 'uuid') return fc.uuid();
      if (schema.pattern) return fc.stringMatching(new RegExp(schema.pattern)).filter((s) => s.length <= (schema.maxLength ?? 4096));
      return fc.string({ minLength: schema.minLength ?? 1, maxLength: Math.min(schema.maxLength ?? 40, 40) });
  }
}

export interface GeneratedRequest {
  readonly op: ApiOperation;
  readonly params: Record<string, string>;
  readonly body: unknown;
}

/** a valid request of `op`: its path parameters and body from the spec */
export function requestOf(op: ApiOperation): fc.Arbitrary<GeneratedRequest> {
  const parameters = (op.operation.parameters ?? []) as { name: string; in: string; schema: Schema }[];
  const params = fc.record(Object.fromEntries(parameters.filter((p) => p.in === 'path').map((p) => [p.name, nonNull(p.schema) as fc.Arbitrary<string>])));
  const bodySchema = (op.operation.requestBody as { content?: Record<string, { schema?: Schema }> } | undefined)?.content?.['application/json']?.schema;
  const body = bodySchema ? valueOf(bodySchema) : fc.constant(undefined);
  return fc.record({ op: fc.constant(op), params, body });
}

/** what goes on the wire: the path, the headers that differ from a well-behaved client's, the body bytes */
export interface Wire {
  readonly path: string;
  readonly headers: Record<string, string>;
  readonly omit: readonly string[];
  readonly body?: Uint8Array;
}

export function wireOf(req: GeneratedRequest): Wire {
  const path = req.op.pathTemplate.replace(/\{([^}]+)\}/g, (_, name: string) => encodeURIComponent(req.params[name]));
  return { path, headers: {}, omit: [], body: req.body === undefined ? undefined : Buffer.from(JSON.stringify(req.body), 'utf8') };
}

type Mutation = (wire: Wire) => Wire;

const UUIDS = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/gi;

const text = (wire: Wire) => Buffer.from(wire.body ?? []).toString('utf8');
const withBody = (wire: Wire, body: string | Uint8Array): Wire => ({ ...wire, body: typeof body === 'string' ? Buffer.from(body, 'utf8') : body });
/** inserts `member` as the first member of the top-level object, or wraps a non-object */
const firstMember = (wire: Wire, member: string): Wire => {
  const body = text(wire);
  return withBody(wire, body.startsWith('{') && body !== '{}' ? `{${member},${body.slice(1)}` : `{${member}}`);
};

/** the mutations, each a hostile reading of one of issue 10's points or plain garbage */
export const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.constant<Mutation>((w) => w),
  fc.constant<Mutation>((w) => ({ ...w, path: `${w.path}/` })),
  fc.constant<Mutation>((w) => ({ ...w, path: w.path.replace(UUIDS, (m) => m.toUpperCase()) })),
  fc.constant<Mutation>((w) => ({ ...w, path: w.path.replace(UUIDS, (m) => `urn:uuid:${m}`) })),
  fc.constant<Mutation>((w) =>
    withBody(
      w,
      text(w).replace(UUIDS, (m) => m.toUpperCase()),
    ),
  ),
  fc
    .tuple(fc.constantFrom('CMP-request-id', 'correlation-id'), fc.uuid())
    .map<Mutation>(([name, id]) => (w) => ({ ...w, headers: { ...w.headers, [name]: id.toUpperCase() } })),
  fc
    .constantFrom('%2e%2e%2f', '%00', '%0d%0a', '..', '%2F', '%ZZ', '%C0%AE', '\u00e9', '//', ';x=1', '?x=1', '#frag')
    .map<Mutation>((s) => (w) => ({ ...w, path: w.path.replace(/\/([^/]*)$/, `/$1${s}`) })),
  fc.string({ maxLength: 30 }).map<Mutation>((s) => (w) => ({ ...w, path: w.path.replace(/\/[^/]*$/, `/${encodeURIComponent(s)}`) })),
  fc.string({ maxLength: 60 }).map<Mutation>((s) => (w) => withBody(w, s)),
  fc.jsonValue({ maxDepth: 3 }).map<Mutation>((v) => (w) => withBody(w, JSON.stringify(v) ?? 'null')),
  fc
    .constantFrom('"status":"deleted"', '"__proto__":{"a":1}', '"constructor":{}', '"n":1e309', '"n":123456789012345678901', '"x":"\\ud800"', '"a":1,"a":2')
    .map<Mutation>((m) => (w) => firstMember(w, m)),
  fc.integer({ min: 33, max: 3000 }).map<Mutation>((depth) => (w) => firstMember(w, `"x":${'['.repeat(depth)}${']'.repeat(depth)}`)),
  fc
    .uint8Array({ minLength: 1, maxLength: 4 })
    .map<Mutation>((bytes) => (w) => withBody(w, Buffer.concat([Buffer.from(text(w).slice(0, -1)), Buffer.from(bytes), Buffer.from('}')]))),
  fc.string({ maxLength: 20 }).map<Mutation>((name) => (w) => {
    const body = text(w);
    const key = JSON.stringify(name);
    return body.startsWith('{') ? withBody(w, body.replace(/^\{"([^"]+)":/, `{${key}:0,"$1":`)) : w;
  }),
  fc
    .constantFrom(
      'text/plain',
      'application/json; charset=iso-8859-1',
      'application/json; charset=utf-16',
      'application/x-www-form-urlencoded',
      'application/json, text/html',
      '',
    )
    .map<Mutation>((type) => (w) => ({ ...w, headers: { ...w.headers, 'content-type': type } })),
  fc
    .constantFrom('CMP-request-id', 'correlation-id', 'client-id', 'target-id', 'content-type')
    .map<Mutation>((name) => (w) => ({ ...w, omit: [...w.omit, name] })),
  fc
    .tuple(
      fc.constantFrom('CMP-request-id', 'correlation-id', 'target-id', 'traceparent'),
      fc.string({ maxLength: 80 }).map((s) => s.replace(/[^\x20-\x7e]/g, 'x')),
    )
    .map<Mutation>(([name, value]) => (w) => ({ ...w, headers: { ...w.headers, [name]: value } })),
  // a wrong credential for the caller, or a client-id no partner has: failed logins, throttled
  fc
    .tuple(
      fc.constantFrom('api-key', 'client-id'),
      fc.string({ minLength: 1, maxLength: 40 }).map((s) => `guess-${s.replace(/[^\x21-\x7e]/g, 'x')}`),
    )
    .map<Mutation>(([name, value]) => (w) => ({ ...w, headers: { ...w.headers, [name]: value } })),
);

/** a valid request with up to three mutations; named by its operation id, so that a
 * counterexample reads as the request it is */
export function mutated(ops: readonly ApiOperation[]): fc.Arbitrary<{ operation: string; wire: Wire }> {
  return fc
    .tuple(fc.constantFrom(...ops).chain(requestOf), fc.array(mutation, { maxLength: 3 }))
    .map(([req, mutations]) => ({ operation: req.op.id, wire: mutations.reduce((w, m) => m(w), wireOf(req)) }));
}
