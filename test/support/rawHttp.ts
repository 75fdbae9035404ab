/**
 * HTTP as a client that does not follow the rules would speak it: bytes written to a socket as
 * given, everything the server sends back read until it closes the connection (or a time bound).
 */
import net from 'node:net';

export interface RawExchange {
  /** every byte the server sent */
  readonly text: string;
  /** true when the server closed the connection */
  readonly closed: boolean;
}

/** writes `chunks` in order, then reads until the server closes or `untilMs` passes */
export function rawExchange(url: string, chunks: readonly (string | Buffer)[], untilMs = 10000, localAddress?: string): Promise<RawExchange> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const received: Buffer[] = [];
    const socket = net.connect({ host: hostname, port: Number(port), localAddress });
    const timer = setTimeout(() => {
      socket.destroy();
      resolve({ text: Buffer.concat(received).toString('utf8'), closed: false });
    }, untilMs);
    socket.on('connect', () => {
      for (const chunk of chunks) socket.write(chunk);
    });
    socket.on('data', (data) => received.push(data));
    socket.on('error', (err) => {
      clearTimeout(timer);
      if ((err as NodeJS.ErrnoException).code === 'ECONNRESET') resolve({ text: Buffer.concat(received).toString('utf8'), closed: true });
      else reject(err);
    });
    socket.on('close', () => {
      clearTimeout(timer);
      resolve({ text: Buffer.concat(received).toString('utf8'), closed: true });
    });
  });
}

/** the status lines of every answer in a raw exchange, in order */
export function statusLines(text: string): number[] {
  return [...text.matchAll(/HTTP\/1\.1 (\d{3}) /g)].map((m) => Number(m[1]));
}

/** the JSON bodies of AID.02 errors in a raw exchange, in order */
export function errorBodies(text: string): { code: string; error: string }[] {
  return [...text.matchAll(/\{"code":"[^"]*","error":"[^"]*"\}/g)].map((m) => JSON.parse(m[0]) as { code: string; error: string });
}
