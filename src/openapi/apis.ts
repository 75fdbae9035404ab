/**
 * The two AID.02 OpenAPI documents (spec/), loaded and compiled once at start with openapi-backend:
 * operation matching by method + path, request validation and response validation. Nothing here
 * depends on the partner config, so a config reload never recompiles a validator.
 */
import path from 'node:path';
import { readFileSync } from 'node:fs';
import addFormats from 'ajv-formats';
import type { ErrorObject, ValidateFunction } from 'ajv';
import OpenAPIBackend, { type Document, type Operation } from 'openapi-backend';
import { load as parse } from 'js-yaml';
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
  readonly documentedStatuses: ReadonlySet<number>;
  /** openapi-backend's compiled validators: the body, then path, query and headers */
  readonly requestValidators: readonly ValidateFunction[];
}

export type MatchResult =
  | { readonly kind: 'operation'; readonly op: ApiOperation; readonly params: Readonly<Record<string, string>> }
  | { readonly kind: 'unknownPath' }
  | { readonly kind: 'methodNotAllowed'; readonly allow: readonly string[] };

export interface RequestToValidate {
  /** the path parameters, decoded, as `match` found them */
  readonly params: Readonly<Record<string, string>>;
  readonly query: string;
  /** as Node gives them: names in lower case */
  readonly headers: Record<string, string | string[] | undefined>;
  /** the parsed body; undefined for an operation without one */
  readonly body: unknown;
}

export interface ValidationProblem {
  /** true when the problem is an empty body or a null where null is not allowed (AID.02 code 60) */
  readonly emptyOrNull: boolean;
  readonly text: string;
}

export class Apis {
  private readonly operations = new Map<OperationId, ApiOperation>();
  private readonly routes: { readonly method: string; readonly pattern: RegExp; readonly op: ApiOperation }[] = [];

  private constructor(backends: readonly OpenAPIBackend[]) {
    for (const api of backends) {
      for (const operation of api.getOperations()) {
        const id = operation.operationId;
        if (id === undefined || !isOperationId(id)) throw new Error(`spec: unexpected operation ${String(id)}`);
        const statuses = new Set(Object.keys(operation.responses ?? {}).map(Number));
        this.operations.set(id, {
          id,
          api,
          operation,
          clientErrorStatus: statuses.has(400) ? 400 : 422,
          hasBody: operation.requestBody !== undefined,
          documentedStatuses: statuses,
          requestValidators: api.validator.getRequestValidatorsForOperation(id) ?? [],
        });
        this.routes.push({ method: operation.method.toUpperCase(), pattern: pathPattern(operation.path), op: this.get(id) });
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

  /** method + path to operation through patterns compiled once (openapi-backend's router builds
   * its matchers on every call) */
  match(method: string, urlPath: string): MatchResult {
    const upper = method.toUpperCase();
    const allow: string[] = [];
    for (const route of this.routes) {
      const found = route.pattern.exec(urlPath);
      if (!found) continue;
      if (route.method === upper) {
        const params = Object.fromEntries(Object.entries(found.groups ?? {}).map(([k, v]) => [k, decodeSafely(v)]));
        return { kind: 'operation', op: route.op, params };
      }
      allow.push(route.method);
    }
    return allow.length > 0 ? { kind: 'methodNotAllowed', allow } : { kind: 'unknownPath' };
  }

  /**
   * Runs the operation's compiled validators on the request as openapi-backend shapes it, without
   * its per-call request parsing (header copies, cookie and query parsing, path matching again):
   * the path is matched once by `match`, the body parsed once by readBody.
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

  /** problems of a partner's answer: an undocumented status, a body that is not JSON where the
   * status documents one, a body that breaks the schema */
  validateResponse(op: ApiOperation, status: number, contentType: string | undefined, body: Buffer): string[] {
    if (!op.documentedStatuses.has(status)) return [`status ${status} is not documented for ${op.id}`];
    const documented = op.operation.responses?.[String(status)] as { content?: Record<string, unknown> } | undefined;
    if (!documented?.content) return [];
    if (!/^application\/json\b/i.test(contentType ?? '')) return [`status ${status} must carry application/json, got ${contentType ?? 'none'}`];
    let parsed: unknown;
    try {
      parsed = JSON.parse(body.toString('utf8'));
    } catch {
      return [`the body of status ${status} is not JSON`];
    }
    const result = op.api.validateResponse(parsed, op.operation, status);
    return (result.errors ?? []).map((e) => describe(e, parsed).text);
  }

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

/** a malformed escape stays as it came: validation then says what is wrong with it */
function decodeSafely(value: string): string {
  try {
    return decodeURIComponent(value);
  } catch {
    return value;
  }
}

/** `/v1/users/{msp_token}` -> /^\/v1\/users\/(?<msp_token>[^/]+)\/?$/ */
function pathPattern(template: string): RegExp {
  const source = template
    .split(/(\{[^}]+\})/)
    .map((part) => (part.startsWith('{') ? `(?<${part.slice(1, -1)}>[^/]+)` : part.replace(/[.*+?^$()|[\]\\]/g, '\\$&')))
    .join('');
  return new RegExp(`^${source}/?$`);
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
