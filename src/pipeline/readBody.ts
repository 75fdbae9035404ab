/**
 * Reads the request body of operations that have one: `application/json` in UTF-8 only, bounded in
 * size, parsed once by the strict reader (json/strictJson.ts), so the bytes forwarded can be read
 * only one way. An empty body or a body that is JSON `null` is AID.02 code 60; anything that is
 * not JSON, or JSON a partner could read differently, is code 91. A client that goes away while
 * sending is a client abort, not the hub's error.
 */
import type { IncomingMessage } from 'node:http';
import { parse as parseContentType } from 'content-type';
import { is as isMediaType } from 'type-is';
import { HubError } from '../errors/catalogue';
import { parseStrictJson, StrictJsonError } from '../json/strictJson';
import type { HubContext } from './types';

/** the request's JSON body (undefined when an optional body is left out), or the AID.02 error
 * that refuses it: an operation's (`operation.hasBody`), or a dialect's inbound route's */
export async function readJsonBody(ctx: HubContext, clientErrorStatus: number, required = true): Promise<{ raw: Buffer; body: unknown }> {
  const status = clientErrorStatus;
  const raw = await readRawBody(ctx);
  const text = raw.toString('utf8');
  if (text.trim() === '' && !required) return { raw: Buffer.alloc(0), body: undefined };
  if (text.trim() === '') {
    throw new HubError('emptyBody', { detail: 'the request body is empty', clientErrorStatus: status });
  }
  const media = mediaOf(ctx.get('content-type'));
  if (media === 'other') {
    throw new HubError('unsupportedMediaType', { detail: `got ${ctx.get('content-type') || 'no content type'}` });
  }
  if (media === 'otherCharset') {
    throw new HubError('unsupportedMediaType', { detail: 'the charset must be utf-8 (RFC 8259 8.1)' });
  }
  let body: unknown;
  try {
    body = parseStrictJson(raw);
  } catch (err) {
    // JSON.parse quotes the input in its message; the body must not reach the log
    const detail = err instanceof StrictJsonError ? err.message : 'the body is not valid JSON';
    throw new HubError('invalidSyntax', { detail, clientErrorStatus: status });
  }
  if (body === null) throw new HubError('emptyBody', { detail: 'the request body is null', clientErrorStatus: status });
  return { raw, body };
}

const UTF8 = /^utf-?8$/i;

type Media = 'json' | 'other' | 'otherCharset';

/** what the content type says, decided once per spelling: partners send the same one or two on
 * every request, and reading one costs a full parse of the header */
const mediaSeen = new Map<string, Media>();
const MEDIA_REMEMBERED = 64;

function mediaOf(header: string): Media {
  const known = mediaSeen.get(header);
  if (known !== undefined) return known;
  const charset = charsetOf(header);
  const media: Media = !isMediaType(header, ['application/json']) ? 'other' : charset !== '' && !UTF8.test(charset) ? 'otherCharset' : 'json';
  if (mediaSeen.size < MEDIA_REMEMBERED) mediaSeen.set(header, media);
  return media;
}

/** the charset parameter, '' when there is none or the header does not parse */
function charsetOf(header: string): string {
  try {
    return parseContentType(header).parameters.charset ?? '';
  } catch {
    return '';
  }
}

/** the request's bytes as they came, bounded by the hub's body limit (a webhook's signature is
 * checked over them before anything reads them) */
export function readRawBody(ctx: HubContext): Promise<Buffer> {
  return readLimited(ctx.req, ctx.state.runtime.config.settings.bodyLimitBytes);
}

/** the rest of an over-long body is not read: the connection closes after the answer (kept
 * open, it would either wait forever for the unread body to drain or read it all to discard it) */
function tooLarge(limit: number): HubError {
  return new HubError('payloadTooLarge', { detail: `at most ${limit} bytes`, headers: { connection: 'close' } });
}

/** the body by its events: an async iterator over the request costs a stream wrapper and a
 * promise per chunk, and a body here is one or two chunks */
function readLimited(req: IncomingMessage, limit: number): Promise<Buffer> {
  const declared = Number(req.headers['content-length']);
  if (declared > limit) return Promise.reject(tooLarge(limit));
  // closed before the hub came to read it (the listener answered a body it could not frame): no
  // event of it will come
  if (req.destroyed) return Promise.reject(new HubError('clientAborted', { cause: new Error('the request was closed before its body was read') }));
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const stop = (err: HubError) => {
      req.off('data', onData).off('end', onEnd).off('error', onError).off('close', onClose);
      req.pause();
      reject(err);
    };
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) stop(tooLarge(limit));
      else chunks.push(chunk);
    };
    const onEnd = () => {
      req.off('data', onData).off('error', onError).off('close', onClose);
      resolve(chunks.length === 1 ? chunks[0] : Buffer.concat(chunks));
    };
    const onError = (err: Error) => stop(new HubError('clientAborted', { cause: err }));
    // closed before its end: the client went away while sending
    const onClose = () => stop(new HubError('clientAborted', { cause: new Error('the request was closed before its body ended') }));
    req.on('data', onData).once('end', onEnd).once('error', onError).once('close', onClose);
  });
}
