/**
 * What a browser gets when the hub refuses a touchpoint redirect: a small page saying what was wrong
 * and the AID.02 code, never a redirect. The page shows only the hub's own fixed sentences (nothing
 * of the request), and forbids scripts, framing and sniffing.
 */
import type { InboundContext } from '../dialects/inbound';

const ESCAPES: Readonly<Record<string, string>> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

function escape(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ESCAPES[c]);
}

/** the hub's own pages (this one, a journey's): no script, no framing, no sniffing, no cache */
export const PAGE_HEADERS: Readonly<Record<string, string>> = {
  'content-type': 'text/html; charset=utf-8',
  'content-security-policy': "default-src 'none'; style-src 'unsafe-inline'",
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'referrer-policy': 'no-referrer',
  'cache-control': 'no-store',
};

export function refusalPage(ctx: InboundContext, status: number, code: string, reason: string, headers: Readonly<Record<string, string>> = {}): void {
  ctx.status = status;
  ctx.set({ ...headers, ...PAGE_HEADERS });
  ctx.body = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>This link cannot be followed</title>
<style>body{font-family:sans-serif;max-width:36em;margin:4em auto;padding:0 1em}</style></head>
<body><h1>This link cannot be followed</h1>
<p id="reason">${escape(reason)}</p>
<p>AID.02 code <span id="code">${escape(code)}</span> (HTTP ${status}). Go back to the app or portal you came from and try again; if it happens again, tell its support.</p>
</body></html>
`;
}
