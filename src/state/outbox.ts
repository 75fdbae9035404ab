/**
 * The outbox: deliveries the hub itself owes a partner (bridged activation codes, stored CSIM
 * statuses), kept until the partner has taken them. On Redis it is a stream read by a consumer
 * group (every hub instance is a consumer; an instance that dies leaves its entries to be claimed
 * by another), a sorted set for deliveries waiting for their next attempt, and a dead-letter stream.
 */
import type { CallOperation } from '../openapi/operations';

export interface Delivery {
  /** stable across attempts: it is also the CMP-request-id the partner sees, so it can dedupe */
  readonly id: string;
  /** `bridgeDeadline` is no delivery but a timer that survives a crash: when it comes due and the
   * bridged request is still unanswered, the CMP is sent the error */
  readonly kind: 'forward' | 'bridgeDeadline';
  readonly target: string;
  readonly operation: CallOperation;
  readonly method: string;
  readonly path: string;
  /** the call's parameters (DialectCall.params); absent for deliveries to an AID.02 partner */
  readonly params?: Readonly<Record<string, string>>;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string;
  readonly createdAt: number;
  readonly attempts: number;
  /** bridgeDeadline: the activationCodeRequestID it watches */
  readonly requestId?: string;
  /** the W3C trace context of the span that queued it, where tracing is on: its delivery links to it */
  readonly traceparent?: string;
}

export interface Received {
  /** the queue's own id of this entry (a stream id on Redis) */
  readonly entryId: string;
  readonly delivery: Delivery;
}

export interface DeadLetter {
  readonly entryId: string;
  readonly delivery: Delivery;
  readonly reason: string;
  readonly at: number;
}

export interface OutboxDepth {
  readonly ready: number;
  readonly waiting: number;
  readonly dead: number;
  /** how long the oldest ready delivery has been ready; 0 when none is */
  readonly oldestReadyAgeSeconds: number;
}

export interface OutboxQueue {
  /** durable once it resolves; `notBefore` (epoch ms) holds it back until then */
  enqueue(delivery: Delivery, notBefore?: number): Promise<void>;
  /** moves deliveries whose time has come from waiting to ready */
  promoteDue(now: number): Promise<number>;
  /** up to `max` ready deliveries for this consumer */
  receive(consumer: string, max: number): Promise<Received[]>;
  /** deliveries this consumer took and has not finished: after a call of its own whose answer was
   * lost (a read whose entries never reached it, an acknowledgement that may not have run) */
  unfinished(consumer: string, max: number): Promise<Received[]>;
  /** deliveries another consumer took more than `minIdleMs` ago and never finished */
  claimStale(consumer: string, minIdleMs: number, max: number): Promise<Received[]>;
  ack(entry: Received): Promise<void>;
  /** acks the entry and queues the delivery again for `notBefore` */
  retryLater(entry: Received, delivery: Delivery, notBefore: number): Promise<void>;
  deadLetter(entry: Received, reason: string): Promise<void>;
  listDead(max: number): Promise<DeadLetter[]>;
  /** puts dead letters (all, or the given entry ids) back in the outbox with a fresh horizon */
  replayDead(entryIds?: readonly string[]): Promise<number>;
  depth(): Promise<OutboxDepth>;
}
