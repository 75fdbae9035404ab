/**
 * The peers the hub is measured against in `npm run bench`, each a plain proxy to the same
 * upstream, with `workers` processes (node:cluster) as the hub has:
 *   node          node:http and an undici pool, the body buffered, the answer passed on
 *   koa           the same forwarding as Koa middleware
 *   node-redis    the node proxy with the two Redis round trips the hub makes per request at least:
 *                 a script before the call (the request id claimed) and one after (the outcome
 *                 kept), each by EVALSHA, with the same client (node-redis); what the round trips
 *                 alone cost on this machine, without any of the hub's other work
 *   fast-gateway  the Node gateway (restana + fast-proxy-lite), when it is installed
 * Usage: node dist/bench/peers.js <kind> <port> <upstream URL> <workers> [Redis URL] [key prefix]
 */
import cluster from 'node:cluster';
import http from 'node:http';
import Koa from 'koa';
import { createClient } from 'redis';
import { Pool } from 'undici';

const [kind, port, upstream, workers, redisUrl, keyPrefix = 'aidgw-bench-peer:'] = process.argv.slice(2);

/** what a proxy passes on of a request's headers: all but those of the hop */
const HOP = new Set(['connection', 'keep-alive', 'host', 'transfer-encoding', 'content-length']);

function forwardable(headers: http.IncomingHttpHeaders): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) if (!HOP.has(name) && typeof value === 'string') out[name] = value;
  return out;
}

async function readBody(req: http.IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

async function forward(
  pool: Pool,
  method: string,
  path: string,
  headers: http.IncomingHttpHeaders,
  body: Buffer,
): Promise<{ status: number; type?: string; body: Buffer }> {
  const answer = await pool.request({ method, path, headers: forwardable(headers), body: body.length > 0 ? body : undefined });
  const type = answer.headers['content-type'];
  return { status: answer.statusCode, type: typeof type === 'string' ? type : undefined, body: Buffer.from(await answer.body.arrayBuffer()) };
}

type Forward = (req: http.IncomingMessage, body: Buffer) => Promise<{ status: number; type?: string; body: Buffer }>;

function nodeProxy(forwardOne: Forward): void {
  http
    .createServer((req, res) => {
      readBody(req)
        .then((body) => forwardOne(req, body))
        .then((answer) => {
          res.writeHead(answer.status, answer.type ? { 'content-type': answer.type } : {});
          res.end(answer.body);
        })
        .catch(() => {
          res.writeHead(502);
          res.end();
        });
    })
    .listen(Number(port), '127.0.0.1');
}

// the request id claimed for a day unless already there; the outcome kept for a week
const CLAIM = "if redis.call('SET', KEYS[1], ARGV[1], 'NX', 'EX', 86400) then return 1 end return 0";
const OUTCOME = "redis.call('SET', KEYS[1], ARGV[1], 'EX', 604800) return 1";

/** the node proxy with a Redis round trip before the call and one after */
async function withRoundTrips(pool: Pool): Promise<Forward> {
  const redis = createClient({ url: redisUrl });
  await redis.connect();
  const [claim, outcome] = await Promise.all([redis.scriptLoad(CLAIM), redis.scriptLoad(OUTCOME)]);
  return async (req, body) => {
    const id = `${keyPrefix}${String(req.headers['cmp-request-id'])}`;
    await redis.evalSha(claim, { keys: [id], arguments: ['claimed'] });
    const answer = await forward(pool, req.method ?? 'GET', req.url ?? '/', req.headers, body);
    await redis.evalSha(outcome, { keys: [`${id}:outcome`], arguments: [String(answer.status)] });
    return answer;
  };
}

async function serve(): Promise<void> {
  const pool = new Pool(upstream, { connections: 64 });
  if (kind === 'node') {
    nodeProxy((req, body) => forward(pool, req.method ?? 'GET', req.url ?? '/', req.headers, body));
  } else if (kind === 'node-redis') {
    nodeProxy(await withRoundTrips(pool));
  } else if (kind === 'koa') {
    const app = new Koa();
    app.use(async (ctx) => {
      const answer = await forward(pool, ctx.method, ctx.url, ctx.headers, await readBody(ctx.req));
      ctx.status = answer.status;
      if (answer.type) ctx.type = answer.type;
      ctx.body = answer.body;
    });
    app.listen(Number(port), '127.0.0.1');
  } else if (kind === 'fast-gateway') {
    // an optional peer: the bench skips it where the package is not installed
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const gateway = require('fast-gateway') as (options: unknown) => { start(port: number, host: string): Promise<unknown> };
    // a route is its prefix plus `/*`: the CMP API's `/v1`, passed on as it came
    await gateway({ routes: [{ prefix: '/v1', prefixRewrite: '/v1', target: upstream }] }).start(Number(port), '127.0.0.1');
  } else {
    throw new Error(`no peer ${kind}`);
  }
}

if (cluster.isPrimary && Number(workers) > 1) {
  for (let i = 0; i < Number(workers); i++) cluster.fork();
} else {
  serve().catch((err: unknown) => {
    console.error(err);
    process.exit(1);
  });
}
