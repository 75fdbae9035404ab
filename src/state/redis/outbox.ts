/**
 * The outbox on Redis: a stream read through the consumer group `hub` (ready deliveries), a sorted
 * set scored by the time of the next attempt (waiting deliveries), a stream of dead letters.
 * Production Redis must persist it (appendonly yes): docs/operating/redis.md says how. A delivery is queued
 * once per id: a marker key per id makes queueing it again a no-op, so that a call whose answer was
 * lost (a timeout, a failover) can be made again, and the ledger's scripts queue through the same Lua
 * in the step that settles a request.
 */
import type { RedisClient } from './keys';
import { Script } from './script';
import type { DeadLetter, Delivery, OutboxDepth, OutboxQueue, Received } from '../outbox';

const GROUP = 'hub';

/** how long a queued id is remembered: longer than any retry of the call that queued it, and than a
 * dialect's own retry of the step that queued it (a task's next run) */
const QUEUED_ID_SECONDS = 3600;

// enqueue(stream, waiting, marker, delivery JSON, notBefore or '', now): 1 when queued now, 0 when
// this id was queued before
export const ENQUEUE_DELIVERY = `
local function enqueue(stream, waiting, marker, delivery, notBefore, now)
  if not redis.call('SET', marker, '1', 'NX', 'EX', ${QUEUED_ID_SECONDS}) then return 0 end
  if notBefore ~= '' and tonumber(notBefore) > tonumber(now) then
    redis.call('ZADD', waiting, tonumber(notBefore), delivery)
  else
    redis.call('XADD', stream, '*', 'delivery', delivery)
  end
  return 1
end
`;

const ENQUEUE = new Script(`${ENQUEUE_DELIVERY}\nreturn enqueue(KEYS[1], KEYS[2], KEYS[3], ARGV[1], ARGV[2], ARGV[3])`);

// a dead letter is written once: only by the call whose XACK took the entry
const DEAD_LETTER = new Script(`
if redis.call('XACK', KEYS[1], ARGV[1], ARGV[2]) == 0 then return 0 end
redis.call('XADD', KEYS[2], '*', 'delivery', ARGV[3], 'reason', ARGV[4], 'at', ARGV[5])
redis.call('XDEL', KEYS[1], ARGV[2])
return 1`);

// a delivery is queued again once: only by the call whose XACK took the entry
const RETRY_LATER = new Script(`
if redis.call('XACK', KEYS[1], ARGV[1], ARGV[2]) == 0 then return 0 end
redis.call('ZADD', KEYS[2], tonumber(ARGV[4]), ARGV[3])
redis.call('XDEL', KEYS[1], ARGV[2])
return 1`);

// the consumer's held entries that are no longer in the stream (an operator's XDEL) are let go:
// the client's reader of XREADGROUP fails on an entry without its fields, so one such entry would
// fail every later look at what the consumer holds
const LET_GO_DELETED = new Script(`
local gone = 0
for _, held in ipairs(redis.call('XPENDING', KEYS[1], ARGV[1], '-', '+', tonumber(ARGV[3]), ARGV[2])) do
  if #redis.call('XRANGE', KEYS[1], held[1], held[1]) == 0 then
    gone = gone + redis.call('XACK', KEYS[1], ARGV[1], held[1])
  end
end
return gone`);

/** what the ENQUEUE_DELIVERY Lua needs of a delivery: its keys (stream, waiting, marker) and arguments */
export interface Queueing {
  readonly keys: readonly [string, string, string];
  readonly args: readonly [string, string, string];
}

// due deliveries move from the waiting set to the stream in one step, so none is lost or doubled
const PROMOTE = new Script(`
local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, 100)
for _, delivery in ipairs(due) do
  redis.call('XADD', KEYS[2], '*', 'delivery', delivery)
  redis.call('ZREM', KEYS[1], delivery)
end
return #due`);

interface StreamMessage {
  id: string;
  message: Record<string, string>;
}

export class RedisOutbox implements OutboxQueue {
  private readonly stream: string;
  private readonly waiting: string;
  private readonly dead: string;
  private groupReady?: Promise<void>;

  constructor(
    private readonly client: RedisClient,
    prefix: string,
  ) {
    this.stream = `${prefix}outbox`;
    this.waiting = `${prefix}outbox:waiting`;
    this.dead = `${prefix}outbox:dead`;
  }

  async enqueue(delivery: Delivery, notBefore?: number): Promise<void> {
    await this.ensureGroup();
    const { keys, args } = this.queueing(delivery, notBefore);
    await ENQUEUE.run(this.client, keys, args);
  }

  /** the keys and arguments that queue `delivery` (ENQUEUE_DELIVERY), for a script of the ledger */
  queueing(delivery: Delivery, notBefore?: number): Queueing {
    return {
      keys: [this.stream, this.waiting, `${this.stream}:queued:${delivery.id}`],
      args: [JSON.stringify(delivery), notBefore === undefined ? '' : String(notBefore), String(Date.now())],
    };
  }

