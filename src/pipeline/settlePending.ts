/**
 * Send Activation Code (AID.02 7.7.2); the request's life itself is PendingActivations', and
 * Request Activation Code claims it (idempotency.ts). The delivery must match a pending request of
 * its token and pair (else 422 code 30), and settles it once the CMP has accepted it, so a delivery
 * the CMP could not take can be sent again.
 */
import { HubError } from '../errors/catalogue';
import { bestEffort, required } from '../errors/storeCalls';
import { need, succeeded, type PipelineDeps, type Stage } from './types';

/** Send Activation Code */
export function settlePending(deps: PipelineDeps): Stage {
  return async (ctx, next) => {
    const key = {
      msp: need(ctx.state.caller, 'caller').id,
      cmp: need(ctx.state.target, 'target').id,
      mspToken: need(ctx.state.params.msp_token, 'msp_token'),
      requestId: (ctx.state.body as { activationCodeRequestID: string | null }).activationCodeRequestID,
    };
    const pending = await required('read pending activation', deps.activations.match(key, ctx.state, need(ctx.state.checked, 'checked').delivery));
    if (need(ctx.state.route, 'route').correlation === 'strict' && pending.correlationId !== ctx.state.ids.correlationId) {
      throw new HubError('correlationMismatch', { detail: 'Send Activation Code must carry the correlation-id of its Request Activation Code (AID.02 5.1)' });
    }
    await next();
    if (succeeded(ctx)) await bestEffort(ctx.state, 'consume pending activation', deps.activations.delivered(pending));
  };
}
