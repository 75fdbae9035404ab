/**
 * Checks the request against the operation's OpenAPI document: headers (CMP-request-id and
 * correlation-id UUIDs, client-id, target-id), path parameters, query and body. A request that does
 * not conform never leaves the hub: AID.02 code 60 for an empty body or a null where none is
 * allowed, code 91 for everything else, also for what the prose demands beyond the schemas
 * (openapi/messageRules.ts). Once it passes, the body has its operation's type (request.ts).
 */
import { HubError } from '../errors/catalogue';
import type { ApiOperation } from '../openapi/apis';
import { ruleProblems } from '../openapi/messageRules';
import type { HubContext, PipelineDeps } from './types';

export function validateRequest(deps: PipelineDeps, ctx: HubContext, op: ApiOperation, body: unknown): void {
  const problems = deps.apis.validateRequest(op, { params: ctx.state.params, query: ctx.querystring, headers: ctx.req.headers, body });
  if (problems.length === 0) problems.push(...ruleProblems(op.id, body).map((text) => ({ emptyOrNull: false, text })));
  if (problems.length === 0) return;
  const emptyOrNull = problems.some((p) => p.emptyOrNull);
  deps.metrics.validationFailures.inc({ operation: op.id, direction: 'request', reason: emptyOrNull ? 'null' : 'syntax' });
  throw new HubError(emptyOrNull ? 'emptyBody' : 'invalidSyntax', {
    detail: problems.map((p) => p.text).join('; '),
    clientErrorStatus: op.clientErrorStatus,
  });
}
