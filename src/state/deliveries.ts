/**
 * The deliveries the hub owes partners, as outbox entries. Each carries the original
 * correlation-id and a CMP-request-id that stays the same over every attempt, so the partner can
 * recognise a repeat.
 */
import { randomUUID } from 'node:crypto';
import type { Delivery } from './outbox';
import type { PendingActivation } from './ledger';

/** a request to pass on as it came; its CMP-request-id (in `headers`) becomes the delivery id */
type Forward = Pick<Delivery, 'target' | 'operation' | 'method' | 'path' | 'params' | 'headers' | 'body'>;

export function forwardDelivery(forward: Forward): Delivery {
  return { id: forward.headers['cmp-request-id'] ?? randomUUID(), kind: 'forward', createdAt: Date.now(), attempts: 0, ...forward };
}

/** an event a dialect owes its partner's own back office (a webhook it serves through the outbox,
 * `dialectEvent` calls to its instance); its id is also the event's id */
export function dialectEvent(partner: string, id: string, body: Readonly<Record<string, unknown>>): Delivery {
  return {
    id,
    kind: 'forward',
    target: partner,
    operation: 'dialectEvent',
    method: 'POST',
    path: '',
    headers: { 'content-type': 'application/json', 'event-id': id },
    body: JSON.stringify(body),
    createdAt: Date.now(),
    attempts: 0,
  };
}

/** work a dialect scheduled for itself (`dialectTask` calls to its instance, until it answers 2xx);
 * `id`: the work's own, so that scheduling it again queues nothing twice */
export function dialectTask(partner: string, body: Readonly<Record<string, unknown>>, id: string = randomUUID()): Delivery {
  return {
    id,
    kind: 'forward',
    target: partner,
    operation: 'dialectTask',
    method: 'POST',
    path: '',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
    createdAt: Date.now(),
    attempts: 0,
  };
}

/** what the MSP's 200 to Request Activation Code carries (AID.02 7.7.1) */
export interface ActivationCode {
  readonly activationCode: string;
  readonly profileType: string;
  readonly iccid?: string;
  readonly swappedIccid?: string | null;
}

/** the MSP's late answer, 200 with the code, as Send Activation Code to the CMP (AID.02 7.7.2.1) */
export function bridgedActivationCode(pending: PendingActivation, code: ActivationCode): Delivery {
  return sendActivationCode(pending, {
    activationCode: code.activationCode,
    profileType: code.profileType,
    activationCodeRequestID: pending.requestId,
    error: null,
    iccid: code.iccid ?? null,
    swappedIccid: code.swappedIccid ?? null,
  });
}

/** no code will come: Send Activation Code with `error` set and every other field null */
export function bridgeFailure(pending: PendingActivation, error: string): Delivery {
  return sendActivationCode(pending, {
    activationCode: null,
    profileType: null,
    activationCodeRequestID: pending.requestId,
    error,
    iccid: null,
    swappedIccid: null,
  });
}

/** the timer that sends the CMP an error if the bridged request is still open when it comes due */
export function bridgeDeadline(pending: PendingActivation): Delivery {
  return { ...sendActivationCode(pending, {}), kind: 'bridgeDeadline', requestId: pending.requestId, body: '' };
}

function sendActivationCode(pending: PendingActivation, body: Record<string, unknown>): Delivery {
  const id = randomUUID();
  return {
    id,
    kind: 'forward',
    target: pending.cmp,
    operation: 'submitActivationCode',
    method: 'POST',
    path: `/cesim/msp/v1/activation-codes/${pending.mspToken}`,
    headers: {
      'content-type': 'application/json',
      'client-id': pending.msp,
      'target-id': pending.cmp,
      'cmp-request-id': id,
      'correlation-id': pending.correlationId,
    },
    body: JSON.stringify(body),
    createdAt: Date.now(),
    attempts: 0,
  };
}
