/**
 * A partner backend for tests: a real HTTP server on 127.0.0.1 that records every request and
 * answers like a well-behaved AID.02 counterpart unless a test tells it otherwise.
 */
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';

export interface Received {
  readonly method: string;
  readonly path: string;
  readonly query: string;
  readonly headers: http.IncomingHttpHeaders;
  readonly raw: string;
  readonly body: unknown;
}

export interface Reply {
  readonly status: number;
  readonly body?: unknown;
  /** sent as is instead of `body` */
  readonly raw?: string;
  readonly contentType?: string;
  readonly headers?: Readonly<Record<string, string>>;
  readonly delayMs?: number;
}

export type Responder = (req: Received) => Reply | Promise<Reply>;

export const ACTIVATION_CODE = '1$smdp.example.com$04386-AGYFT-A74Y8-3F815';

/** what an AID.02 partner answers on success, by operation path */
export function standardReply(req: Received): Reply {
  const { method, path } = req;
  if (method === 'POST' && /^\/v1\/activation-code-requests\//.test(path)) {
    return { status: 200, body: { iccid: '8949000000000000001', activationCode: ACTIVATION_CODE, profileType: 'personal', swappedIccid: null } };
  }
  if (method === 'POST' && /^\/v1\/statuses\//.test(path)) return { status: 201 };
  if (method === 'DELETE' && /^\/v1\/users\//.test(path)) return { status: 204 };
  if (method === 'GET' && /^\/v1\/profiles\/status\//.test(path))
    return { status: 200, body: { profiles: [{ iccid: '8949000000000000001', status: 'enabled' }] } };
  if (method === 'POST' && /\/invalidate$/.test(path)) return { status: 204 };
  if (method === 'POST' && /\/profiles$/.test(path)) return { status: 200 };
  if (method === 'PATCH') return { status: 201 };
  if (method === 'POST' && /^\/cesim\/msp\/v1\/activation-codes\//.test(path)) return { status: 200 };
  if (method === 'POST' && /^\/cesim\/msp\/v1\/users\//.test(path)) return { status: 201 };
  return { status: 404, body: { code: '91', error: 'no such path' } };
}

export class FakePartner {
  readonly received: Received[] = [];
  private responder: Responder = standardReply;

  private constructor(private readonly server: http.Server | https.Server) {}

  /** with `tls`, an HTTPS server that demands a client certificate issued by `tls.ca` */
  static async start(port = 0, tls?: { cert: string; key: string; ca: string }): Promise<FakePartner> {
    const server = tls ? https.createServer({ ...tls, requestCert: true, rejectUnauthorized: true }) : http.createServer();
    const partner = new FakePartner(server);
    server.on('request', (req, res) => void partner.handle(req, res));
    await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', () => resolve()));
    return partner;
  }

  get url(): string {
    const scheme = this.server instanceof https.Server ? 'https' : 'http';
    return `${scheme}://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  get port(): number {
    return (this.server.address() as AddressInfo).port;
  }

  /** answer with `responder` from now on (falls back to the standard reply where it returns undefined) */
  answer(responder: (req: Received) => Reply | undefined | Promise<Reply | undefined>): void {
    this.responder = async (req) => (await responder(req)) ?? standardReply(req);
  }

  reset(): void {
    this.received.length = 0;
    this.responder = standardReply;
  }

  async close(): Promise<void> {
    await new Promise<void>((resolve) => {
      this.server.close(() => resolve());
      this.server.closeAllConnections();
    });
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const raw = Buffer.concat(chunks).toString('utf8');
    const url = new URL(req.url ?? '/', 'http://partner');
    const received: Received = {
      method: req.method ?? 'GET',
      path: url.pathname,
      query: url.search.slice(1),
      headers: req.headers,
      raw,
      body: raw === '' ? undefined : safeJson(raw),
    };
    this.received.push(received);
    const reply = await this.responder(received);
    // unref: a test that ends before a slow answer is due must not wait for it
    if (reply.delayMs) await new Promise((r) => setTimeout(r, reply.delayMs).unref());
    if (res.destroyed) return;
    const payload = reply.raw ?? (reply.body === undefined ? '' : JSON.stringify(reply.body));
    const headers: http.OutgoingHttpHeaders = { ...(payload ? { 'content-type': reply.contentType ?? 'application/json' } : {}), ...reply.headers };
    res.writeHead(reply.status, headers);
    res.end(payload);
  }
}

function safeJson(raw: string): unknown {
  try {
    return JSON.parse(raw);
  } catch {
    return raw;
  }
}
