/**
 * A Redis that is slow but answers: a TCP proxy in front of a test's own redis-server (OwnRedis)
 * that holds Redis's replies, or hands them on after a delay the test sets, always in the order
 * Redis gave them (a client matches replies to its commands by their order). Redis itself runs each
 * command at once, so its own counts (`calls`) tell what the client sent, even while the client
 * waits for an answer: unlike a paused redis-server, whose counts cannot be read.
 */
import net from 'node:net';
import { createClient } from 'redis';
import { commandCounts, type OwnRedis } from './redisServer';

interface Reply {
  readonly chunk: Buffer;
  /** when the client gets it; undefined while held */
  due?: number;
}

/** one client connection: Redis's replies not yet handed on, oldest first */
class Link {
  readonly replies: Reply[] = [];
  private timer?: NodeJS.Timeout;

  constructor(
    readonly client: net.Socket,
    readonly upstream: net.Socket,
  ) {}

  /** hands on every reply that is due, and waits for the next one's time */
  pump(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    while (this.replies.length > 0 && this.replies[0].due !== undefined && this.replies[0].due <= Date.now()) {
      this.client.write(this.replies.shift()!.chunk);
    }
    const next = this.replies[0]?.due;
    if (next !== undefined) this.timer = setTimeout(() => this.pump(), next - Date.now());
  }

  close(): void {
    if (this.timer) clearTimeout(this.timer);
    this.client.destroy();
    this.upstream.destroy();
  }
}

export class SlowRedis {
  /** how long a reply waits before the client gets it, counted from when Redis gave it (or from
   * `release` for one held) */
  delayMs = 0;
  private held = false;
  private readonly links = new Set<Link>();

  private constructor(
    private readonly server: net.Server,
    private readonly redis: OwnRedis,
    private readonly direct: ReturnType<typeof createClient>,
  ) {}

  static async start(redis: OwnRedis): Promise<SlowRedis> {
    const direct = createClient({ url: redis.url });
    await direct.connect();
    const server = net.createServer();
    const slow = new SlowRedis(server, redis, direct);
    server.on('connection', (client) => slow.link(client));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return slow;
  }

  get url(): string {
    return `redis://127.0.0.1:${(this.server.address() as net.AddressInfo).port}`;
  }

  /** from now on Redis's replies wait until `release` */
  hold(): void {
    this.held = true;
  }

  /** the replies held go on after `delayMs`, and so do later ones */
  release(): void {
    this.held = false;
    const due = Date.now() + this.delayMs;
    for (const link of this.links) {
      for (const reply of link.replies) reply.due ??= due;
      link.pump();
    }
  }

  /** how many times Redis has run `command` since it started (its own count, asked directly) */
  async calls(command: string): Promise<number> {
    return (await commandCounts(this.direct))[command.toLowerCase()] ?? 0;
  }

  /** how many replies Redis has refused with this error code since it started */
  async refusals(code: string): Promise<number> {
    const stats = await this.direct.info('errorstats');
    return Number(new RegExp(`^errorstat_${code}:count=(\\d+)`, 'm').exec(stats)?.[1] ?? 0);
  }

  /** a command sent to Redis directly, not through the proxy */
  send(args: string[]): Promise<unknown> {
    return this.direct.sendCommand(args);
  }

  async close(): Promise<void> {
    for (const link of this.links) link.close();
    await this.direct.close();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private link(client: net.Socket): void {
    const upstream = net.connect(this.redis.port, '127.0.0.1');
    const link = new Link(client, upstream);
    this.links.add(link);
    client.pipe(upstream);
    upstream.on('data', (chunk: Buffer) => {
      link.replies.push({ chunk, due: this.held ? undefined : Date.now() + this.delayMs });
      link.pump();
    });
    const end = () => {
      this.links.delete(link);
      link.close();
    };
    client.on('close', end).on('error', end);
    upstream.on('close', end).on('error', end);
  }
}
