/**
 * Checks the partner's answer against the operation's OpenAPI document. An answer no AID.02 client
 * could take (a status the operation does not document, a body that is not JSON where JSON is
 * due) becomes the hub's 502 code 90 whatever the route says: passing it on would hand the caller
 * a redirect, an HTML page or a stack trace as if it were the partner's AID.02 answer. A status
 * that documents no body is passed on without one. A JSON answer that breaks the schema is counted
 * and logged; where the route says `responseValidation: refuse` the caller gets 502 instead of it.
 */
import type { DialectAnswer } from '../dialects/dialect';
import { HubError } from '../errors/catalogue';
import type { Answered, Request } from './request';
import type { HubContext, PipelineDeps } from './types';

export function checkAnswer(ctx: HubContext, deps: PipelineDeps, request: Request, answer: DialectAnswer): Answered {
  const policy = request.route.responseValidation;
  const op = request.operation;
  const check = deps.apis.checkResponse(op, answer, policy !== 'off');
  if (check.unusable !== undefined) {
    deps.metrics.validationFailures.inc({ operation: op.id, direction: 'response', reason: 'unusable' });
    ctx.state.log.warn({ status: answer.status, problem: check.unusable }, 'partner answer is not an AID.02 answer; refused');
    throw new HubError('upstreamInvalidResponse', { detail: check.unusable });
  }
  if (check.nonconforming.length > 0) {
    deps.metrics.validationFailures.inc({ operation: op.id, direction: 'response', reason: 'nonconforming' });
    ctx.state.log.warn({ status: answer.status, problems: check.nonconforming }, 'partner answer does not conform to AID.02');
    if (policy === 'refuse') throw new HubError('upstreamInvalidResponse', { detail: check.nonconforming.join('; ') });
  }
  return { answer, json: check.json, content: check.content, by: undefined };
}
