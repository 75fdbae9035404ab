/**
 * Redis as production runs it, started by a test from the Debian `redis-server` binary on free
 * ports: a Sentinel group (a primary, two replicas, three Sentinels) and a Cluster (three primaries,
 * two replicas each, made by `redis-cli --cluster create`), and a server that speaks TLS only with
 * an ACL user. Each can SIGKILL its primary (the Cluster's: the one serving a given key), bring it
 * back as a replica once another node has taken over, and is removed whole with its folders
 * afterwards.
 */
import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { connect } from 'node:net';
import { createClient } from 'redis';
import { freeClusterPorts, freePort, freePorts } from './ports';
import { waitFor } from './waitFor';

const run = promisify(execFile);

/** the replicas each primary has, in the Sentinel group and in the Cluster */
export const REPLICAS = 2;

class Processes {
  readonly dir = mkdtempSync(path.join(tmpdir(), 'aidgw-topology-'));
  private readonly children = new Map<number, ChildProcess>();
  private readonly args = new Map<number, readonly string[]>();

  /** each node in a folder of its own: a replica's full sync writes its dump file there (and a
   * Cluster node its `nodes.conf`, so that it comes back as the node it was) */
  start(port: number, args: readonly string[]): void {
    const dir = path.join(this.dir, String(port));
    mkdirSync(dir, { recursive: true });
    this.args.set(port, args);
    this.children.set(port, spawn('redis-server', [...args, '--dir', dir, '--logfile', path.join(dir, 'log')], { cwd: this.dir, stdio: 'ignore' }));
  }

  /** once `primaryNow` names another node than the killed `port`, starts `port` again with the
   * arguments it had and `asReplicaOf(primary)` after them, and waits until that primary has its
   * replicas online again */
  async bringBack(port: number, primaryNow: () => Promise<number>, asReplicaOf: (primary: number) => readonly string[]): Promise<void> {
    const args = this.args.get(port);
    if (!args) throw new Error(`no redis-server was started on port ${port}`);
    let primary = port;
    await waitFor(async () => (primary = await primaryNow()) !== port, 60000, 100);
    this.start(port, [...args, ...asReplicaOf(primary)]);
    await this.answering(port);
    await waitFor(async () => (await replicasOf(primary)) === REPLICAS, 20000, 100);
  }

  /** waits until the server on `port` answers PING; one whose process has exited fails at once,
   * with the reason its log gives (a port another process holds, say) */
  async answering(port: number): Promise<void> {
    const child = this.children.get(port);
    await waitFor(
      async () => {
        if (child && (child.exitCode !== null || child.signalCode !== null)) {
          throw new Error(`redis-server on port ${port} exited: ${lastWarning(path.join(this.dir, String(port), 'log'))}`);
        }
        return pings(port);
      },
      10000,
      50,
    );
  }

  async kill(port: number): Promise<void> {
    const child = this.children.get(port);
    // a process killed by a signal has no exit code, but a signal code
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGKILL');
    await exited;
  }

