/**
 * What the MSP and CMP simulators share: a Koa app on loopback that checks the API key the hub
 * presents, parses JSON bodies and dispatches by method and path pattern. Simulators are for the
 * quick start and for trying the hub; they keep everything in memory.
 */
import http from 'node:http';
import type https from 'node:https';
import type { AddressInfo } from 'node:net';
import Koa from 'koa';

export interface SimRequest {
  readonly params: Readonly<Record<string, string>>;
  readonly query: Readonly<Record<string, string | string[] | undefined>>;
  readonly headers: http.IncomingHttpHeaders;
  readonly body: unknown;
}

export interface SimAnswer {
  readonly status: number;
  readonly body?: unknown;
}

export interface SimRoute {
  readonly method: string;
  readonly path: string;
  readonly handle: (req: SimRequest) => SimAnswer | Promise<SimAnswer>;
}

export interface RunningSimulator {
  readonly url: string;
  close(): Promise<void>;
}

export async function startSimulator(
  routes: readonly SimRoute[],
  options: { apiKey: string; host?: string; port?: number },
): Promise<RunningSimulator> {
  const compiled = routes.map((r) => ({ ...r, pattern: compilePath(r.path) }));
  const app = new Koa();
  app.silent = true;
  app.use(async (ctx) => {
    // the inbox is for the person trying the hub, not for partners
    if (!ctx.path.startsWith('/simulator/') && ctx.get('api-key') !== options.apiKey) {
      ctx.status = 401;
      ctx.body = { code: '104', error: 'The authorization failed.' };
      return;
    }
    for (const route of compiled) {
      const match = route.method === ctx.method ? route.pattern.exec(ctx.path) : null;
      if (!match) continue;
      const answer = await route.handle({ params: match.groups ?? {}, query: ctx.query, headers: ctx.req.headers, body: await readJson(ctx.req) });
      ctx.status = answer.status;
      // an empty body stays empty: Koa would turn null into a 204
      ctx.body = answer.body ?? '';
      if (answer.body === undefined) ctx.remove('content-type');
      return;
    }
    ctx.status = 404;
    ctx.body = { code: '91', error: 'Invalid request syntax' };
  });
  const server = http.createServer(app.callback());
  const host = options.host ?? '127.0.0.1';
  const port = await listen(server, host, options.port ?? 0);
  return { url: `http://${host}:${port}`, close: () => closeServer(server) };
}

/** the port `server` listens on once it does (0: any free one) */
export async function listen(server: http.Server | https.Server, host: string, port: number): Promise<number> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  return (server.address() as AddressInfo).port;
}

/** stops listening and drops the connections kept alive */
export function closeServer(server: http.Server | https.Server): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
}

function compilePath(template: string): RegExp {
  const source = template.replace(/\{([A-Za-z_]+)\}/g, '(?<$1>[^/]+)');
  return new RegExp(`^${source}$`);
}

async function readJson(req: http.IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  const text = Buffer.concat(chunks).toString('utf8');
  return text.trim() === '' ? undefined : JSON.parse(text);
}

/** a request's JSON object body ({} when empty), or undefined when it is not JSON */
export async function readJsonObject(req: http.IncomingMessage): Promise<Record<string, unknown> | undefined> {
  try {
    const value = await readJson(req);
    return value === undefined ? {} : (value as Record<string, unknown>);
  } catch {
    return undefined;
  }
}
