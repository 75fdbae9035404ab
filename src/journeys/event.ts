/**
 * One step of a user's activation as the hub saw or caused it (AID.02 chapter 4): what happened,
 * between which partners, how it ended, when, on which hub instance. An event has no field for an
 * activation code, a phone number, an iv, a credential or an account id, so none can be stored;
 * EIDs, ICCIDs and vehicle ids are kept masked to their last 4 characters unless the operator turns
 * full identifiers on for their own deployment.
 */

/** where a journey waits: for the MSP's code after a 201, or for the CMP's CSIM status after the code */
export type JourneyStage = 'awaitingCode' | 'awaitingCsimStatus';
export const STAGES: readonly JourneyStage[] = ['awaitingCode', 'awaitingCsimStatus'];

export interface JourneyEvent {
  /** random: an append made twice (its answer lost, the script run again) is read back once */
  readonly id: string;
  /** epoch ms */
  readonly at: number;
  readonly instance: string;
  /** an AID.02 operationId, a delivery (`delivery.submitActivationCode`) or a dialect's step (`<dialect>.<its step>`) */
  readonly operation: string;
  readonly from?: string;
  readonly to?: string;
  /** answered, refused, failed, bridged, stored, replayed, delivered, retried, deadLettered, ... */
  readonly outcome: string;
  readonly status?: number;
  /** the AID.02 code of a refusal or failure (AID.02 5.5) */
  readonly code?: string;
  readonly latencyMs?: number;
  readonly traceId?: string;
  /** the activationCodeRequestID the event belongs to */
  readonly requestId?: string;
  readonly iccid?: string;
  readonly eid?: string;
  readonly vehicle?: string;
  /** a word or two of the hub's own (a CSIM status, a profile state); never a partner's free text */
  readonly detail?: string;
  /** where the journey waits after this event; `settled` when it waits for nothing */
  readonly stage?: JourneyStage | 'settled';
}

/** what a recorder is told: the event, the journey it belongs to and the ids it may be looked up by */
export interface JourneyWrite {
  /** the journey: the msp_token; when unknown, the journey `via` names (an ICCID, a request id) */
  readonly token?: string;
  readonly via?: JourneyLookup;
  /** ids this journey can be found by from now on (`inspect journey <id>`) */
  readonly indexes: readonly JourneyLookup[];
  readonly event: JourneyEvent;
  readonly ttlSeconds: number;
  readonly maxEvents: number;
}

/** an activationCodeRequestID, or an ICCID (kept hashed, never in clear) */
export interface JourneyLookup {
  readonly kind: 'request' | 'iccid';
  readonly value: string;
}

/** `…1234`: enough to tell two cars apart in a list, not enough to name one */
export function masked(value: string, full: boolean): string {
  if (full || value.length <= 4) return value;
  return `…${value.slice(-4)}`;
}
