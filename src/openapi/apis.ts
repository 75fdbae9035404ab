/**
 * The two AID.02 OpenAPI documents (spec/), loaded and compiled once at start with openapi-backend:
 * request validation and response validation (the router matches method and path). Nothing here
 * depends on the partner config, so a config reload never recompiles a validator.
 */
import path from 'node:path';
import { readFileSync } from 'node:fs';
import addFormats from 'ajv-formats';
import type { ErrorObject, ValidateFunction } from 'ajv';
import OpenAPIBackend, { type Document, type Operation } from 'openapi-backend';
import { load as parse } from 'js-yaml';
import { parseStrictJson, StrictJsonError } from '../json/strictJson';
import { isOperationId, type OperationId } from './operations';

export const SPEC_FILES = {
  cmpApi: 'aid02-cmp-api.yaml',
  mspApi: 'aid02-msp-api.yaml',
} as const;

export interface ApiOperation {
  readonly id: OperationId;
  readonly api: OpenAPIBackend;
  readonly operation: Operation;
  /** 400 where the operation documents 400, else 422 (the spec's "cannot be processed") */
  readonly clientErrorStatus: number;
  readonly hasBody: boolean;
  /** false where the body may be left out (Notify MSP Token Invalid: AID.02 7.4) */
  readonly bodyRequired: boolean;
  readonly documentedStatuses: ReadonlySet<number>;
  /** openapi-backend's compiled validators: the body, then path, query and headers */
  readonly requestValidators: readonly ValidateFunction[];
  /** the path template of the spec, `/v1/statuses/{msp_token}` */
  readonly pathTemplate: string;
  /** the template split at its parameters: literal text at even places, parameter names at odd */
  readonly pathPieces: readonly string[];
  /** the members a replayed answer keeps, per documented status with a JSON body (replayBody) */
  readonly replayMembers: ReadonlyMap<number, readonly string[]>;
  /** the query parameters the operation documents; no other is passed on */
  readonly queryNames: readonly string[];
  /** where the operation carries UUIDs (`format: uuid`) besides the headers of AID.02 5.1: path
   * parameters and top-level body members; the hub keys state on them, so each has one spelling */
  readonly uuids: { readonly params: readonly string[]; readonly body: readonly string[] };
}

export interface RequestToValidate {
  /** the path parameters, decoded, as the router matched them */
  readonly params: Readonly<Record<string, string>>;
  readonly query: string;
  /** as Node gives them: names in lower case */
  readonly headers: Record<string, string | string[] | undefined>;
  /** the parsed body; undefined for an operation without one */
  readonly body: unknown;
}

/** an activation code answer is ~200 bytes; SGP.22 bounds each of its fields well below this */
export const MAX_REPLAY_BYTES = 4096;

export interface ResponseCheck {
  readonly unusable?: string;
  readonly nonconforming: readonly string[];
  readonly content: boolean;
  /** the answer's JSON, read once, where the status documents a body */
  readonly json?: unknown;
}

/** JSON in UTF-8 (RFC 8259 8.1): the only media type an AID.02 answer with a body has */
const JSON_MEDIA = /^application\/json\s*(?:;\s*charset\s*=\s*"?utf-?8"?\s*)?$/i;

export interface ValidationProblem {
  /** true when the problem is an empty body or a null where null is not allowed (AID.02 code 60) */
  readonly emptyOrNull: boolean;
  readonly text: string;
}

export class Apis {
  private readonly operations = new Map<OperationId, ApiOperation>();

