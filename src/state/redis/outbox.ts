/**
 * The outbox on Redis: a stream read through the consumer group `hub` (ready deliveries), a sorted
 * set scored by the time of the next attempt (waiting deliveries), a stream of dead letters.
 * Production Redis must persist it (appendonly yes): the README says how.
 */
import type { RedisClient } from './keys';
import { Script } from './script';
import type { DeadLetter, Delivery, OutboxDepth, OutboxQueue, Received } from '../outbox';


const GROUP = 'hub';

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
    if (notBefore !== undefined && notBefore > Date.now()) {
      await this.client.zAdd(this.waiting, { score: notBefore, value: JSON.stringify(delivery) });
    } else {
      await this.client.xAdd(this.stream, '*', { delivery: JSON.stringify(delivery) });
    }
  }

  async promoteDue(now: number): Promise<number> {
    await this.ensureGroup();
    return Number(await PROMOTE.run(this.client, [this.waiting, this.stream], [String(now)]));
  }

  async receive(consumer: string, max: number): Promise<Received[]> {
    return this.withGroup(async () => {
      const reply = (await this.client.xReadGroup(GROUP, consumer, { key: this.stream, id: '>' }, { COUNT: max })) as
        | { name: string; messages: StreamMessage[] }[]
        | null;
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
    await this.client
      .multi()
      .zAdd(this.waiting, { score: notBefore, value: JSON.stringify(delivery) })
      .xAck(this.stream, GROUP, entry.entryId)
      .xDel(this.stream, entry.entryId)
      .exec();
  }

  async deadLetter(entry: Received, reason: string): Promise<void> {
    await this.client
      .multi()
      .xAdd(this.dead, '*', { delivery: JSON.stringify(entry.delivery), reason, at: String(Date.now()) })
      .xAck(this.stream, GROUP, entry.entryId)
      .xDel(this.stream, entry.entryId)
      .exec();
  }

  async listDead(max: number): Promise<DeadLetter[]> {
    const messages = (await this.client.xRange(this.dead, '-', '+', { COUNT: max })) as StreamMessage[];
    return messages.map((m) => ({ entryId: m.id, delivery: JSON.parse(m.message.delivery) as Delivery, reason: m.message.reason, at: Number(m.message.at) }));
  }

  async replayDead(entryIds?: readonly string[]): Promise<number> {
    const all = await this.listDead(10000);
    const chosen = all.filter((d) => !entryIds || entryIds.includes(d.entryId));
    for (const d of chosen) {
      await this.enqueue({ ...d.delivery, attempts: 0, createdAt: Date.now() });
      await this.client.xDel(this.dead, d.entryId);
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
