/**
 * The partner listeners (plain HTTP, and TLS with client certificates) and what bounds them: a cap
 * on connections in all and per source address, timeouts that Node enforces (its check runs every
 * second here, not every 30 s), and an AID.02 error body for requests Node's HTTP parser refuses
 * before the app sees them (400 malformed, 431 headers too large, 408 not complete in time). The
 * error is written after the answers to requests that came before it on the same connection, then
 * the connection is closed: one bad request pipelined after good ones loses none of their answers.
 * A request whose body cannot be framed one way only (framing.ts) is answered 400 as soon as its head
 * is read, never dispatched, and nothing after it on the connection is; so is one whose body the
 * parser fails on while the hub reads it (a chunk size past any number, a chunk line ended by a bare
 * LF). CONNECT, which Node hands over as a tunnel, is 405 code 205.
 */
import http from 'node:http';
import https from 'node:https';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { HubError, type ErrorKind } from '../errors/catalogue';
import { framingProblem } from './framing';

export interface ConnectionLimits {
  /** connections open at once on one listener; Node closes the ones past it */
  readonly maxConnections: number;
  /** connections open at once from one address on one listener */
  readonly maxConnectionsPerAddress: number;
}

export const DEFAULT_CONNECTION_LIMITS: ConnectionLimits = { maxConnections: 8192, maxConnectionsPerAddress: 256 };

/** a client that trickles its headers or body, or idles, cannot hold a connection for long */
const TIMEOUTS = {
  headersTimeout: 5000,
  requestTimeout: 15000,
  keepAliveTimeout: 5000,
  connectionsCheckingInterval: 1000,
  // Host is checked with the other framing rules (framing.ts), to answer in the AID.02 body
  requireHostHeader: false,
} as const;

/** how long an error waits for the answers ahead of it before the connection is cut */
const PENDING_ANSWERS_GRACE_MS = 5000;

export interface TlsMaterial {
  readonly cert: Buffer;
  readonly key: Buffer;
  readonly ca: Buffer;
}

type Handler = (req: http.IncomingMessage, res: http.ServerResponse) => void;

interface SocketState {
  inFlight: number;
  /** the request dispatched last: the only one whose body the parser may still be reading */
  last?: { readonly req: http.IncomingMessage; readonly res: http.ServerResponse };
  /** the error answer to write once the answers ahead of it are out */
  error?: string;
  /** an error is answered: nothing more on this connection is dispatched */
  closing?: boolean;
}

export function createListener(
  handler: Handler,
  limits: ConnectionLimits,
  onRefused: (kind: ErrorKind) => void,
  tls?: TlsMaterial,
): http.Server | https.Server {
  const sockets = new WeakMap<Duplex, SocketState>();
  const stateOf = (socket: Duplex): SocketState => {
    let state = sockets.get(socket);
    if (!state) sockets.set(socket, (state = { inFlight: 0 }));
    return state;
  };
  const dispatch = (req: http.IncomingMessage, res: http.ServerResponse) => {
    const state = stateOf(req.socket);
    // pipelined after a refused request: the connection closes once that answer is out
    if (state.closing) return;
    const problem = framingProblem(req);
    if (problem !== undefined) {
      state.closing = true;
      onRefused('malformedRequest');
      answerWith(req, res, new HubError('malformedRequest', { detail: problem }));
      return;
    }
    state.inFlight += 1;
    state.last = { req, res };
    res.once('close', () => {
      state.inFlight -= 1;
      if (state.inFlight === 0 && state.error !== undefined) req.socket.end(state.error);
    });
    handler(req, res);
  };
  const server = tls
    ? https.createServer(
        {
          ...TIMEOUTS,
          cert: tls.cert,
          key: tls.key,
          ca: tls.ca,
          requestCert: true,
          // the handshake completes even for a bad certificate, so the partner gets an AID.02
          // error body saying why, from the authenticate stage
          rejectUnauthorized: false,
        },
        dispatch,
      )
    : http.createServer(TIMEOUTS, dispatch);
  server.maxConnections = limits.maxConnections;
  capPerAddress(server, limits.maxConnectionsPerAddress);
  server.on('clientError', (err: NodeJS.ErrnoException, socket: Duplex) => {
    const state = stateOf(socket);
    if (state.error !== undefined || state.closing) return;
    // the client left (reset, or closed its side in the middle of a request): nobody to answer
    if (err.code === 'ECONNRESET' || err.code === 'HPE_INVALID_EOF_STATE' || !socket.writable) {
      socket.destroy();
      return;
    }
    const kind = errorKindOf(err.code);
    onRefused(kind);
    const error = new HubError(kind);
    // the body being read cannot be framed: that request's answer is this error, at once
    const { last } = state;
    if (last !== undefined && !last.req.complete && !last.res.headersSent) {
      state.closing = true;
      answerWith(last.req, last.res, error);
      return;
    }
    state.error = rawAnswer(error);
    if (state.inFlight === 0) {
      socket.end(state.error);
      return;
    }
    setTimeout(() => socket.destroy(), PENDING_ANSWERS_GRACE_MS).unref();
  });
  // a tunnel is no AID.02 operation; without an answer here Node would only close the connection
  server.on('connect', (_req: http.IncomingMessage, socket: Duplex) => {
    onRefused('methodNotAllowed');
    socket.end(rawAnswer(new HubError('methodNotAllowed')));
  });
  return server;
}

export function listenOn<S extends http.Server | https.Server>(server: S, at: { readonly host: string; readonly port: number }): Promise<S> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(at.port, at.host, () => {
      server.off('error', reject);
      resolve(server);
    });
  });
}

function capPerAddress(server: http.Server | https.Server, max: number): void {
  const open = new Map<string, number>();
  server.on('connection', (socket: Socket) => {
    const address = socket.remoteAddress ?? 'unknown';
    const count = open.get(address) ?? 0;
    if (count >= max) {
      socket.destroy();
      return;
    }
    open.set(address, count + 1);
    socket.once('close', () => {
      const left = (open.get(address) ?? 1) - 1;
      if (left === 0) open.delete(address);
      else open.set(address, left);
    });
  });
}

function errorKindOf(code: string | undefined): ErrorKind {
  if (code === 'HPE_HEADER_OVERFLOW') return 'headersTooLarge';
  if (code === 'ERR_HTTP_REQUEST_TIMEOUT') return 'requestTimeout';
  return 'malformedRequest';
}

/** the error as the request's answer, and the connection closed after it; whatever still waits
 * for the request's body then sees it closed (a client abort) */
function answerWith(req: http.IncomingMessage, res: http.ServerResponse, error: HubError): void {
  const body = JSON.stringify(error.toBody());
  res.once('close', () => req.destroy());
  res.shouldKeepAlive = false;
  res.writeHead(error.status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), connection: 'close' });
  res.end(body);
}

function rawAnswer(error: HubError): string {
  const body = JSON.stringify(error.toBody());
  return [
    `HTTP/1.1 ${error.status} ${http.STATUS_CODES[error.status] ?? ''}`,
    'Content-Type: application/json',
    `Content-Length: ${Buffer.byteLength(body)}`,
    'Connection: close',
    '',
    body,
  ].join('\r\n');
}
