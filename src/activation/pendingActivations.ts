/**
 * Activation code requests (AID.02 7.7), one request's whole life in one place. A Request
 * Activation Code is claimed (CMP, MSP, msp_token, correlation-id) before the MSP is asked: the
 * claim keeps a retry from reaching the MSP twice, and a Send Activation Code may arrive as soon as
 * the MSP has answered 201. The call's outcome is kept (200: replayed; 201: replayed and pending;
 * no answer: open). Then exactly one of these settles a pending request, whichever comes first:
 * the MSP's own Send Activation Code, accepted by the CMP; the MSP's late answer to a bridged
 * request; the bridge's deadline; or its TTL. The store lets exactly one of them win, so the CMP
 * hears of the request once; the one that wins queues what the CMP is told in the same step
 * (settlePending, bridgeActivation with its deadline entry), so a step whose answer was lost (a
 * timeout, a failover) has either happened whole or not at all, and may be made again. Nothing here
 * knows of HTTP: the pipeline's steps, the bridge and the outbox worker call it.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { HubSettings } from '../config/types';
import { HubError } from '../errors/catalogue';
import type { Logger } from '../log';
import type { Metrics } from '../metrics/metrics';
import { bridgeDeadline, bridgeFailure, bridgedActivationCode, type ActivationCode } from '../state/deliveries';
import type { ActivationLedger, CallOutcome, PendingActivation, ReplayClaim, StoredAnswer } from '../state/ledger';

/** how long a delivery waits for its request's 201 to reach the CMP before it goes all the same
 * (AID.02 7.7.2 Note: the CMP has the 201 before it gets Send Activation Code) */
const HOLD_MS = 5000;
const HOLD_POLL_MS = 20;

/** what Send Activation Code names: its MSP, CMP and token, and the request's ID (null is allowed
 * for an error delivery) */
export interface DeliveryKey {
  readonly msp: string;
  readonly cmp: string;
  readonly mspToken: string;
  readonly requestId: string | null;
}

/** how a bridged request ended at the MSP: a code, a refusal or failure (as `code: text`), or the
 * MSP going asynchronous itself */
export type LateOutcome = { readonly code: ActivationCode } | { readonly failure: string } | { readonly async: true };

export class PendingActivations {
  constructor(
    private readonly ledger: ActivationLedger,
    private readonly metrics: Metrics,
    private readonly settings: () => HubSettings,
  ) {}

  /** claimed before the MSP is asked, for as long as the MSP may take (`claimMs`) */
  claim(pending: PendingActivation, fingerprint: string, claimMs: number): Promise<ReplayClaim> {
    return this.ledger.claimActivation(pending, fingerprint, claimMs, this.pendingTtl());
  }

  /** how the call ended: answered for good (`done`), 201 (`pending`), no answer (`open`: the MSP
   * may have taken it), or refused (`release`) */
  finish(pending: PendingActivation, kind: CallOutcome['kind'], answer?: StoredAnswer): Promise<void> {
    const { replayTtlSeconds } = this.settings();
    const pendingTtl = this.pendingTtl();
    const ttlSeconds = kind === 'done' ? replayTtlSeconds : Math.max(replayTtlSeconds, pendingTtl);
    const outcome: CallOutcome =
      kind === 'release' ? { kind } : kind === 'open' ? { kind, ttlSeconds: pendingTtl } : { kind, answer: answer ?? { status: 201, body: '' }, ttlSeconds };
    return this.ledger.finishActivation(pending, outcome);
  }

  /** the MSP answered 201 and the CMP has been sent it: a held delivery may now follow */
  kept(pending: PendingActivation): Promise<void> {
    return this.ledger.markPendingAnswered(pending);
  }

  /** the pending request a Send Activation Code answers; 422 code 30 when there is none. `read`:
   * what the request's checks already read of it (stateChecks) */
  async match(key: DeliveryKey, logs: { readonly log: Logger }, read?: { readonly pending?: PendingActivation }): Promise<PendingActivation> {
    const pending = await this.find(key, read);
    await this.holdUntilAnswered(pending, logs);
    return pending;
  }

