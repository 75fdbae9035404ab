/**
 * An MSP-side dialect's instance: the hub itself is the MSP of the AID.02 MSP API (Annex B.2) for an
 * operator without an AID.02 backend. Request Activation Code and the withdrawal of a profile not
 * yet downloaded are the partner system's (`MspSystem`); Send CSIM Status, Request Profile Status
 * and Request Invalidate MSP Token work on the hub's own record of the operator's profiles
 * (operations.ts). `dialectEvent` deliveries from the outbox go to the operator's webhook. Works
 * from the call alone (params, caller, parsed body), so the outbox can replay a call.
 */
import type { Logger } from '../log';
import { type Upstream } from '../upstream/upstream';
import { UpstreamError } from '../errors/upstreamError';
import type { DialectAnswer, DialectCall, DialectInstance } from '../dialects/dialect';
import {
  invalidateSubscription,
  requestProfileStatus,
  sendCsimStatus,
  type ActivationRequest,
  type DeactivateOutcome,
  type WithdrawOutcome,
} from './operations';
import type { MspOperator } from './operator';
import type { OperatorProfile } from './profile';
import type { CsimStatus } from '../esim/csimStatus';

/** what only the operator's own system can do */
export interface MspSystem<P extends OperatorProfile> {
  requestActivationCode(req: ActivationRequest, deadline: number, log: Logger): Promise<DialectAnswer>;
  withdraw(profile: P, deadline: number, log: Logger): Promise<WithdrawOutcome>;
  /** AID.02 7.9 for a profile on a vehicle, where the system can reach it */
  deactivate?(profile: P, deadline: number, log: Logger): Promise<DeactivateOutcome>;
}

export function createMspDialect<P extends OperatorProfile>(op: MspOperator<P>, webhook: Upstream | undefined, system: MspSystem<P>): DialectInstance {
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
      if (!mspToken) throw new Error(`${op.id}: ${call.operation} carries no msp_token parameter`);
      const cmp = call.caller;
      const log = op.log.child({ requestId: call.headers['cmp-request-id'], correlationId: call.headers['correlation-id'], client: cmp, target: op.id });
      const deadline = Date.now() + call.timeoutMs;
      const body = (call.json ?? {}) as Record<string, unknown>;
      let answer: DialectAnswer;
      switch (call.operation) {
        case 'requestActivationCode':
          answer = await system.requestActivationCode({ ...(body as unknown as ActivationRequest), mspToken, cmp }, deadline, log);
          break;
        case 'sendCsimStatus':
          answer = await sendCsimStatus(op, mspToken, body as { iccid: string; status: CsimStatus }, deadline, log);
          break;
        case 'requestProfileStatus':
          answer = await requestProfileStatus(op, mspToken, cmp, call.params.iccid ?? null);
          break;
        case 'requestInvalidateFederatedID': {
          const deactivate = system.deactivate?.bind(system);
          const withdraw = (profile: P) => system.withdraw(profile, deadline, log);
          answer = await invalidateSubscription(op, mspToken, cmp, deadline, withdraw, deactivate && ((profile) => deactivate(profile, deadline, log)));
          break;
        }
        default:
          throw new Error(`an MSP-side dialect does not serve ${call.operation}`);
      }
      return { ...answer, durationMs: performance.now() - started };
    },
  };
}
