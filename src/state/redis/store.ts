/**
 * The Redis Store (node-redis): the ports of store.ts on one connection (connection.ts: one server,
 * Sentinel or Cluster). Any number of hub instances share it: a 201 accepted by one instance is
 * matched by the Send Activation Code that lands on another. A call that fails for a connection
 * reason is made again for a few seconds, long enough for a failover (deadline.ts); a Redis away for
 * longer fails calls fast (no offline queue, a deadline on every call), so that a request gets a
 * clear 503 instead of hanging.
 */
import { RedisJourneys } from './journeys';
import type { Store } from '../store';
import { withDeadline, type Outage, type StoreRetry } from '../deadline';
import type { RecordStore } from '../records';
import { connectRedis, type RedisAccess, type RedisConnection } from './connection';
import { failedToConnect } from './connectionFailure';
import { RedisInspector } from './inspect';
import { keysUnder, type KeyOf } from './keys';
import { RedisLedger } from './ledger';
import { RedisOutbox } from './outbox';
import { RedisRateLimits } from './rateLimits';
import { RedisRecords } from './records';
import { afterWrites } from './replicated';
import { RedisRequestChecks } from './requestChecks';
import { RedisTokenBindings } from './tokenBindings';

export interface RedisStoreOptions {
  /** one server; or `access` for Sentinel, Cluster, TLS and an ACL user */
  readonly url?: string;
  readonly access?: RedisAccess;
  /** every key starts with it, so several hubs (or test runs) can share one Redis */
  readonly keyPrefix?: string;
  readonly commandTimeoutMs?: number;
  /** a call that failed for a connection reason is made again until this long after the store
   * began to fail */
  readonly retryWithinMs?: number;
  readonly onError?: (err: Error) => void;
  /** a write that fewer replicas than `waitReplicas` confirmed in time */
  readonly onUnreplicated?: (replicas: number) => void;
}

/** how long a write waits for its replicas before the hub goes on without them (and says so) */
const WAIT_TIMEOUT_MS = 1000;

/** a Sentinel group promotes a replica in `down-after-milliseconds` and an election; the client
 * finds it a moment later (measured: 4 s with down-after 1 s): a call rides through that */
const RETRY_WITHIN_MS = 6000;

/** calls never made again (deadline.ts): the rate limits (a second run counts twice), a lock (taken
 * with an owner of its own each time), a record created only if absent (a second run answers that
 * it exists), and the outbox's reads (what a lost read took stays pending and is claimed again) and
 * its replay of dead letters (an operator's, who sees the outcome) */
const ONCE = new Set(['admit', 'countFailures', 'acquireLock', 'create', 'receive', 'claimStale', 'replayDead']);

export class RedisStore implements Store {
  readonly kind = 'redis';
  readonly bindings;
  readonly ledger;
  readonly limits;
  readonly checks;
  readonly journeys: RedisJourneys;
  /** the outbox has no deadline of its own (only its retries): the worker calls it, and requests
   * that store a delivery wait for it as long as Redis takes */
  readonly outbox: RedisOutbox;
  /** the key prefix in use (under a Cluster, with its hash tag) */
  readonly prefix: string;
  private readonly key: KeyOf;
  private readonly replicated: <T extends object>(port: T, writes: readonly (keyof T & string)[]) => T;

  private constructor(
    private readonly connection: RedisConnection,
    keyPrefix: string,
    /** every call into the store, the record stores included, fails after this */
    private readonly deadlineMs: number,
    private readonly retry: StoreRetry & { readonly outage: Outage },
    waitReplicas: number,
    onUnreplicated: (replicas: number) => void,
  ) {
    const client = connection.client;
    this.prefix = connection.prefix(keyPrefix);
    this.key = keysUnder(this.prefix);
    const wait = async () => {
      const replicas = await connection.waitForReplicas(waitReplicas, WAIT_TIMEOUT_MS, `${this.prefix}wait`);
      if (replicas < waitReplicas) onUnreplicated(replicas);
    };
    this.replicated = waitReplicas > 0 ? (port, writes) => afterWrites(port, writes, wait) : (port) => port;
    this.bindings = withDeadline(this.replicated(new RedisTokenBindings(client, this.key), ['bind', 'invalidate']), deadlineMs, retry);
    const outbox = new RedisOutbox(client, this.prefix);
    this.ledger = withDeadline(
      this.replicated(new RedisLedger(client, this.key, outbox), [
        'rememberRequest',
        'claimActivation',
        'finishActivation',
        'bridgeActivation',
        'consumePending',
        'settlePending',
        'markPendingAnswered',
      ]),
      deadlineMs,
      retry,
    );
    this.limits = withDeadline(new RedisRateLimits(client, this.key), deadlineMs, retry);
    // a check made again counts the request against its rate limits once more: the price of not
    // refusing it while the primary changes
    this.journeys = new RedisJourneys(client, this.key, this.key('none', ''));
    this.checks = withDeadline(this.replicated(new RedisRequestChecks(client, this.key, this.journeys), ['check']), deadlineMs, retry);
    this.outbox = withDeadline(this.replicated(outbox, ['enqueue', 'retryLater', 'deadLetter', 'replayDead']), undefined, retry);
  }

  static async connect(options: RedisStoreOptions): Promise<RedisStore> {
    const access = options.access ?? (options.url !== undefined ? { target: { kind: 'single' as const, url: options.url } } : undefined);
    if (!access) throw new Error('RedisStore.connect needs a url or an access');
    const connection = await connectRedis(access, { onError: options.onError });
    const retry = { withinMs: options.retryWithinMs ?? RETRY_WITHIN_MS, failedToConnect, once: ONCE, outage: {} };
    return new RedisStore(
      connection,
      options.keyPrefix ?? 'aidgw:',
      options.commandTimeoutMs ?? 2000,
      retry,
      access.waitReplicas ?? 0,
      options.onUnreplicated ?? (() => undefined),
    );
  }

  /** the target, without credentials */
  get description(): string {
    return this.connection.description;
  }

  /** read-only views of the state for `aid-gateway inspect` */
  inspector(): RedisInspector {
    return new RedisInspector(this.connection, this.prefix);
  }

  records(namespace: string): RecordStore {
    return withDeadline<RecordStore>(
      this.replicated(new RedisRecords(this.connection.client, this.key, namespace), ['save', 'create']),
      this.deadlineMs,
      this.retry,
    );
  }

  async ping(): Promise<void> {
    const client = this.connection.client;
    // a key routes the PING to the hub's own node under a Cluster
    await withDeadline({ ping: () => client.exists(`${this.prefix}ping`) }, this.deadlineMs).ping();
  }

  async close(): Promise<void> {
    const client = this.connection.client;
    await this.journeys.close();
    if (client.isOpen) await client.close();
  }
}
