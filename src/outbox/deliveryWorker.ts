/**
 * Delivers what the outbox holds: every instance runs one worker, a consumer of the shared queue.
 * A delivery the partner takes (2xx) is done; one it refuses for good (4xx other than 408 and 429)
 * goes to the dead letters at once; any other outcome is tried again with backoff until the
 * horizon, then goes to the dead letters. Deliveries an instance took and never finished (it
 * crashed) are claimed by another after `outboxClaimIdleMs`.
 */
import { backoffMs } from '../backoff';
import { repeat, type Repeating } from '../repeat';
import { randomUUID } from 'node:crypto';
import { isSuccess, type DialectCall, type DialectInstance } from '../dialects/dialect';
import type { Logger } from '../log';
import type { Metrics } from '../metrics/metrics';
import type { Config, Partner } from '../config/types';
import type { PendingActivations } from '../activation/pendingActivations';
import { parseStrictJson } from '../json/strictJson';
import type { Delivery, OutboxQueue, Received } from '../state/outbox';
import { callPartner } from '../dialects/partnerCall';
import type { Tracing } from '../tracing/tracing';
import { tellDelivery } from './journey';
import type { JourneyRecorder } from '../journeys/recorder';
import { retryAfterSeconds } from '../upstream/upstream';
import { UpstreamError } from '../errors/upstreamError';

/** what a delivery reads of the config in service (the server's runtime is one) */
export interface DeliveryTargets {
  readonly config: Config;
  dialectFor(partner: Partner): DialectInstance;
}

const BATCH = 10;
const DELIVERY_TIMEOUT_MS = 10000;

export class OutboxWorker {
  readonly consumer = `hub-${randomUUID()}`;
  private loop?: Repeating;
  /** a call of the last round failed: entries this consumer holds may be unfinished */
  private unsure = false;

  constructor(
    private readonly queue: OutboxQueue,
    private readonly activations: PendingActivations,
    private readonly runtime: () => DeliveryTargets,
    private readonly log: Logger,
    private readonly metrics: Metrics,
    private readonly tracing?: Tracing,
    private readonly journeys?: JourneyRecorder,
  ) {}

  start(): void {
    this.loop = repeat(
      () => this.pass(),
      () => this.runtime().config.settings.outboxPollMs,
      (err) => this.log.warn({ err: err.message }, 'outbox pass failed; retrying'),
    );
  }

  /** stops taking deliveries and waits for the ones under way */
  async stop(): Promise<void> {
    await this.loop?.stop();
  }

  /** one round: due deliveries become ready, stale ones are claimed, ready ones delivered; after a
   * round that failed, first what this worker itself took and may not have finished */
  async pass(): Promise<void> {
    const { settings } = this.runtime().config;
    try {
      await this.queue.promoteDue(Date.now());
      const own = this.unsure ? await this.queue.unfinished(this.consumer, BATCH) : [];
      this.unsure = own.length === BATCH;
      const batch = [
        ...own,
        ...(await this.queue.claimStale(this.consumer, settings.outboxClaimIdleMs, BATCH)),
        ...(await this.queue.receive(this.consumer, BATCH)),
      ];
      // every delivery of the round ends before the next round may take its entry back
      const failed = (await Promise.allSettled(batch.map((entry) => this.handle(entry)))).find((r) => r.status === 'rejected');
      if (failed) throw failed.reason;
    } catch (err) {
      // a store call that failed may have run, its answer lost: a read's entries are this
      // consumer's now though it never saw them, and would otherwise wait `outboxClaimIdleMs` for
      // another instance to claim them
      this.unsure = true;
      throw err;
    }
  }

