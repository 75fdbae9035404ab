/**
 * The hub's shared state, as small ports: token bindings, the per-request ledger (request ids,
 * replays, pending activation requests), rate limits, the outbox, and the record stores dialects
 * keep their state in. Two implementations of each: Redis (any number of hub instances share it;
 * redis/) and in-memory (one node, the quick start; memory/), held to one contract suite per port.
 * Every entry has a TTL; nothing here knows of HTTP.
 */
import type { Journeys } from '../journeys/journeys';
import type { Ledger } from './ledger';
import type { OutboxQueue } from './outbox';
import type { RateLimits } from './rateLimits';
import type { RecordStore } from './records';
import type { RequestChecks } from './requestChecks';
import type { TokenBindings } from './tokenBindings';

export interface Store {
  readonly kind: 'redis' | 'memory';
  readonly bindings: TokenBindings;
  readonly ledger: Ledger;
  readonly limits: RateLimits;
  readonly outbox: OutboxQueue;
  /** what a request asks of the others before its partner is called, in one step */
  readonly checks: RequestChecks;
  /** the records of one dialect partner (records.ts) */
  records(namespace: string): RecordStore;
  /** each msp_token's activation journey (journeys/): written with the store's own round trips */
  readonly journeys: Journeys;
  ping(): Promise<void>;
  close(): Promise<void>;
}
