/**
 * The per-request ledger: what the hub must remember of requests themselves. Request ids
 * (CMP-request-id reuse, AID.02 5.1), replay claims and stored answers of Request Activation Code,
 * and the pending activation requests of AID.02 7.7.2.
 */

import type { Delivery } from './outbox';

/** An activation code request the MSP may still answer through Send Activation Code. */
export interface PendingActivation {
  readonly requestId: string;
  readonly msp: string;
  readonly cmp: string;
  readonly mspToken: string;
  readonly correlationId: string;
  readonly createdAt: number;
  /** answered 201 by the hub itself because the MSP was slower than the CMP's budget */
  readonly bridged?: boolean;
  /** the call that claims it (random): its claim made again, after an answer that was lost, is its own */
  readonly claimId?: string;
  /** the 201 has been sent to the CMP (markPendingAnswered); filled in when the record is read */
  readonly answered?: boolean;
}

/** a pending request is the CMP's: another CMP using the same activationCodeRequestID names another */
export function pendingId(pending: Pick<PendingActivation, 'cmp' | 'requestId'>): string {
  return `${pending.cmp} ${pending.requestId}`;
}

/** A stored answer, replayed to a retry of the same activation code request: its body is JSON, or
 * empty (a 201), and sent as such (pipeline/types.ts, setBody). An entry an earlier build kept may
 * also name its content type, always that one. */
export interface StoredAnswer {
  readonly status: number;
  readonly body: string;
}

export type ReplayClaim =
  | { readonly state: 'claimed' }
  | { readonly state: 'inflight'; readonly fingerprint: string }
  | { readonly state: 'done'; readonly fingerprint: string; readonly answer: StoredAnswer };

/** how a call for an activation request ended, as its entry keeps it */
export type CallOutcome =
  /** answered for good (200): replayed to retries, matched by no delivery */
  | { readonly kind: 'done'; readonly answer: StoredAnswer; readonly ttlSeconds: number }
  /** answered 201: replayed to retries, waiting for the MSP's delivery */
  | { readonly kind: 'pending'; readonly answer: StoredAnswer; readonly ttlSeconds: number }
  /** no answer (the MSP may have taken it): a retry asks again, a delivery still matches */
  | { readonly kind: 'open'; readonly ttlSeconds: number }
  /** refused: forgotten, a retry asks again */
  | { readonly kind: 'release' };

export interface RequestLedger {
  /** remembers the fingerprint of a request id; returns the fingerprint remembered before, if any */
  rememberRequest(key: string, fingerprint: string, ttlSeconds: number): Promise<string | undefined>;
}

/**
 * Activation code requests (AID.02 7.7), one entry per CMP and activationCodeRequestID from the
 * moment the MSP is asked: the claim that keeps a retry from reaching the MSP twice, the answer
 * replayed to retries, and the pending request a Send Activation Code matches. One entry, so that
 * a synchronous answer is one write and nothing written before is deleted again.
 */
export interface ActivationLedger {
  /** a new entry for this call (in flight for `claimMs`, kept `ttlSeconds`), or what the entry says:
   * in flight, or done with the answer to replay; a request past its claim, or left open, is taken over */
  claimActivation(pending: PendingActivation, fingerprint: string, claimMs: number, ttlSeconds: number): Promise<ReplayClaim>;
  /** how the call that holds the entry (its `claimId`) ended; nothing when the entry is no longer
   * that call's in flight (taken over, bridged, finished): a finish that ran late changes nothing */
  finishActivation(pending: PendingActivation, outcome: CallOutcome): Promise<void>;
  /** the hub answered 201 itself (`bridged`, with the outbox entry that answers the CMP at its
   * `deadline`, queued in the same step: from in flight), or the MSP went asynchronous after all
   * (from bridged); false when the entry is not the call's in that state */
  bridgeActivation(
    pending: PendingActivation,
    bridged: boolean,
    ttlSeconds: number,
    deadline?: { readonly delivery: Delivery; readonly at: number },
  ): Promise<boolean>;
  /** the request, while a delivery may still match it */
  getPending(cmp: string, requestId: string): Promise<PendingActivation | undefined>;
  /** the pending requests of one token between one pair (for deliveries whose ID is null) */
  listPending(msp: string, cmp: string, token: string): Promise<PendingActivation[]>;
  /** how many requests wait for the MSP's delivery, per MSP */
  countPending(): Promise<Record<string, number>>;
  /** ends it; true for exactly one caller however many race */
  consumePending(pending: PendingActivation): Promise<boolean>;
  /** ends a bridged request and queues `delivery` (what the CMP is told) in one step; true for
   * exactly one caller however many race, false when the request is not bridged (any more). Made
   * again with the same delivery after its answer was lost: true again, nothing queued twice */
  settlePending(pending: PendingActivation, delivery: Delivery): Promise<boolean>;
  /** notes that the CMP has been sent the request's 201; read back as `answered` */
  markPendingAnswered(pending: PendingActivation): Promise<void>;
}

export interface Ledger extends RequestLedger, ActivationLedger {}

/** an activation request's entry, as both stores keep it */
export interface ActivationEntry {
  readonly fingerprint: string;
  readonly state: 'inflight' | 'open' | 'pending' | 'bridged' | 'done';
  /** in flight: when another call may take it over (epoch ms) */
  readonly until?: number;
  readonly answer?: StoredAnswer;
  readonly answered?: boolean;
  /** a delivery was accepted while the call was still in flight */
  readonly settled?: boolean;
  /** the call that claimed it (PendingActivation.claimId) */
  readonly claim?: string;
  readonly pending: PendingActivation;
}

/** what a delivery may match, read from an entry */
export function pendingOf(entry: ActivationEntry | undefined): PendingActivation | undefined {
  if (!entry || entry.settled || entry.state === 'done') return undefined;
  return { ...entry.pending, bridged: entry.state === 'bridged', answered: entry.answered === true };
}

/** a new entry, in flight until `until`: the request as it is kept (what a read fills in is not
 * stored), as both stores write it */
export function inflightEntry(pending: PendingActivation, fingerprint: string, until: number): ActivationEntry {
  const { requestId, msp, cmp, mspToken, correlationId, createdAt, claimId } = pending;
  return { fingerprint, state: 'inflight', until, claim: claimId, pending: { requestId, msp, cmp, mspToken, correlationId, createdAt } };
}