  async removeAll(): Promise<void> {
    await Promise.all([...this.children.keys()].map((port) => this.kill(port)));
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** starts a topology's processes with `setup`; a setup that fails leaves none of them running */
async function startedWith<T>(setup: (processes: Processes) => Promise<T>): Promise<T> {
  const processes = new Processes();
  try {
    return await setup(processes);
  } catch (err) {
    await processes.removeAll();
    throw err;
  }
}

/** the last warning a server's log holds: why it stopped, when it did */
function lastWarning(log: string): string {
  try {
    return (
      readFileSync(log, 'utf8')
        .split('\n')
        .filter((line) => line.includes(' # '))
        .pop() ?? 'its log names no reason'
    );
  } catch {
    return 'it wrote no log';
  }
}

// a replica's first full sync starts at once (the default waits 5 s for more replicas to join it)
const BASE = ['--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--repl-diskless-sync-delay', '0'];

export class SentinelGroup {
  private constructor(
    private readonly processes: Processes,
    readonly master: string,
    readonly dataPorts: readonly number[],
    readonly sentinelPorts: readonly number[],
  ) {}

  /** `downAfterMs`: how long the primary must be silent before the Sentinels fail it over */
  static start(master = 'hubmaster', downAfterMs = 1000): Promise<SentinelGroup> {
    return startedWith(async (processes) => {
      const ports = await freePorts(1 + REPLICAS + 3);
      const [dataPorts, sentinelPorts] = [ports.slice(0, 1 + REPLICAS), ports.slice(1 + REPLICAS)];
      processes.start(dataPorts[0], ['--port', String(dataPorts[0]), ...BASE]);
      await processes.answering(dataPorts[0]);
      for (const port of dataPorts.slice(1)) {
        processes.start(port, ['--port', String(port), ...BASE, '--replicaof', '127.0.0.1', String(dataPorts[0])]);
        await processes.answering(port);
      }
      for (const port of sentinelPorts) {
        // a Sentinel rewrites its config file: each its own
        const file = path.join(processes.dir, `sentinel-${port}.conf`);
        writeFileSync(
          file,
          [
            `port ${port}`,
            'bind 127.0.0.1',
            `sentinel monitor ${master} 127.0.0.1 ${dataPorts[0]} 2`,
            `sentinel down-after-milliseconds ${master} ${downAfterMs}`,
            `sentinel failover-timeout ${master} 3000`,
          ].join('\n') + '\n',
        );
        processes.start(port, [file, '--sentinel']);
        await processes.answering(port);
      }
      await waitFor(async () => (await replicasOf(dataPorts[0])) === REPLICAS, 20000, 100);
      return new SentinelGroup(processes, master, dataPorts, sentinelPorts);
    });
  }

  get sentinels(): string[] {
    return this.sentinelPorts.map((p) => `127.0.0.1:${p}`);
  }

  /** the port of the data node the Sentinels call primary now */
  async primaryPort(): Promise<number> {
    const client = createClient({ socket: { host: '127.0.0.1', port: this.sentinelPorts[0] } });
    await client.connect();
    try {
      const [, port] = await client.sendCommand<string[]>(['SENTINEL', 'GET-MASTER-ADDR-BY-NAME', this.master]);
      return Number(port);
    } finally {
      await client.close();
    }
  }

  async killPrimary(): Promise<number> {
    const port = await this.primaryPort();
    await this.processes.kill(port);
    return port;
  }

  /** once the Sentinels have promoted a replica in place of the killed `port`, starts it again as
   * that replica's replica (as an orchestrator restarts a pod; never as the empty primary it
   * would start as on its own, which its replicas would copy) and waits until the new primary has
   * two replicas online again */
  bringBack(port: number): Promise<void> {
    return this.processes.bringBack(
      port,
      () => this.primaryPort(),
      (primary) => ['--replicaof', '127.0.0.1', String(primary)],
    );
  }

  remove(): Promise<void> {
    return this.processes.removeAll();
  }
}

export class RedisClusterProcesses {
  private constructor(
    private readonly processes: Processes,
    readonly ports: readonly number[],
  ) {}

  static start(): Promise<RedisClusterProcesses> {
    return startedWith(async (processes) => {
      const ports = await freeClusterPorts(3 * (1 + REPLICAS));
      for (const port of ports) {
        processes.start(port, [
          '--port',
          String(port),
          ...BASE,
          '--cluster-enabled',
          'yes',
          '--cluster-config-file',
          `nodes-${port}.conf`,
          '--cluster-node-timeout',
          '1000',
        ]);
      }
      for (const port of ports) await processes.answering(port);
      await run('redis-cli', ['--cluster', 'create', ...ports.map((p) => `127.0.0.1:${p}`), '--cluster-replicas', String(REPLICAS), '--cluster-yes']);
      await waitFor(async () => (await Promise.all(ports.map(clusterOk))).every(Boolean), 20000, 100);
      // a replica that never synced may not take over: every primary has its two replicas online
      await waitFor(async () => (await Promise.all(ports.map(replicasOf))).filter((n) => n === REPLICAS).length === 3, 20000, 100);
      return new RedisClusterProcesses(processes, ports);
    });
  }

  get urls(): string[] {
    return this.ports.slice(0, 3).map((p) => `redis://127.0.0.1:${p}`);
  }

  /** the port of the primary that serves `key` now */
  async primaryOf(key: string): Promise<number> {
    for (const port of this.ports) {
      const client = createClient({ socket: { host: '127.0.0.1', port, reconnectStrategy: false } });
      try {
        await client.connect();
        const slot = Number(await client.sendCommand(['CLUSTER', 'KEYSLOT', key]));
        const shards = await client.sendCommand<[number, number, [string, number]][]>(['CLUSTER', 'SLOTS']);
        const shard = shards.find(([from, to]) => slot >= from && slot <= to);
        if (shard) return Number(shard[2][1]);
      } catch {
        // a node that is down: ask the next
      } finally {
        if (client.isOpen) await client.close();
      }
    }
    throw new Error(`no node knows the primary of ${key}`);
  }

  async killPrimaryOf(key: string): Promise<number> {
    const port = await this.primaryOf(key);
    await this.processes.kill(port);
    return port;
  }

  /** once a replica serves `key` in place of the killed `port`, starts that node again (its
   * `nodes.conf` makes it the new primary's replica) and waits until the new primary has two
   * replicas online again */
  bringBack(port: number, key: string): Promise<void> {
    return this.processes.bringBack(
      port,
      () => this.primaryOf(key),
      () => [],
    );
  }

  remove(): Promise<void> {
    return this.processes.removeAll();
  }
}

/** one PING, given a second: a port that takes the connection but is no Redis (another node's
 * cluster bus) never answers it */
async function pings(port: number): Promise<boolean> {
  const client = createClient({ socket: { host: '127.0.0.1', port, reconnectStrategy: false, connectTimeout: 1000 } });
  try {
    await client.connect();
    return (await Promise.race([client.ping(), new Promise((resolve) => setTimeout(resolve, 1000, 'no answer'))])) === 'PONG';
  } catch {
    return false;
  } finally {
    if (client.isOpen) client.destroy();
  }
}

async function replicasOf(port: number): Promise<number> {
  const client = createClient({ socket: { host: '127.0.0.1', port } });
  await client.connect();
  try {
    const info = await client.info('replication');
    return (info.match(/^slave\d+:.*state=online/gm) ?? []).length;
  } finally {
    await client.close();
  }
}

async function clusterOk(port: number): Promise<boolean> {
  const client = createClient({ socket: { host: '127.0.0.1', port } });
  await client.connect();
  try {
    return /cluster_state:ok/.test(await client.sendCommand<string>(['CLUSTER', 'INFO']));
  } finally {
    await client.close();
  }
}

/** one server that speaks TLS only, asks for client certificates, and knows one ACL user (the
 * default user switched off) */
export class SecureRedis {
  private constructor(
    private readonly processes: Processes,
    readonly port: number,
  ) {}

  static start(tls: { cert: string; key: string; ca: string }, user: { name: string; password: string }): Promise<SecureRedis> {
    return startedWith(async (processes) => {
      const port = await freePort();
      processes.start(port, [
        '--port',
        '0',
        '--tls-port',
        String(port),
        ...BASE,
        '--tls-cert-file',
        tls.cert,
        '--tls-key-file',
        tls.key,
        '--tls-ca-cert-file',
        tls.ca,
        '--tls-auth-clients',
        'yes',
        '--user',
        'default',
        'off',
        '--user',
        user.name,
        'on',
        `>${user.password}`,
        '~*',
        '&*',
        '+@all',
      ]);
      const secure = new SecureRedis(processes, port);
      await waitFor(
        () =>
          new Promise<boolean>((resolve) => {
            const socket = connect(port, '127.0.0.1', () => {
              socket.destroy();
              resolve(true);
            });
            socket.once('error', () => resolve(false));
          }),
        10000,
        50,
      );
      return secure;
    });
  }

  get url(): string {
    return `rediss://127.0.0.1:${this.port}`;
  }

  remove(): Promise<void> {
    return this.processes.removeAll();
  }
}
