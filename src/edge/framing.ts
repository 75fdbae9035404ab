/**
 * What a request's head must say for its message to be framed one way only, checked before the
 * request is dispatched (listener.ts). Node's parser (llhttp) hands a request to the hub as soon as
 * its head is read, and by then has framed some it should not have:
 *   - RFC 9112 6.3: a request whose Transfer-Encoding does not end in `chunked` cannot be framed
 *     (400); llhttp dispatches it and only then fails. A coding before `chunked` (`identity,
 *     chunked`) is framed as chunked here, but a front proxy may frame it otherwise and see the
 *     bytes after the body as a request of its own: only a single `chunked` is accepted (the hub
 *     decodes no other transfer coding, RFC 9112 6.1 lets it answer 501, 400 says the same here).
 *   - RFC 9112 3.2: an HTTP/1.1 request without Host, or with more than one Host line, is 400;
 *     Node's own check answers a bare 400 without the AID.02 body, so the hub checks itself.
 */
import type { IncomingMessage } from 'node:http';

/** why the request cannot be served as framed, or undefined */
export function framingProblem(req: IncomingMessage): string | undefined {
  const codings = req.headers['transfer-encoding'];
  if (codings !== undefined && !/^[ \t]*chunked[ \t]*$/i.test(codings)) return 'a Transfer-Encoding other than a single chunked';
  let hosts = 0;
  for (let i = 0; i < req.rawHeaders.length; i += 2) if (req.rawHeaders[i].length === 4 && req.rawHeaders[i].toLowerCase() === 'host') hosts += 1;
  if (hosts > 1 || (hosts === 0 && req.httpVersion !== '1.0')) return 'Host is required once';
  return undefined;
}
