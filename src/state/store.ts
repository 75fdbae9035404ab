import type { RateLimit } from '../config/types';
import type { AdmitResult, GcraResult, LimitCheck } from './gcra';
import type { OutboxQueue } from './outbox';
import type { RecordStore } from './records';

/**
 * The hub's shared state. Two implementations: Redis (any number of hub instances share it) and
 * in-memory (one node, the quick start). Every entry has a TTL; nothing here knows of HTTP.
 */

/** `active`: the hub saw the MSP issue the token to the CMP (Send MSP Token, or an import);
 * `learned`: a token federated before the hub, learnt from its first successful use by the pair */
export type BindingState = 'active' | 'learned' | 'invalidated';

/** the in-memory store holds as many entries as it may: the write is refused, nothing is lost */
export class StoreFullError extends Error {
  constructor(readonly maxEntries: number) {
    super(`the in-memory store holds its maximum of ${maxEntries} entries`);
    this.name = 'StoreFullError';
  }
}

/** who issued an msp_token to whom: `pairs` maps `${msp} ${cmp}` to the binding's state */
export interface TokenBinding {
  readonly pairs: Readonly<Record<string, BindingState>>;
}

export function pairKey(msp: string, cmp: string): string {
  return `${msp} ${cmp}`;
}

/** a pending request is the CMP's: another CMP using the same activationCodeRequestID names another */
export function pendingId(pending: Pick<PendingActivation, 'cmp' | 'requestId'>): string {
  return `${pending.cmp} ${pending.requestId}`;
}

/** An activation code request answered 201 by the MSP and not yet delivered (AID.02 7.7.2). */
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

export type BindResult = 'bound' | 'conflict';

export interface FailureCount {
  readonly count: number;
  /** epoch ms when the window ends and the count starts again */
  readonly resetAt: number;
}

export interface Store {
  readonly kind: 'redis' | 'memory';
  readonly outbox: OutboxQueue;

  /** the binding; with `renewTtlSeconds` its lifetime starts again (AID.02 4.4.1 [5]: the token
   * is never removed while it is in use) */
  getTokenBinding(token: string, renewTtlSeconds?: number): Promise<TokenBinding | undefined>;
  /** records that `msp` issued `token` to `cmp` (`active`), or that the pair used it (`learned`,
   * which never replaces what the pair has); refuses a token another MSP already issued */
  bindToken(token: string, msp: string, cmp: string, ttlSeconds: number, state?: 'active' | 'learned'): Promise<BindResult>;
  invalidateToken(token: string, msp: string, cmp: string, ttlSeconds: number): Promise<void>;

  addPendingActivation(pending: PendingActivation, ttlSeconds: number): Promise<void>;
  /** pending requests are keyed per CMP: each CMP chooses its activationCodeRequestIDs */
  getPendingActivation(cmp: string, requestId: string): Promise<PendingActivation | undefined>;
  /** the pending requests of one token between one pair (for deliveries whose ID is null) */
  listPendingActivations(msp: string, cmp: string, token: string): Promise<PendingActivation[]>;
  /** how many requests are pending, per MSP */
  countPendingActivations(): Promise<Record<string, number>>;
  /** rewrites a pending request that is still there (it may have been consumed meanwhile) */
  replacePendingActivation(pending: PendingActivation): Promise<boolean>;
  /** removes it; true for exactly one caller however many race */
  consumePendingActivation(pending: PendingActivation): Promise<boolean>;
  /** notes that the CMP has been sent the request's 201 (AID.02 7.7.2 Note: it has the 201 before
   * Send Activation Code); read back as `answered` */
  markPendingAnswered(pending: PendingActivation, ttlSeconds: number): Promise<void>;

  /** counts one more failure under each key in a fixed window that starts with its first
   * failure: each key's count so far and when its window ends */
  countFailures(keys: readonly string[], windowSeconds: number): Promise<FailureCount[]>;

  /** remembers the fingerprint of a request ID; returns the fingerprint remembered before, if any */
  rememberRequest(key: string, fingerprint: string, ttlSeconds: number): Promise<string | undefined>;

  /** GCRA (see gcra.ts): a check with maxWaitMs 0, a reservation of the next slot otherwise */
  rateLimit(key: string, limit: RateLimit, maxWaitMs: number): Promise<GcraResult>;
  /** GCRA checks of several limits in one step: all count the request, or none does */
  admit(checks: readonly LimitCheck[]): Promise<AdmitResult>;

  claimReplay(key: string, fingerprint: string, ttlSeconds: number): Promise<ReplayClaim>;
  completeReplay(key: string, fingerprint: string, answer: StoredAnswer, ttlSeconds: number): Promise<void>;
  releaseReplay(key: string): Promise<void>;

  /** the records of one dialect partner (records.ts) */
  records(namespace: string): RecordStore;

  ping(): Promise<void>;
  close(): Promise<void>;
}
