/**
 * What the outbox worker tells a journey of the AID.02 deliveries it makes (Send Activation Code
 * after a 201 or a bridge, a stored Send CSIM Status): delivered, retried or dead-lettered, with
 * the partner's status. A dialect's own deliveries (its events and tasks) tell their own steps.
 */
import type { Delivery } from '../state/outbox';
import type { JourneyStage } from '../journeys/event';
import { lookupsFor, type JourneyRecorder } from '../journeys/recorder';
import { codeOf } from '../journeys/errorCode';

export type DeliveryOutcome = 'delivered' | 'retried' | 'deadLettered';

export function tellDelivery(recorder: JourneyRecorder | undefined, delivery: Delivery, outcome: DeliveryOutcome, status?: number): void {
  if (!recorder?.enabled || (delivery.operation !== 'submitActivationCode' && delivery.operation !== 'sendCsimStatus')) return;
  const token = delivery.params?.msp_token ?? /\/activation-codes\/([^/?]+)$/.exec(delivery.path)?.[1];
  if (token === undefined) return;
  const body = bodyOf(delivery.body);
  const requestId = typeof body.activationCodeRequestID === 'string' ? body.activationCodeRequestID : undefined;
  const iccid = typeof body.iccid === 'string' ? body.iccid : undefined;
  const code = delivery.operation === 'submitActivationCode' && body.activationCode !== null;
  recorder.step(
    { token: decodeURIComponent(token) },
    {
      operation: `delivery.${delivery.operation}`,
      from: delivery.headers['client-id'],
      to: delivery.target,
      outcome: outcome === 'retried' ? `retried (attempt ${delivery.attempts + 1})` : outcome === 'deadLettered' ? 'dead-lettered' : 'delivered',
      status,
      code: codeOf(body.error),
      requestId,
      iccid,
      detail:
        delivery.operation === 'sendCsimStatus'
          ? `CSIM ${typeof body.status === 'string' ? body.status : 'status'}`
          : code
            ? 'activation code delivered'
            : 'no code: error delivered',
      stage: outcome === 'delivered' ? stageAfter(delivery, code) : undefined,
    },
    lookupsFor(requestId, iccid),
  );
}

function stageAfter(delivery: Delivery, code: boolean): JourneyStage | 'settled' {
  return delivery.operation === 'submitActivationCode' && code ? 'awaitingCsimStatus' : 'settled';
}

function bodyOf(raw: string): Record<string, unknown> {
  try {
    const parsed = JSON.parse(raw) as unknown;
    return parsed !== null && typeof parsed === 'object' ? (parsed as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}
