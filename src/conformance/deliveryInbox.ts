/**
 * Where a partner MSP delivers activation codes while the kit plays its CMP (AID.02 7.7.2: Send
 * Activation Code, `POST .../cesim/msp/v1/activation-codes/{msp_token}`). Every delivery is kept
 * as it came and answered 200, as a CMP that matched it would.
 */
import http from 'node:http';
import { EventEmitter, once } from 'node:events';
import type { AddressInfo } from 'node:net';

export interface Delivery {
  readonly path: string;
  readonly token: string;
  readonly headers: http.IncomingHttpHeaders;
  readonly text: string;
  readonly json: unknown;
  readonly at: number;
}

const PATH = /\/cesim\/msp\/v1\/activation-codes\/([^/?]+)$/;
const MAX_BODY = 1024 * 1024;

export class DeliveryInbox {
  private readonly deliveries: Delivery[] = [];
  private readonly arrived = new EventEmitter();

  private constructor(private readonly server: http.Server) {}

  static async start(host: string, port: number): Promise<DeliveryInbox> {
    const server = http.createServer();
    const inbox = new DeliveryInbox(server);
    server.on('request', (req, res) => void inbox.receive(req, res));
    server.listen(port, host);
    await once(server, 'listening');
    return inbox;
  }

  get url(): string {
    const { address, port } = this.server.address() as AddressInfo;
    return `http://${address.includes(':') ? `[${address}]` : address}:${port}`;
  }

  /** the deliveries whose body names this activationCodeRequestID, once one has come or `ms` passed */
  async waitFor(requestId: string, ms: number): Promise<Delivery[]> {
    const matching = () => this.deliveries.filter((d) => (d.json as { activationCodeRequestID?: unknown } | undefined)?.activationCodeRequestID === requestId);
    const until = Date.now() + ms;
    while (matching().length === 0 && Date.now() < until) {
      await Promise.race([once(this.arrived, 'delivery'), new Promise((r) => setTimeout(r, Math.max(0, until - Date.now())))]);
    }
    return matching();
  }

  close(): Promise<void> {
    return new Promise((resolve) => {
      this.server.close(() => resolve());
      this.server.closeAllConnections();
    });
  }

  private async receive(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const match = PATH.exec(req.url?.split('?')[0] ?? '');
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of req) {
      size += (chunk as Buffer).length;
      if (size > MAX_BODY) break;
      chunks.push(chunk as Buffer);
    }
    if (req.method !== 'POST' || !match || size > MAX_BODY) {
      res.writeHead(404, { 'content-type': 'application/json' }).end(JSON.stringify({ code: '91', error: 'Invalid request syntax' }));
      return;
    }
    const text = Buffer.concat(chunks).toString('utf8');
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      json = undefined;
    }
    this.deliveries.push({ path: req.url ?? '', token: decodeURIComponent(match[1]), headers: req.headers, text, json, at: Date.now() });
    this.arrived.emit('delivery');
    res.writeHead(200).end();
  }
}
