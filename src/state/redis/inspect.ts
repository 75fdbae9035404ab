/**
 * `aid-gateway inspect`: the hub's state on Redis as an operator reads it, one JSON object a line,
 * without writing anything. It reads the keys the ports write (keys.ts) on whichever topology holds
 * them (connection.ts scans every node of a Cluster). What a line holds is chosen here: no activation
 * code, no delivery body, no header; an msp_token is shortened except the one the operator names.
 */
import type { ActivationEntry } from '../ledger';
import type { Delivery } from '../outbox';
import type { RedisConnection } from './connection';

export type Line = Record<string, unknown>;

export class RedisInspector {
  constructor(
    private readonly connection: RedisConnection,
    private readonly prefix: string,
  ) {}

  /** whether anything at all lies under the prefix (a wrong --redis-prefix reads as "nothing") */
  async holdsHubData(): Promise<boolean> {
    for await (const keys of this.connection.scan(`${this.escapedPrefix()}*`)) if (keys.length > 0) return true;
    return false;
  }

  /** the binding of one msp_token: each MSP-CMP pair and its state */
  async token(token: string): Promise<Line | undefined> {
    return this.binding(`${this.prefix}tok:${token}`, token);
  }

  async *bindings(): AsyncGenerator<Line> {
    const start = `${this.prefix}tok:`;
    for await (const keys of this.connection.scan(`${this.escapedPrefix()}tok:*`)) {
      for (const key of keys) {
        const line = await this.binding(key, shortened(key.slice(start.length)));
        if (line) yield line;
      }
    }
  }

  /** activation requests that a Send Activation Code may still answer (AID.02 7.7.2) */
  async *pending(): AsyncGenerator<Line> {
    for await (const keys of this.connection.scan(`${this.escapedPrefix()}act:*`)) {
      for (const key of keys) {
        const raw = await this.client.get(key);
        if (raw === null) continue;
        const entry = JSON.parse(raw) as ActivationEntry;
        if (entry.settled || entry.state === 'done' || entry.state === 'inflight') continue;
        const { pending } = entry;
        yield {
          cmp: pending.cmp,
          msp: pending.msp,
          activationCodeRequestID: pending.requestId,
          mspToken: shortened(pending.mspToken),
          state: entry.state,
          answeredToCmp: entry.answered === true,
          createdAt: new Date(pending.createdAt).toISOString(),
          ttlSeconds: await this.client.ttl(key),
        };
      }
    }
  }

  /** deliveries the hub still owes: ready ones (in the stream) and ones waiting for their next attempt */
  async *outbox(): AsyncGenerator<Line> {
    const ready = (await this.client.xRange(`${this.prefix}outbox`, '-', '+')) as { id: string; message: Record<string, string> }[];
    for (const entry of ready) yield { state: 'ready', entryId: entry.id, ...deliveryLine(JSON.parse(entry.message.delivery) as Delivery) };
    const waiting = await this.client.zRangeWithScores(`${this.prefix}outbox:waiting`, 0, -1);
    for (const entry of waiting)
      yield { state: 'waiting', notBefore: new Date(entry.score).toISOString(), ...deliveryLine(JSON.parse(entry.value) as Delivery) };
  }

  private get client() {
    return this.connection.client;
  }

  private async binding(key: string, token: string): Promise<Line | undefined> {
    const pairs = await this.client.hGetAll(key);
    if (Object.keys(pairs).length === 0) return undefined;
    return {
      mspToken: token,
      // a pair is kept as `${msp} ${cmp}` (tokenBindings.ts pairKey)
      pairs: Object.entries(pairs).map(([pair, state]) => {
        const [msp, cmp] = pair.split(' ');
        return { msp, cmp, state };
      }),
      ttlSeconds: await this.client.ttl(key),
    };
  }

  /** the prefix as a SCAN pattern matches it literally (a Cluster's braces, a test's colons) */
  private escapedPrefix(): string {
    return this.prefix.replace(/[*?[\]\\]/g, '\\$&');
  }
}

function deliveryLine(delivery: Delivery): Line {
  return {
    kind: delivery.kind,
    target: delivery.target,
    operation: delivery.operation,
    id: delivery.id,
    attempts: delivery.attempts,
    createdAt: new Date(delivery.createdAt).toISOString(),
  };
}

/** enough of an msp_token to tell tokens apart in a listing, not enough to use one */
function shortened(token: string): string {
  return token.length <= 8 ? '…' : `${token.slice(0, 4)}…${token.slice(-2)}`;
}