  private constructor(backends: readonly OpenAPIBackend[]) {
    for (const api of backends) {
      for (const operation of api.getOperations()) {
        const id = operation.operationId;
        if (id === undefined || !isOperationId(id)) throw new Error(`spec: unexpected operation ${String(id)}`);
        const statuses = new Set(Object.keys(operation.responses ?? {}).map(Number));
        const parameters = (operation.parameters ?? []) as { name: string; in: string; schema?: { format?: string } }[];
        const bodySchema = (
          operation.requestBody as { content?: Record<string, { schema?: { properties?: Record<string, { format?: string }> } }> } | undefined
        )?.content?.['application/json']?.schema;
        this.operations.set(id, {
          id,
          api,
          operation,
          clientErrorStatus: statuses.has(400) ? 400 : 422,
          hasBody: operation.requestBody !== undefined,
          bodyRequired: (operation.requestBody as { required?: boolean } | undefined)?.required === true,
          documentedStatuses: statuses,
          requestValidators: api.validator.getRequestValidatorsForOperation(id) ?? [],
          pathTemplate: operation.path,
          pathPieces: operation.path.split(/\{([^}]+)\}/),
          replayMembers: replayMembersOf(operation),
          queryNames: parameters.filter((p) => p.in === 'query').map((p) => p.name),
          uuids: {
            params: parameters.filter((p) => p.in === 'path' && p.schema?.format === 'uuid').map((p) => p.name),
            body: Object.entries(bodySchema?.properties ?? {})
              .filter(([, schema]) => schema.format === 'uuid')
              .map(([name]) => name),
          },
        });
      }
    }
  }

  static async load(specDir: string): Promise<Apis> {
    const backends = await Promise.all(
      Object.values(SPEC_FILES).map(async (file) => {
        const definition = parse(readFileSync(path.join(specDir, file), 'utf8')) as Document;
        const api = new OpenAPIBackend({
          definition,
          strict: true,
          validate: true,
          ajvOpts: { strict: false, allErrors: true },
          customizeAjv: (ajv) => addFormats(ajv, ['uuid']),
        });
        await api.init();
        api.validator.preCompileRequestValidators();
        api.validator.preCompileResponseValidators();
        return api;
      }),
    );
    return new Apis(backends);
  }

  get all(): readonly ApiOperation[] {
    return [...this.operations.values()];
  }

  get(id: OperationId): ApiOperation {
    const op = this.operations.get(id);
    if (!op) throw new Error(`spec: no operation ${id}`);
    return op;
  }

  /**
   * Runs the operation's compiled validators on the request as openapi-backend shapes it, without
   * its per-call request parsing (header copies, cookie and query parsing, path matching again):
   * the path is matched once by the router, the body parsed once by readBody.
   */
  validateRequest(op: ApiOperation, req: RequestToValidate): ValidationProblem[] {
    const input: Record<string, unknown> = { path: req.params, query: parseQuery(req.query), header: req.headers, cookie: {} };
    if (op.hasBody) input.requestBody = req.body;
    const problems: ValidationProblem[] = [];
    for (const validate of op.requestValidators) {
      if (!validate(input)) problems.push(...(validate.errors ?? []).map((e) => describe(e, { requestBody: req.body })));
    }
    return problems;
  }

  /**
   * What a replay of a partner's answer needs, to be stored for days: no body where the status
   * documents none, else the members its schema documents of the JSON checkResponse read: the
   * answer's own bytes (already read strictly) where it has no other member, re-serialised only
   * where one is dropped. Undefined when that is still more than MAX_REPLAY_BYTES: an answer that
   * size is no activation code.
   */
  replayBody(op: ApiOperation, status: number, parsed: unknown, bytes: Buffer): string | undefined {
    const names = op.replayMembers.get(status);
    if (names === undefined || parsed === undefined) return '';
    let kept = parsed;
    if (names.length > 0 && typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed) && !onlyMembers(parsed, names)) {
      const members: Record<string, unknown> = {};
      for (const name of names) if (Object.hasOwn(parsed, name)) members[name] = (parsed as Record<string, unknown>)[name];
      kept = members;
    } else if (bytes.length <= MAX_REPLAY_BYTES) {
      return bytes.toString('utf8');
    }
    const text = JSON.stringify(kept);
    return Buffer.byteLength(text) <= MAX_REPLAY_BYTES ? text : undefined;
  }

  /**
   * What is wrong with a partner's answer. `unusable`: no AID.02 client could take it (a status the
   * operation does not document; not JSON, or JSON read two ways, where the status documents
   * JSON). `nonconforming`: its JSON breaks the schema (checked only when `schema` is true).
   * `content`: whether the status documents a body at all.
   */
  checkResponse(op: ApiOperation, answer: { status: number; contentType?: string; body: Buffer }, schema: boolean): ResponseCheck {
    const { status, contentType, body } = answer;
    if (!op.documentedStatuses.has(status)) return { unusable: `status ${status} is not documented for ${op.id}`, nonconforming: [], content: false };
    const documented = op.operation.responses?.[String(status)] as { content?: Record<string, unknown> } | undefined;
    if (!documented?.content) return { nonconforming: [], content: false };
    if (!JSON_MEDIA.test(contentType ?? ''))
      return { unusable: `status ${status} must carry application/json in UTF-8, got ${clipped(contentType ?? 'none')}`, nonconforming: [], content: true };
    let parsed: unknown;
    try {
      parsed = parseStrictJson(body);
    } catch (err) {
      return { unusable: err instanceof StrictJsonError ? err.message : `the body of status ${status} is not JSON`, nonconforming: [], content: true };
    }
    if (!schema) return { nonconforming: [], content: true, json: parsed };
    const result = op.api.validateResponse(parsed, op.operation, status);
    return { nonconforming: (result.errors ?? []).map((e) => describe(e, parsed).text), content: true, json: parsed };
  }
}

