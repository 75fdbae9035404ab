/**
 * A redis-server of a test's own, on a free port, for tests that stop and start Redis: never the
 * shared one. .ci/run makes sure the binary is installed.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createClient } from 'redis';
import { restartablePort } from './ports';

/** the commands a Redis has run since it started, by name: its own count (INFO commandstats), which
 * counts every client's commands, so it tells one client's only on a Redis no other talks to */
export async function commandCounts(client: { info(section: string): Promise<string> }): Promise<Record<string, number>> {
  const info = await client.info('commandstats');
  return Object.fromEntries([...info.matchAll(/^cmdstat_(\w+):calls=(\d+)/gm)].map((m) => [m[1], Number(m[2])]));
}

export class OwnRedis {
  private process?: ChildProcess;

  private constructor(
    readonly port: number,
    /** with a folder, Redis persists as the outbox needs: append-only file, fsync on every write */
    private readonly dataDir?: string,
  ) {}

  static async start(options: { persistent?: boolean } = {}): Promise<OwnRedis> {
    const dir = options.persistent ? mkdtempSync(path.join(tmpdir(), 'aidgw-redis-')) : undefined;
    const redis = new OwnRedis(await restartablePort(), dir);
    await redis.startAgain();
    return redis;
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  /** starts the server, unless it runs: a second one on the port would fail to bind and leave
   * `pause` and `kill` aimed at it instead of the server that answers */
  async startAgain(): Promise<void> {
    if (this.process && this.process.exitCode === null && this.process.signalCode === null) return;
    const persistence = this.dataDir ? ['--appendonly', 'yes', '--appendfsync', 'always', '--dir', this.dataDir] : ['--appendonly', 'no'];
    this.process = spawn('redis-server', ['--port', String(this.port), '--bind', '127.0.0.1', '--save', '', ...persistence], { stdio: 'ignore' });
    const until = Date.now() + 10000;
    for (;;) {
      try {
        const client = createClient({ url: this.url, socket: { reconnectStrategy: false } });
        await client.connect();
        await client.close();
        return;
      } catch {
        if (Date.now() > until) throw new Error(`redis-server on port ${this.port} did not start`);
        await new Promise((r) => setTimeout(r, 50));
      }
    }
  }

  /** the commands this Redis has run since it started, by name (commandCounts) */
  async commands(): Promise<Record<string, number>> {
    const client = createClient({ url: this.url });
    await client.connect();
    try {
      return await commandCounts(client);
    } finally {
      await client.close();
    }
  }

  /** kills it and removes its data */
  async remove(): Promise<void> {
    await this.kill();
    if (this.dataDir) rmSync(this.dataDir, { recursive: true, force: true });
  }

  /** stops the server without closing its connections (SIGSTOP): a Redis that does not answer */
  pause(): void {
    this.process?.kill('SIGSTOP');
  }

  /** lets a paused server go on: the commands sent meanwhile are answered */
  resume(): void {
    this.process?.kill('SIGCONT');
  }

  /** kills the server outright, as a crash would */
  async kill(): Promise<void> {
    const child = this.process;
    if (!child || child.exitCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGKILL');
    await exited;
  }
}
