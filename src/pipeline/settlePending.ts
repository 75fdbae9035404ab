/**
 * Send Activation Code (AID.02 7.7.2); the request's life itself is PendingActivations', and
 * Request Activation Code claims it (idempotency.ts). The delivery must match a pending request of
 * its token and pair (else 422 code 30); it settles it once the CMP has accepted it (afterCall.ts),
 * so a delivery the CMP could not take can be sent again.
 */
import { HubError } from '../errors/catalogue';
import { required } from '../errors/storeCalls';
import type { PendingActivation } from '../state/ledger';
import type { Checked, Request } from './request';
import type { HubContext, PipelineDeps } from './types';

/** the activation request a delivery answers */
export async function matchDelivery(
  ctx: HubContext,
  deps: PipelineDeps,
  request: Request<'submitActivationCode'>,
  checked: Checked,
): Promise<PendingActivation> {
  const key = { msp: request.caller.id, cmp: request.target.id, mspToken: request.params.msp_token, requestId: request.body.activationCodeRequestID };
  const pending = await required('read pending activation', deps.activations.match(key, ctx.state, checked.delivery));
  if (request.route.correlation === 'strict' && pending.correlationId !== request.ids.correlationId) {
    throw new HubError('correlationMismatch', { detail: 'Send Activation Code must carry the correlation-id of its Request Activation Code (AID.02 5.1)' });
  }
  return pending;
}