/** a partner's header value, short enough for an error message and a log line */
function clipped(value: string): string {
  return value.length > 64 ? `${value.slice(0, 64)}...` : value;
}

/** a query string as openapi-backend reads one: a name given twice becomes an array */
function parseQuery(query: string): Record<string, string | string[]> {
  const parsed: Record<string, string | string[]> = {};
  for (const [name, value] of new URLSearchParams(query)) {
    const before = parsed[name];
    parsed[name] = before === undefined ? value : [...(Array.isArray(before) ? before : [before]), value];
  }
  return parsed;
}

/** the path and query a partner receives, built from the parameters the hub matched and checked,
 * each encoded again, never from the bytes the caller sent */
export function forwardedPath(op: ApiOperation, params: Readonly<Record<string, string>>): string {
  const pieces = op.pathPieces;
  let path = pieces[0];
  for (let i = 1; i < pieces.length; i += 2) path += encodeURIComponent(params[pieces[i]] ?? '') + pieces[i + 1];
  if (op.queryNames.length === 0) return path;
  const query = new URLSearchParams();
  for (const name of op.queryNames) if (params[name] !== undefined) query.append(name, params[name]);
  const search = query.toString();
  return search ? `${path}?${search}` : path;
}

/** per documented status with a JSON body: the members its schema names (none: the whole JSON) */
function replayMembersOf(operation: Operation): Map<number, string[]> {
  const members = new Map<number, string[]>();
  for (const [status, response] of Object.entries(operation.responses ?? {})) {
    const schema = (response as { content?: Record<string, { schema?: { properties?: Record<string, unknown> } }> }).content?.['application/json']?.schema;
    if (schema) members.set(Number(status), Object.keys(schema.properties ?? {}));
  }
  return members;
}

function describe(e: ErrorObject, root: unknown): ValidationProblem {
  const where = e.instancePath
    .split('/')
    .slice(1)
    .map((p, i) => (i === 0 && p === 'requestBody' ? 'body' : p))
    .join('.');
  const value = valueAt(root, e.instancePath);
  if (e.keyword === 'required') {
    const missing = String(e.params.missingProperty);
    if (missing === 'requestBody') return { emptyOrNull: true, text: 'the request body is missing' };
    const text = where === 'header' ? `header ${missing} is required` : `${where || 'body'}.${missing} is required`;
    return { emptyOrNull: false, text };
  }
  if (e.keyword === 'parse') return { emptyOrNull: false, text: 'the body is not valid JSON' };
  return { emptyOrNull: value === null, text: `${where || 'body'} ${e.message ?? 'is invalid'}` };
}

function valueAt(root: unknown, pointer: string): unknown {
  let node = root;
  for (const part of pointer.split('/').slice(1)) {
    if (node === null || typeof node !== 'object') return undefined;
    node = (node as Record<string, unknown>)[part.replace(/~1/g, '/').replace(/~0/g, '~')];
  }
  return node;
}

/** whether every member of the object is one of `names` */
function onlyMembers(object: object, names: readonly string[]): boolean {
  for (const name in object) if (!names.includes(name)) return false;
  return true;
}
