/**
 * The two steps of asynchronous activation codes (AID.02 7.7.2); the request's life itself is
 * PendingActivations'. Request Activation Code opens a pending request before the MSP is asked and
 * keeps it when the MSP answers 201; Send Activation Code must match one (else 422 code 30), and
 * settles it once the CMP has accepted the delivery, so a delivery the CMP could not take can be
 * sent again.
 */
import { HubError, type ErrorKind } from '../errors';
import { bestEffort, required } from '../state/stateCall';
import { need, succeeded, type PipelineDeps, type Stage } from './types';

/** failures after which the MSP may still deliver a code for the request: its record stays */
const MAY_HAVE_TAKEN: ReadonlySet<ErrorKind> = new Set(['upstreamTimeout', 'upstreamUnreachable', 'upstreamInvalidResponse', 'stateUnavailable']);

/** Request Activation Code */
export function openPending(deps: PipelineDeps): Stage {
  return async (ctx, next) => {
    const body = ctx.state.body as { activationCodeRequestID: string };
    const pending = await required(
      'record pending activation',
      deps.activations.open({
        requestId: body.activationCodeRequestID,
        msp: need(ctx.state.target, 'target').id,
        cmp: need(ctx.state.caller, 'caller').id,
        mspToken: need(ctx.state.params.msp_token, 'msp_token'),
        correlationId: need(ctx.state.ids.correlationId, 'correlation-id'),
      }),
    );
    ctx.state.pending = pending;
    const drop = () => bestEffort(ctx.state.log, 'drop pending activation', deps.activations.drop(pending));
    try {
      await next();
    } catch (err) {
      if (!(err instanceof HubError && MAY_HAVE_TAKEN.has(err.kind))) await drop();
      throw err;
    }
    if (ctx.state.answer?.status !== 201) {
      await drop();
      return;
    }
    // once the 201 has left (or the CMP has gone), a held delivery may follow it
    ctx.res.once('close', () => deps.track(bestEffort(ctx.state.log, 'mark 201 sent', deps.activations.kept(pending))));
  };
}

/** Send Activation Code */
export function settlePending(deps: PipelineDeps): Stage {
  return async (ctx, next) => {
    const key = {
      msp: need(ctx.state.caller, 'caller').id,
      cmp: need(ctx.state.target, 'target').id,
      mspToken: need(ctx.state.params.msp_token, 'msp_token'),
      requestId: (ctx.state.body as { activationCodeRequestID: string | null }).activationCodeRequestID,
    };
    const pending = await required('read pending activation', deps.activations.match(key, ctx.state.log));
    if (need(ctx.state.route, 'route').correlation === 'strict' && pending.correlationId !== ctx.state.ids.correlationId) {
      throw new HubError('correlationMismatch', { detail: 'Send Activation Code must carry the correlation-id of its Request Activation Code (AID.02 5.1)' });
    }
    await next();
    if (succeeded(ctx)) await bestEffort(ctx.state.log, 'consume pending activation', deps.activations.delivered(pending));
  };
}