  async promoteDue(now: number): Promise<number> {
    await this.ensureGroup();
    return Number(await PROMOTE.run(this.client, [this.waiting, this.stream], [String(now)]));
  }

  async receive(consumer: string, max: number): Promise<Received[]> {
    return this.withGroup(async () => {
      const reply = (await this.client.xReadGroup(GROUP, consumer, { key: this.stream, id: '>' }, { COUNT: max })) as
        { name: string; messages: StreamMessage[] }[] | null;
      return (reply?.[0]?.messages ?? []).map(toReceived);
    });
  }

  async unfinished(consumer: string, max: number): Promise<Received[]> {
    return this.withGroup(async () => {
      await LET_GO_DELETED.run(this.client, [this.stream], [GROUP, consumer, String(max)]);
      // from id 0: the consumer's own pending entries, its delivery counts left as they are
      const reply = (await this.client.xReadGroup(GROUP, consumer, { key: this.stream, id: '0' }, { COUNT: max })) as
        { name: string; messages: StreamMessage[] }[] | null;
      return (reply?.[0]?.messages ?? []).map(toReceived);
    });
  }

  async claimStale(consumer: string, minIdleMs: number, max: number): Promise<Received[]> {
    return this.withGroup(async () => {
      const reply = await this.client.xAutoClaim(this.stream, GROUP, consumer, minIdleMs, '0-0', { COUNT: max });
      return (reply.messages as (StreamMessage | null)[]).flatMap((m) => (m ? [toReceived(m)] : []));
    });
  }

  async ack(entry: Received): Promise<void> {
    await this.client.multi().xAck(this.stream, GROUP, entry.entryId).xDel(this.stream, entry.entryId).exec();
  }

  async retryLater(entry: Received, delivery: Delivery, notBefore: number): Promise<void> {
    await RETRY_LATER.run(this.client, [this.stream, this.waiting], [GROUP, entry.entryId, JSON.stringify(delivery), String(notBefore)]);
  }

  async deadLetter(entry: Received, reason: string): Promise<void> {
    await DEAD_LETTER.run(this.client, [this.stream, this.dead], [GROUP, entry.entryId, JSON.stringify(entry.delivery), reason, String(Date.now())]);
  }

  async listDead(max: number): Promise<DeadLetter[]> {
    const messages = (await this.client.xRange(this.dead, '-', '+', { COUNT: max })) as StreamMessage[];
    return messages.map((m) => ({ entryId: m.id, delivery: JSON.parse(m.message.delivery) as Delivery, reason: m.message.reason, at: Number(m.message.at) }));
  }

  async replayDead(entryIds?: readonly string[]): Promise<number> {
    const all = await this.listDead(10000);
    const chosen = all.filter((d) => !entryIds || entryIds.includes(d.entryId));
    await this.ensureGroup();
    // queued again under the id it was queued with before: past the marker, in one step with its removal
    for (const d of chosen) {
      await this.client
        .multi()
        .xAdd(this.stream, '*', { delivery: JSON.stringify({ ...d.delivery, attempts: 0, createdAt: Date.now() }) })
        .xDel(this.dead, d.entryId)
        .exec();
    }
    return chosen.length;
  }

  async depth(): Promise<OutboxDepth> {
    const [ready, waiting, dead, first] = await Promise.all([
      this.client.xLen(this.stream),
      this.client.zCard(this.waiting),
      this.client.xLen(this.dead),
      this.client.xRange(this.stream, '-', '+', { COUNT: 1 }) as Promise<StreamMessage[]>,
    ]);
    // a stream id starts with the time the entry was added, in ms
    const oldestReadyAgeSeconds = first.length > 0 ? Math.max(0, (Date.now() - Number(first[0].id.split('-')[0])) / 1000) : 0;
    return { ready, waiting, dead, oldestReadyAgeSeconds };
  }

  // a Redis that restarted without its data has lost the group: create it again and retry once
  private async withGroup<T>(read: () => Promise<T>): Promise<T> {
    await this.ensureGroup();
    try {
      return await read();
    } catch (err) {
      if (!(err as Error).message.includes('NOGROUP')) throw err;
      this.groupReady = undefined;
      await this.ensureGroup();
      return read();
    }
  }

  private ensureGroup(): Promise<void> {
    this.groupReady ??= this.client.xGroupCreate(this.stream, GROUP, '0', { MKSTREAM: true }).then(
      () => undefined,
      (err: Error) => {
        if (!err.message.includes('BUSYGROUP')) {
          this.groupReady = undefined;
          throw err;
        }
      },
    );
    return this.groupReady;
  }
}

function toReceived(m: StreamMessage): Received {
  return { entryId: m.id, delivery: JSON.parse(m.message.delivery) as Delivery };
}
