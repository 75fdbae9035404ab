/**
 * One spelling for every id the hub keys state on. Validation accepts any spelling of a UUID
 * (upper case, `urn:uuid:`), so an id checked or stored as the caller spelt it could name the same
 * user twice: a token bound to one CMP would pass for another in capitals. Every UUID the
 * operation carries (msp_token in the path or body, activationCodeRequestID, CMP-request-id,
 * correlation-id) is brought to the canonical form of RFC 4122 (lower case: "case insensitive on
 * input") before any check, and is stored and forwarded in that form only. The path and query a
 * partner receives are built from these parameters; a body whose ids changed is forwarded
 * re-serialised, which is safe because the strict reader left it only one reading.
 */
import { HubError } from '../errors/catalogue';
import { forwardedPath, type ApiOperation } from '../openapi/apis';
import type { OperationId } from '../openapi/operations';
import type { BodyOf, Request, Routed } from './request';
import type { HubContext, RequestIds } from './types';

const UUID = /^(?:urn:uuid:)?([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})$/i;
/** the spelling almost every partner sends: nothing to change */
const CANONICAL = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** any spelling of a UUID (upper case, `urn:uuid:`) */
export function isUuid(value: string): boolean {
  return UUID.test(value);
}

/** the canonical form of a UUID; anything else as it is (validation has refused it already) */
export function canonicalUuid(value: string): string {
  if (CANONICAL.test(value)) return value;
  const match = UUID.exec(value);
  return match ? match[1].toLowerCase() : value;
}

/** the request as the partner will receive it, from the route and the validated body (undefined
 * for an operation without one, or an optional body left out) */
export function canonicalRequest<Id extends OperationId>(ctx: HubContext, routed: Routed, read: { raw: Buffer; body: unknown } | undefined): Request<Id> {
  const op = routed.operation;
  const params: Record<string, string> = { ...ctx.state.params };
  // a UUID path parameter is in the path template, so the route that matched it always has it
  for (const name of op.uuids.params) params[name] = canonicalUuid(params[name]);
  // the query string is parsed only for an operation that names a query parameter
  let query: URLSearchParams | undefined;
  for (const name of op.queryNames) {
    query ??= new URLSearchParams(ctx.querystring);
    const value = query.get(name);
    if (value !== null) params[name] = value;
  }
  let body = read?.body;
  let rawBody = read?.raw;
  // an operation with a UUID member requires its body, and no body is JSON null (readBody): an
  // object once validated; any other JSON value (validation switched off for a measurement) has
  // no such member, so nothing is changed in it
  const members = body as Record<string, unknown>;
  const changed = op.uuids.body.filter((name) => typeof members[name] === 'string' && canonicalUuid(members[name]) !== members[name]);
  if (changed.length > 0) {
    const canonical = { ...members };
    for (const name of changed) canonical[name] = canonicalUuid(members[name] as string);
    body = canonical;
    rawBody = Buffer.from(JSON.stringify(canonical), 'utf8');
  }
  // every member written out: a literal after a spread (`{ ...routed, ids }`) makes V8 define each
  // added member through its runtime on every request (measured: 5 slow defines a request)
  return {
    operation: op,
    caller: routed.caller,
    target: routed.target,
    route: routed.route,
    ids: canonicalHeaders(ctx.state.ids, op),
    params,
    forwardPath: forwardedPath(op, params),
    rawBody,
    body: body as BodyOf<Id>,
  };
}

/** the ids of AID.02 5.1, each required (validation has refused a request without one, unless it
 * is switched off for a measurement) */
function canonicalHeaders(ids: RequestIds, op: ApiOperation): Request['ids'] {
  const { requestId, correlationId } = ids;
  if (requestId === undefined || correlationId === undefined) {
    const missing = requestId === undefined ? 'CMP-request-id' : 'correlation-id';
    throw new HubError('invalidSyntax', { detail: `header ${missing} is required`, clientErrorStatus: op.clientErrorStatus });
  }
  return { requestId: canonicalUuid(requestId), correlationId: canonicalUuid(correlationId), clientId: ids.clientId, targetId: ids.targetId, trace: ids.trace };
}