  private async handle(entry: Received): Promise<void> {
    const { delivery } = entry;
    if (delivery.kind === 'bridgeDeadline') {
      if (delivery.requestId !== undefined) await this.activations.deadlinePassed(delivery.target, delivery.requestId);
      await this.queue.ack(entry);
      return;
    }
    const runtime = this.runtime();
    const { settings } = runtime.config;
    const target = runtime.config.partners.get(delivery.target);
    if (!target) {
      await this.dead(entry, `partner ${delivery.target} is no longer configured`);
      return;
    }
    let failure: string;
    // a partner's Retry-After (a dialect's task: when to look again) over the backoff
    let waitMs: number | undefined;
    try {
      const deliver = () => callPartner(runtime.dialectFor(target), callOf(delivery), this.metrics, { log: this.log }, this.tracing, target.dialect);
      const answer = await (this.tracing === undefined ? deliver() : this.tracing.delivery(delivery, deliver));
      if (isSuccess(answer.status)) {
        await this.queue.ack(entry);
        tellDelivery(this.journeys, delivery, 'delivered', answer.status);
        this.metrics.outbox.inc({ target: delivery.target, event: 'delivered' });
        this.log.info(
          { delivery: delivery.id, target: delivery.target, operation: delivery.operation, attempts: delivery.attempts + 1 },
          'outbox delivery done',
        );
        return;
      }
      if (answer.status < 500 && answer.status !== 408 && answer.status !== 429) {
        await this.dead(entry, `the partner refused it with ${answer.status}`, answer.status);
        return;
      }
      failure = `the partner answered ${answer.status}`;
      const seconds = retryAfterSeconds(answer.retryAfter);
      waitMs = seconds === undefined ? undefined : seconds * 1000;
    } catch (err) {
      // an error of the hub's own (a dialect's bug, its store away) is tried again like a failed
      // delivery: thrown, it would leave the entry claimed by this instance for good
      failure = err instanceof Error ? err.message : String(err);
      if (!(err instanceof UpstreamError)) this.log.warn({ delivery: delivery.id, target: delivery.target, err: failure }, 'outbox delivery failed in the hub');
    }
    if (Date.now() - delivery.createdAt >= settings.outboxHorizonSeconds * 1000) {
      await this.dead(entry, `not delivered within ${settings.outboxHorizonSeconds} s; last: ${failure}`);
      return;
    }
    const notBefore =
      Date.now() +
      (waitMs === undefined
        ? backoffMs(settings.outboxRetryBaseMs, settings.outboxRetryMaxMs, delivery.attempts)
        : Math.max(waitMs, settings.outboxRetryBaseMs));
    await this.queue.retryLater(entry, { ...delivery, attempts: delivery.attempts + 1 }, notBefore);
    tellDelivery(this.journeys, delivery, 'retried');
    this.metrics.outbox.inc({ target: delivery.target, event: 'retried' });
    // a dialect's task that asked to be looked at again later (a vehicle's action under way) is no failure
    if (delivery.operation === 'dialectTask' && waitMs !== undefined) {
      this.log.debug({ delivery: delivery.id, target: delivery.target, attempts: delivery.attempts + 1 }, 'dialect task waits; looked at again later');
      return;
    }
    this.log.warn({ delivery: delivery.id, target: delivery.target, attempts: delivery.attempts + 1, failure }, 'outbox delivery failed; will retry');
  }

  private async dead(entry: Received, reason: string, status?: number): Promise<void> {
    await this.queue.deadLetter(entry, reason);
    tellDelivery(this.journeys, entry.delivery, 'deadLettered', status);
    this.metrics.outbox.inc({ target: entry.delivery.target, event: 'dead_lettered' });
    this.log.error(
      { delivery: entry.delivery.id, target: entry.delivery.target, operation: entry.delivery.operation, reason },
      'outbox delivery dead-lettered',
    );
  }
}

/** a delivery as the call its dialect makes: the body as it was accepted (it passed validation then) */
function callOf(delivery: Delivery): DialectCall {
  const body = Buffer.from(delivery.body, 'utf8');
  return {
    operation: delivery.operation,
    caller: delivery.headers['client-id'] ?? '',
    target: delivery.target,
    method: delivery.method,
    path: delivery.path,
    params: delivery.params ?? {},
    headers: delivery.headers,
    body,
    json: jsonOf(body),
    timeoutMs: DELIVERY_TIMEOUT_MS,
  };
}

function jsonOf(body: Buffer): unknown {
  if (body.length === 0) return undefined;
  try {
    return parseStrictJson(body);
  } catch {
    // not JSON (a partner-bound body the hub did not parse): the dialect gets the bytes alone
    return undefined;
  }
}
