/**
 * Checks the partner's answer against the operation's OpenAPI document. A non-conforming answer is
 * counted and logged; where the route says `responseValidation: refuse` the caller gets 502
 * instead of it.
 */
import { HubError } from '../errors';
import { need, type PipelineDeps, type Stage } from './types';

export function validateResponse(deps: PipelineDeps): Stage {
  return async (ctx, next) => {
    await next();
    const answer = ctx.state.answer;
    const policy = need(ctx.state.route, 'route').responseValidation;
    if (!answer || policy === 'off') return;
    const op = need(ctx.state.operation, 'operation');
    const problems = deps.apis.validateResponse(op, answer.status, answer.contentType, answer.body);
    if (problems.length === 0) return;
    deps.metrics.validationFailures.inc({ operation: op.id, direction: 'response', reason: 'nonconforming' });
    ctx.state.log.warn({ status: answer.status, problems }, 'partner answer does not conform to AID.02');
    if (policy === 'refuse') throw new HubError('upstreamInvalidResponse', { detail: problems.join('; ') });
  };
}
