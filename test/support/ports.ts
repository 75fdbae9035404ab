/** A port on 127.0.0.1 that was free a moment ago, for servers a test starts as processes. */
import { readFileSync } from 'node:fs';
import net from 'node:net';

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

/** a port whose next one is free too (a hub with --workers 2 serves its admin listener on both) */
export async function freePortPair(): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const port = await freePort();
    if (port < 65535 && (await isFree(port + 1))) return port;
  }
  throw new Error('no two consecutive free ports on 127.0.0.1');
}

/** true when nothing listens on 127.0.0.1:port now */
export function isFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

/** `count` ports that are different from each other and were free a moment ago */
export async function freePorts(count: number): Promise<number[]> {
  const servers: net.Server[] = [];
  try {
    for (let i = 0; i < count; i++) {
      const server = net.createServer();
      await new Promise<void>((resolve, reject) => server.once('error', reject).listen(0, '127.0.0.1', () => resolve()));
      servers.push(server);
    }
    return servers.map((s) => (s.address() as net.AddressInfo).port);
  } finally {
    await Promise.all(servers.map((s) => new Promise((resolve) => s.close(resolve))));
  }
}

/** a Cluster node also listens on its port + 10000 (the cluster bus), and refuses to start on a
 * port above 55535: `count` ports from 20000 to 55535 whose bus ports are free as well (the
 * kernel's own picks come from 32768-60999, a fifth of them too high), none of them another's bus
 * port (a node on 31040 beside one on 21040 fails to bind) */
export async function freeClusterPorts(count: number): Promise<number[]> {
  const ports: number[] = [];
  const taken = new Set<number>();
  while (ports.length < count) {
    const port = await randomPort(
      20000,
      55536,
      async (candidate) => !taken.has(candidate) && !taken.has(candidate + 10000) && (await isFree(candidate)) && (await isFree(candidate + 10000)),
    );
    ports.push(port);
    taken.add(port).add(port + 10000);
  }
  return ports;
}

/**
 * A free port for a server a test stops and starts again on the same port (a partner that comes
 * back, a Redis that restarts). It lies below the kernel's own range: a port from that range, once
 * let go, can meanwhile become the source port of any outgoing connection on the machine (the
 * hub's own attempts to reach the stopped server included), and the restart fails with EADDRINUSE.
 */
export function restartablePort(): Promise<number> {
  return randomPort(10000, Math.max(kernelPicksFrom(), 20000), isFree);
}

/** where the kernel's range for port 0 and for the source port of every outgoing connection starts */
function kernelPicksFrom(): number {
  try {
    const low = Number(readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/)[0]);
    if (low > 0) return low;
  } catch {
    // not Linux: the range IANA assigns to ephemeral ports
  }
  return 49152;
}

/** a port from `low` up to `high` (excluded), drawn at random, that `usable` accepts */
async function randomPort(low: number, high: number, usable: (port: number) => Promise<boolean>): Promise<number> {
  for (let attempt = 0; attempt < 100; attempt++) {
    const port = low + Math.floor(Math.random() * (high - low));
    if (await usable(port)) return port;
  }
  throw new Error(`no usable port from ${low} to ${high - 1} on 127.0.0.1`);
}
