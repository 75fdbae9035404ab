/**
 * The context of a request for an AID.02 operation (edge.ts): what the hub's steps use of Koa's
 * context (pipeline/types.ts HubContext) and nothing more. Koa makes a context, a request and a
 * response object per request, reads them through delegating getters, and watches every answer
 * with on-finished; this one is a plain object over Node's request and response.
 *
 * It answers by Koa's rules, so an operation's answer is the same byte for byte whichever edge
 * served it: a body sets the status to 200 unless a status was set; a Buffer is typed
 * application/octet-stream and an object application/json unless a type is set, and their
 * Content-Length is set; a body set to nothing makes the answer 204; 204, 205 and 304 go without a
 * body or its headers; no body set at all is the status text. A response that can no longer be
 * written (the client has gone) is only ended.
 */
import { STATUS_CODES, type IncomingMessage, type ServerResponse } from 'node:http';
import type { HubContext, HubState } from '../pipeline/types';

/** statuses whose answers have no body (RFC 9110 15.3.5, 15.3.6, 15.4.5) */
const EMPTY = new Set([204, 205, 304]);
const JSON_TYPE = /\bjson\b/i;

export class EdgeContext implements HubContext {
  // set first thing by the outermost stage (pipeline/context.ts), before any step reads it
  state = undefined as unknown as HubState;
  private code = 404;
  private explicitStatus = false;
  private content: unknown = undefined;

  constructor(
    readonly req: IncomingMessage,
    readonly res: ServerResponse,
    readonly path: string,
    readonly querystring: string,
  ) {}

  get method(): string {
    return this.req.method as string;
  }

  get status(): number {
    return this.code;
  }

  set status(code: number) {
    if (this.res.headersSent) return;
    this.code = code;
    this.explicitStatus = true;
  }

  get body(): unknown {
    return this.content;
  }

  set body(value: unknown) {
    this.content = value;
    if (value === null || value === undefined) {
      if (!EMPTY.has(this.code)) this.status = 204;
      this.dropBodyHeaders();
      return;
    }
    if (!this.explicitStatus) this.status = 200;
    const typed = this.res.hasHeader('content-type');
    if (Buffer.isBuffer(value)) {
      if (!typed) this.set('content-type', 'application/octet-stream');
      this.set('content-length', String(value.length));
    } else if (typeof value === 'string') {
      if (!typed) this.set('content-type', /^\s*</.test(value) ? 'text/html; charset=utf-8' : 'text/plain; charset=utf-8');
      this.set('content-length', String(Buffer.byteLength(value)));
    } else {
      this.remove('content-length');
      if (!JSON_TYPE.test(String(this.res.getHeader('content-type') ?? ''))) this.set('content-type', 'application/json; charset=utf-8');
    }
  }

  get(field: string): string {
    const name = field.toLowerCase();
    const value = name === 'referer' || name === 'referrer' ? (this.req.headers.referrer ?? this.req.headers.referer) : this.req.headers[name];
    return value === undefined ? '' : String(value);
  }

  set(field: string | Readonly<Record<string, string>>, value?: string): void {
    if (this.res.headersSent) return;
    if (typeof field === 'string') this.res.setHeader(field, String(value));
    else for (const name of Object.keys(field)) this.res.setHeader(name, field[name]);
  }

  remove(field: string): void {
    if (!this.res.headersSent) this.res.removeHeader(field);
  }

  /** the answer, once the steps are done */
  send(): void {
    const { res } = this;
    if (res.writableEnded || (res.socket !== null && !res.socket.writable)) {
      res.end();
      return;
    }
    res.statusCode = this.code;
    if (EMPTY.has(this.code)) {
      this.dropBodyHeaders();
      res.end();
      return;
    }
    const body = this.content;
    if (Buffer.isBuffer(body) || typeof body === 'string') {
      res.end(body);
      return;
    }
    let text: string;
    if (body === null || body === undefined) {
      text = STATUS_CODES[this.code] ?? String(this.code);
      this.set('content-type', 'text/plain; charset=utf-8');
    } else {
      text = JSON.stringify(body);
    }
    this.set('content-length', String(Buffer.byteLength(text)));
    res.end(text);
  }

  private dropBodyHeaders(): void {
    this.remove('content-type');
    this.remove('content-length');
    this.remove('transfer-encoding');
  }
}
