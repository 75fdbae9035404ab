/**
 * The HTTP edge. A request for an AID.02 operation (its path one of Annex B's, its method the one
 * documented for it) is served here, through the same outer stages (pipeline/context.ts,
 * pipeline/respond.ts) and operation handler (pipeline/operations.ts) as ever, with a context of its own (edgeContext.ts)
 * instead of Koa's. Everything else goes to the Koa app (app.ts), which answers it as before: a
 * dialect's inbound route, an unknown path (404), another method (405), and a URL that is not a
 * plain path, which Koa reads with Node's URL parser.
 *
 * Koa's per-request objects, delegating getters and response watcher cost about as much as all of
 * the hub's own steps of an operation; the hub's steps need only a few fields of them.
 */
import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';
import compose from 'koa-compose';
import { toHubError } from '../errors/catalogue';
import { EdgeContext } from './edgeContext';
import { context } from '../pipeline/context';
import { respond } from '../pipeline/respond';
import type { HubContext, PipelineDeps } from '../pipeline/types';
import type { OperationPaths } from './router';

export function edgeHandler(deps: PipelineDeps, paths: OperationPaths, koa: RequestListener): RequestListener {
  const outer = compose<HubContext>([context(deps), respond(deps)]);
  return (req, res) => {
    const url = plainUrl(req.url ?? '');
    const operation = url === undefined ? undefined : paths.served(url.path, req.method ?? '');
    if (url === undefined || operation === undefined) {
      koa(req, res);
      return;
    }
    const ctx = new EdgeContext(req, res, url.path, url.query);
    outer(ctx, () => operation(ctx)).then(
      () => ctx.send(),
      (err: unknown) => unanswered(deps, req, res, err),
    );
  };
}

/**
 * The path and query of a URL that is a plain path, as Koa reads them (its parser's fast path); a
 * URL in absolute form, or with a fragment, a space or a control character, is left to Koa.
 */
function plainUrl(url: string): { path: string; query: string } | undefined {
  if (url.charCodeAt(0) !== 0x2f) return undefined;
  let question = -1;
  for (let i = 1; i < url.length; i++) {
    const c = url.charCodeAt(i);
    if (c === 0x3f) {
      if (question === -1) question = i;
    } else if (c === 0x09 || c === 0x0a || c === 0x0c || c === 0x0d || c === 0x20 || c === 0x23 || c === 0xa0 || c === 0xfeff) {
      return undefined;
    }
  }
  return question === -1 ? { path: url, query: '' } : { path: url.slice(0, question), query: url.slice(question + 1) };
}

/** an error `respond` itself did not turn into an answer (a defect): logged, and 500 where the
 * answer has not begun */
function unanswered(deps: PipelineDeps, req: IncomingMessage, res: ServerResponse, err: unknown): void {
  deps.log.error({ err, method: req.method }, 'internal error outside the pipeline');
  if (res.headersSent || !res.writable) {
    res.end();
    return;
  }
  for (const name of res.getHeaderNames()) res.removeHeader(name);
  const body = JSON.stringify(toHubError(err).toBody());
  res.writeHead(500, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(body) });
  res.end(body);
}
