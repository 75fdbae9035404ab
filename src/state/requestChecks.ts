/**
 * What a request asks of the state before its partner is called, in one step (on Redis one script,
 * one round trip): its rate limits, its token's binding (its lifetime renewed), its request id
 * remembered, for Request Activation Code the activation request claimed, for Send Activation Code
 * the request it answers read. Limits first: a
 * request they refuse reads and writes nothing else.
 */
import type { AdmitResult, LimitCheck } from './gcra';
import type { PendingActivation, ReplayClaim } from './ledger';
import type { TokenBinding } from './tokenBindings';

export interface Checks {
  readonly limits: readonly LimitCheck[];
  readonly token?: { readonly token: string; readonly renewTtlSeconds?: number };
  readonly requestId?: { readonly key: string; readonly fingerprint: string; readonly ttlSeconds: number };
  readonly activation?: { readonly pending: PendingActivation; readonly fingerprint: string; readonly claimMs: number; readonly ttlSeconds: number };
  /** Send Activation Code: the request it answers, read */
  readonly delivery?: { readonly cmp: string; readonly requestId: string };
}

export interface Checked {
  readonly limits: AdmitResult;
  /** the token's binding, when asked and there is one */
  readonly binding?: TokenBinding;
  /** the fingerprint the request id was remembered with before, if it was */
  readonly previousFingerprint?: string;
  readonly claim?: ReplayClaim;
  /** the request a delivery answers, when asked: undefined inside when no delivery may match it */
  readonly delivery?: { readonly pending?: PendingActivation };
}

export interface RequestChecks {
  check(checks: Checks): Promise<Checked>;
}
