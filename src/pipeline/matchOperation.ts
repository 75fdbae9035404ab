/**
 * Finds the AID.02 operation by method and path, against both Annex B documents. An unknown path is
 * 404, a known path with another method is 405 with `Allow`.
 */
import { HubError } from '../errors';
import type { PipelineDeps, Stage } from './types';

export function matchOperation(deps: PipelineDeps): Stage {
  return async (ctx, next) => {
    const match = deps.apis.match(ctx.method, ctx.path);
    // the path is not echoed: a mistyped path may carry an account id, which must not reach the log
    if (match.kind === 'unknownPath') throw new HubError('unknownPath');
    if (match.kind === 'methodNotAllowed') {
      throw new HubError('methodNotAllowed', {
        detail: `allowed: ${match.allow.join(', ')}`,
        headers: { allow: match.allow.join(', ') },
      });
    }
    ctx.state.operation = match.op;
    ctx.state.params = match.params;
    await next();
  };
}
