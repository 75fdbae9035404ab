/**
 * What the MSP and CMP simulators share: a Koa app on loopback that checks the API key the hub
 * presents and the headers AID.02 5.1 makes mandatory, parses JSON bodies and dispatches by method
 * and path pattern; over TLS with a client certificate required, where asked. Simulators are for
 * the quick start, for trying the hub and for the conformance kit's own tests; they keep
 * everything in memory. `defects` make one misbehave on purpose (the kit must notice).
 */
import http from 'node:http';
import https from 'node:https';
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
  /** the status Annex B documents for a malformed request to this operation (422 unless said) */
  readonly clientErrorStatus?: number;
}

/** AID.02 5.1: every request carries these */
const MANDATORY_HEADERS = ['cmp-request-id', 'correlation-id', 'client-id', 'target-id'];

export interface SimulatorServerOptions {
  readonly apiKey: string;
  readonly host?: string;
  readonly port?: number;
  /** HTTPS that asks for a client certificate of `ca` (AID.02 6), unless `requestCert` is false */
  readonly tls?: { readonly cert: string | Buffer; readonly key: string | Buffer; readonly ca: string | Buffer; readonly requestCert?: boolean };
  /** misbehaviours for the conformance kit's tests: refusals without the 5.5 body, headers not checked */
  readonly defects?: { readonly noErrorBody?: boolean; readonly ignoresHeaders?: boolean };
}

export interface RunningSimulator {
  readonly url: string;
  close(): Promise<void>;
}

export async function startSimulator(routes: readonly SimRoute[], options: SimulatorServerOptions): Promise<RunningSimulator> {
  const compiled = routes.map((r) => ({ ...r, pattern: compilePath(r.path) }));
  const app = new Koa();
  app.silent = true;
  if (options.defects?.noErrorBody) {
    app.use(async (ctx, next) => {
      await next();
      if (ctx.status >= 400) ctx.body = '';
    });
  }
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
      const partnerCall = !ctx.path.startsWith('/simulator/');
      const missing = !partnerCall || options.defects?.ignoresHeaders ? undefined : MANDATORY_HEADERS.find((h) => !ctx.get(h));
      if (missing !== undefined) {
        ctx.status = route.clientErrorStatus ?? 422;
        ctx.body = { code: '91', error: `Invalid request syntax: header ${missing} is mandatory` };
        return;
      }
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
  const tls = options.tls;
  const callback = app.callback();
  const listener: http.RequestListener = (req, res) => void callback(req, res);
  const server = tls
    ? https.createServer(
        { cert: tls.cert, key: tls.key, ca: tls.ca, requestCert: tls.requestCert ?? true, rejectUnauthorized: tls.requestCert ?? true },
        listener,
      )
    : http.createServer(listener);
  const host = options.host ?? '127.0.0.1';
  const port = await listen(server, host, options.port ?? 0);
  return { url: `${tls ? 'https' : 'http'}://${host}:${port}`, close: () => closeServer(server) };
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
