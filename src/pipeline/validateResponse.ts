/**
 * Checks the partner's answer against the operation's OpenAPI document. An answer no AID.02 client
 * could take (a status the operation does not document, a body that is not JSON where JSON is
 * due) becomes the hub's 502 code 90 whatever the route says: passing it on would hand the caller
 * a redirect, an HTML page or a stack trace as if it were the partner's AID.02 answer. A status
 * that documents no body is passed on without one. A JSON answer that breaks the schema is counted
 * and logged; where the route says `responseValidation: refuse` the caller gets 502 instead of it.
 */
import { HubError } from '../errors/catalogue';
import { need, setBody, type PipelineDeps, type Stage } from './types';

export function validateResponse(deps: PipelineDeps): Stage {
  return async (ctx, next) => {
    await next();
    const answer = ctx.state.answer;
    if (!answer) return;
    const policy = need(ctx.state.route, 'route').responseValidation;
    const op = need(ctx.state.operation, 'operation');
    const check = deps.apis.checkResponse(op, answer, policy !== 'off');
    if (check.unusable !== undefined) {
      deps.metrics.validationFailures.inc({ operation: op.id, direction: 'response', reason: 'unusable' });
      ctx.state.log.warn({ status: answer.status, problem: check.unusable }, 'partner answer is not an AID.02 answer; refused');
      throw new HubError('upstreamInvalidResponse', { detail: check.unusable });
    }
    if (!check.content && answer.body.length > 0) setBody(ctx, Buffer.alloc(0), undefined);
    ctx.state.answerJson = check.json;
    if (check.nonconforming.length === 0) return;
    deps.metrics.validationFailures.inc({ operation: op.id, direction: 'response', reason: 'nonconforming' });
    ctx.state.log.warn({ status: answer.status, problems: check.nonconforming }, 'partner answer does not conform to AID.02');
    if (policy === 'refuse') throw new HubError('upstreamInvalidResponse', { detail: check.nonconforming.join('; ') });
  };
}