  /** the CMP accepted the MSP's delivery: the request is done */
  async delivered(pending: PendingActivation): Promise<void> {
    if (await this.ledger.consumePending(pending)) this.turnaround(pending, pending.bridged ? 'bridged' : 'async');
  }

  /** the hub answered the CMP 201 itself (bridge): the request stays open until `deadlineAt`, when
   * the outbox answers the CMP with an error if nothing else has settled it */
  async bridge(pending: PendingActivation, deadlineAt: number): Promise<PendingActivation> {
    const bridged: PendingActivation = { ...pending, bridged: true };
    // it lives as long as any pending request: should the MSP go asynchronous itself, its delivery
    // may take as long as any
    await this.ledger.bridgeActivation(bridged, true, this.pendingTtl(), { delivery: bridgeDeadline(bridged), at: deadlineAt });
    return bridged;
  }

  /** the MSP's answer to a bridged request, after the CMP got its 201 */
  async answeredLate(pending: PendingActivation, outcome: LateOutcome): Promise<void> {
    if ('async' in outcome) {
      // its own Send Activation Code will match the record; the deadline must leave it alone
      await this.ledger.bridgeActivation(pending, false, this.pendingTtl());
      this.metrics.bridges.inc({ msp: pending.msp, outcome: 'msp_async' });
      return;
    }
    const delivery = 'code' in outcome ? bridgedActivationCode(pending, outcome.code) : bridgeFailure(pending, outcome.failure);
    if (!(await this.ledger.settlePending(pending, delivery))) return;
    this.metrics.outbox.inc({ target: pending.cmp, event: 'enqueued' });
    this.turnaround(pending, 'bridged');
    this.metrics.bridges.inc({ msp: pending.msp, outcome: 'code' in outcome ? 'code' : 'error' });
  }

  /** the bridge's deadline came: a request still open gets the CMP an error */
  async deadlinePassed(cmp: string, requestId: string): Promise<void> {
    const pending = await this.ledger.getPending(cmp, requestId);
    if (
      !pending?.bridged ||
      !(await this.ledger.settlePending(pending, bridgeFailure(pending, '90: The MSP did not answer the activation code request in time')))
    )
      return;
    this.metrics.bridges.inc({ msp: pending.msp, outcome: 'expired' });
  }

  private async find(key: DeliveryKey, read: { readonly pending?: PendingActivation } | undefined): Promise<PendingActivation> {
    if (key.requestId === null) {
      // the spec lets an error delivery carry a null ID; it is matched when it can only mean one request
      const candidates = await this.ledger.listPending(key.msp, key.cmp, key.mspToken);
      if (candidates.length === 1) return candidates[0];
      throw new HubError('requestNotMatched', { detail: `the ID is null and ${candidates.length} requests of this msp_token are pending` });
    }
    const pending = read ? read.pending : await this.ledger.getPending(key.cmp, key.requestId);
    if (!pending || pending.msp !== key.msp || pending.mspToken !== key.mspToken) throw new HubError('requestNotMatched');
    return pending;
  }

  private async holdUntilAnswered(pending: PendingActivation, logs: { readonly log: Logger }): Promise<void> {
    if (pending.answered) return;
    const until = Date.now() + HOLD_MS;
    while (Date.now() < until) {
      const now = await this.ledger.getPending(pending.cmp, pending.requestId);
      if (!now || now.answered) return;
      await sleep(HOLD_POLL_MS);
    }
    logs.log.warn({ holdMs: HOLD_MS }, 'the 201 of this request was not seen sent; Send Activation Code delivered all the same');
  }

  private pendingTtl(): number {
    return this.settings().pendingActivationTtlSeconds;
  }

  private turnaround(pending: PendingActivation, mode: 'async' | 'bridged'): void {
    this.metrics.activationTurnaround.observe({ msp: pending.msp, mode }, (Date.now() - pending.createdAt) / 1000);
  }
}
