/**
 * The `es2plus` dialect: the hub itself is the MSP of the AID.02 MSP API (Annex B.2) for an
 * operator whose only machine interface is its SM-DP+. Request Activation Code orders on the
 * SM-DP+ (activation.ts); Send CSIM Status, Request Profile Status and Request Invalidate MSP Token
 * are every MSP-side dialect's (msp/operations.ts), the withdrawal of a profile not yet downloaded
 * being a CancelOrder. `dialectEvent` deliveries from the outbox go to the operator's webhook.
 * Works from the call alone (params, caller, parsed body), so the outbox can replay a call.
 */
import { UpstreamError, type Upstream } from '../../upstream/upstream';
import type { DialectAnswer, DialectCall, DialectInstance } from '../dialect';
import { invalidateSubscription, requestProfileStatus, sendCsimStatus, type ActivationRequest } from '../msp/operations';
import type { CsimStatus } from '../msp/profileStates';
import { cancel, requestActivationCode } from './activation';
import type { Es2Operator } from './operator';

export function createEs2plusDialect(op: Es2Operator, webhook: Upstream | undefined): DialectInstance {
  return {
    async call(call: DialectCall): Promise<DialectAnswer> {
      const started = performance.now();
      if (call.operation === 'dialectEvent') {
        if (!webhook) throw new UpstreamError('refused', 'this operator has no webhook');
        return webhook.request({ ...call, operation: call.operation });
      }
      // the subscription is the msp_token the pipeline matched and canonicalised, never a segment
      // of the path split again (an empty segment once put every CMP into one subscription)
      const mspToken = call.params.msp_token;
      if (!mspToken) throw new Error(`es2plus: ${call.operation} carries no msp_token parameter`);
      const cmp = call.caller;
      const log = op.log.child({ requestId: call.headers['cmp-request-id'], correlationId: call.headers['correlation-id'], client: cmp, target: op.id });
      const deadline = Date.now() + call.timeoutMs;
      const body = (call.json ?? {}) as Record<string, unknown>;
      let answer: DialectAnswer;
      switch (call.operation) {
        case 'requestActivationCode':
          answer = await requestActivationCode(op, { ...(body as unknown as ActivationRequest), mspToken, cmp }, deadline, log);
          break;
        case 'sendCsimStatus':
          answer = await sendCsimStatus(op, mspToken, body as { iccid: string; status: CsimStatus }, deadline, log);
          break;
        case 'requestProfileStatus':
          answer = await requestProfileStatus(op, mspToken, cmp, call.params.iccid ?? null);
          break;
        case 'requestInvalidateFederatedID':
          answer = await invalidateSubscription(op, mspToken, cmp, deadline, async (profile) => {
            const outcome = await cancel(op, profile, 'Unavailable', deadline, log);
            return outcome === 'cancelled' ? 'withdrawn' : outcome;
          });
          break;
        default:
          throw new Error(`the es2plus dialect does not serve ${call.operation}`);
      }
      return { ...answer, durationMs: performance.now() - started };
    },
  };
}
