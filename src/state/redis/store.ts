/**
 * The Redis Store (node-redis): the ports of store.ts on one connection. Any number of hub
 * instances share it: a 201 accepted by one instance is matched by the Send Activation Code that
 * lands on another. Commands fail fast while Redis is away (no offline queue, a deadline on every
 * call) so that a request gets a clear 503 instead of hanging.
 */
import { createClient } from 'redis';
import type { Store } from '../store';
import { withDeadline } from '../deadline';
import type { RecordStore } from '../records';
import { keysUnder, type KeyOf, type RedisClient } from './keys';
import { RedisLedger } from './ledger';
import { RedisOutbox } from './outbox';
import { RedisRateLimits } from './rateLimits';
import { RedisRecords } from './records';
import { RedisRequestChecks } from './requestChecks';
import { RedisTokenBindings } from './tokenBindings';

export interface RedisStoreOptions {
  readonly url: string;
  /** every key starts with it, so several hubs (or test runs) can share one Redis */
  readonly keyPrefix?: string;
  readonly commandTimeoutMs?: number;
  readonly onError?: (err: Error) => void;
}

export class RedisStore implements Store {
  readonly kind = 'redis';
  readonly bindings;
  readonly ledger;
  readonly limits;
  readonly checks;
  /** the outbox has no deadline of its own: only the worker calls it, never a waiting request */
  readonly outbox: RedisOutbox;
  private readonly key: KeyOf;

  private constructor(
    private readonly client: RedisClient,
    keyPrefix: string,
    /** every call into the store, the record stores included, fails after this */
    private readonly deadlineMs: number,
  ) {
    this.key = keysUnder(keyPrefix);
    this.bindings = withDeadline(new RedisTokenBindings(client, this.key), deadlineMs);
    this.ledger = withDeadline(new RedisLedger(client, this.key), deadlineMs);
    this.limits = withDeadline(new RedisRateLimits(client, this.key), deadlineMs);
    this.checks = withDeadline(new RedisRequestChecks(client, this.key), deadlineMs);
    this.outbox = new RedisOutbox(client, keyPrefix);
  }

  static async connect(options: RedisStoreOptions): Promise<RedisStore> {
    let connected = false;
    const client = createClient({
      url: options.url,
      disableOfflineQueue: true,
      socket: {
        connectTimeout: 5000,
        // a hub that cannot reach Redis at start says so and stops; once running, it keeps retrying
        reconnectStrategy: (retries, cause: Error) =>
          connected ? Math.min(100 * 2 ** retries, 2000) : new Error(`cannot connect to Redis at start: ${cause.message}`),
      },
    });
    // node-redis emits 'error' on every failed reconnect; without a listener the process would exit
    client.on('error', (err: Error) => options.onError?.(err));
    await client.connect();
    connected = true;
    return new RedisStore(client, options.keyPrefix ?? 'aidgw:', options.commandTimeoutMs ?? 2000);
  }

  records(namespace: string): RecordStore {
    return withDeadline<RecordStore>(new RedisRecords(this.client, this.key, namespace), this.deadlineMs);
  }

  async ping(): Promise<void> {
    const client = this.client;
    await withDeadline({ ping: () => client.ping() }, this.deadlineMs).ping();
  }

  async close(): Promise<void> {
    if (this.client.isOpen) await this.client.close();
  }
}
