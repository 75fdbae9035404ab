/**
 * The per-request ledger: what the hub must remember of requests themselves. Request ids
 * (CMP-request-id reuse, AID.02 5.1), replay claims and stored answers of Request Activation Code,
 * and the pending activation requests of AID.02 7.7.2.
 */

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
  /** the 201 has been sent to the CMP (markPendingAnswered); filled in when the record is read */
  readonly answered?: boolean;
}

/** a pending request is the CMP's: another CMP using the same activationCodeRequestID names another */
export function pendingId(pending: Pick<PendingActivation, 'cmp' | 'requestId'>): string {
  return `${pending.cmp} ${pending.requestId}`;
}

/** A stored answer, replayed to a retry of the same activation code request. */
export interface StoredAnswer {
  readonly status: number;
  readonly contentType?: string;
  readonly body: string;
}

export type ReplayClaim =
  | { readonly state: 'claimed' }
  | { readonly state: 'inflight'; readonly fingerprint: string }
  | { readonly state: 'done'; readonly fingerprint: string; readonly answer: StoredAnswer };

export interface RequestLedger {
  /** remembers the fingerprint of a request id; returns the fingerprint remembered before, if any */
  rememberRequest(key: string, fingerprint: string, ttlSeconds: number): Promise<string | undefined>;
  claimReplay(key: string, fingerprint: string, ttlSeconds: number): Promise<ReplayClaim>;
  completeReplay(key: string, fingerprint: string, answer: StoredAnswer, ttlSeconds: number): Promise<void>;
  releaseReplay(key: string): Promise<void>;
}

export interface PendingLedger {
  addPending(pending: PendingActivation, ttlSeconds: number): Promise<void>;
  /** pending requests are keyed per CMP: each CMP chooses its activationCodeRequestIDs */
  getPending(cmp: string, requestId: string): Promise<PendingActivation | undefined>;
  /** the pending requests of one token between one pair (for deliveries whose ID is null) */
  listPending(msp: string, cmp: string, token: string): Promise<PendingActivation[]>;
  /** how many requests are pending, per MSP */
  countPending(): Promise<Record<string, number>>;
  /** rewrites a pending request that is still there (it may have been consumed meanwhile) */
  replacePending(pending: PendingActivation): Promise<boolean>;
  /** removes it; true for exactly one caller however many race */
  consumePending(pending: PendingActivation): Promise<boolean>;
  /** notes that the CMP has been sent the request's 201; read back as `answered` */
  markPendingAnswered(pending: PendingActivation, ttlSeconds: number): Promise<void>;
}

export interface Ledger extends RequestLedger, PendingLedger {}
