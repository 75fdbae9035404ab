/**
 * Where a partner's touchpoint may send the user's browser (AID.02 7.1: "the MSP is only allowed to
 * redirect to one of the agreed domains"; the same for the CMP, "the domain or custom url scheme").
 * An agreed redirect is written as
 *   `*.cmp.de`                    any subdomain of cmp.de over https (7.1's example; not cmp.de itself)
 *   `www.cmp.de`                  that host over https
 *   `https://app.cmp.de:8443`     that origin (scheme, host, port)
 *   `cmpapp:`                     a custom URL scheme of the partner's app
 * A `redirect_uri` is taken only as an absolute URL whose text is plain ASCII without whitespace,
 * backslashes, control characters or a fragment, with no user info, a host of letters, digits,
 * hyphens and dots (no percent-escapes, no IDN: a look-alike is never the agreed name), and no
 * `javascript:`, `data:`, `file:` or plain `http:` unless that exact origin was agreed.
 */

export type AgreedRedirect =
  | { readonly kind: 'wildcard'; readonly suffix: string }
  | { readonly kind: 'host'; readonly host: string }
  | { readonly kind: 'origin'; readonly origin: string }
  | { readonly kind: 'scheme'; readonly scheme: string };

const LABEL = '[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?';
const HOSTNAME = new RegExp(`^${LABEL}(?:\\.${LABEL})+$`);
const SCHEME_ONLY = /^([a-z][a-z0-9+.-]*):(?:\/\/)?$/;
/** schemes no agreement can make a redirect target: they run or read in the browser */
const NEVER = new Set(['javascript:', 'data:', 'file:', 'blob:', 'vbscript:', 'about:']);
const MAX_URI_LENGTH = 2048;

/** the agreed redirect an entry of the partner file stands for; undefined when it is none */
export function agreedRedirect(entry: string): AgreedRedirect | undefined {
  const text = entry.trim().toLowerCase();
  if (text.startsWith('*.')) return HOSTNAME.test(text.slice(2)) ? { kind: 'wildcard', suffix: text.slice(1) } : undefined;
  if (HOSTNAME.test(text)) return { kind: 'host', host: text };
  const scheme = SCHEME_ONLY.exec(text);
  if (scheme && !['http', 'https'].includes(scheme[1])) return NEVER.has(`${scheme[1]}:`) ? undefined : { kind: 'scheme', scheme: `${scheme[1]}:` };
  try {
    const url = new URL(text);
    if (
      (url.protocol === 'https:' || url.protocol === 'http:') &&
      url.pathname === '/' &&
      !url.search &&
      !url.hash &&
      !url.username &&
      HOSTNAME.test(url.hostname)
    )
      return { kind: 'origin', origin: url.origin };
  } catch {
    // not a URL: below
  }
  return undefined;
}

/** the URL when `redirectUri` may be redirected to under `agreed`, else why not */
export function checkRedirect(redirectUri: string, agreed: readonly AgreedRedirect[]): { readonly url: URL } | { readonly refused: string } {
  if (redirectUri.length === 0 || redirectUri.length > MAX_URI_LENGTH) return { refused: `the redirect_uri must be 1 to ${MAX_URI_LENGTH} characters` };
  // plain ASCII, no whitespace or controls, no backslash (browsers read it as a slash)
  if (!/^[\x21-\x7e]+$/.test(redirectUri) || redirectUri.includes('\\'))
    return { refused: 'the redirect_uri holds characters a URL may not (spaces, backslashes, non-ASCII)' };
  if (redirectUri.startsWith('//') || !/^[a-z][a-z0-9+.-]*:/i.test(redirectUri)) return { refused: 'the redirect_uri must be an absolute URL with its scheme' };
  let url: URL;
  try {
    url = new URL(redirectUri);
  } catch {
    return { refused: 'the redirect_uri is not a URL' };
  }
  if (NEVER.has(url.protocol)) return { refused: `the redirect_uri's scheme ${url.protocol} is never allowed` };
  if (url.hash || redirectUri.includes('#')) return { refused: 'the redirect_uri may not carry a fragment' };
  if (url.username || url.password || /^[a-z][a-z0-9+.-]*:\/\/[^/?#]*@/i.test(redirectUri)) return { refused: 'the redirect_uri may not carry user info' };
  if (url.protocol === 'http:' || url.protocol === 'https:') {
    const authority = /^[a-z]+:\/\/([^/?#]*)/i.exec(redirectUri)?.[1] ?? '';
    if (authority.includes('%') || !HOSTNAME.test(url.hostname) || url.hostname.split('.').some((label) => label.startsWith('xn--'))) {
      return { refused: "the redirect_uri's host must be a plain host name (no escapes, no international look-alikes)" };
    }
  }
  return agreed.some((a) => allows(a, url)) ? { url } : { refused: 'the redirect_uri is not on a domain agreed with the partner' };
}

function allows(agreed: AgreedRedirect, url: URL): boolean {
  switch (agreed.kind) {
    case 'wildcard':
      return url.protocol === 'https:' && url.port === '' && url.hostname.endsWith(agreed.suffix) && url.hostname.length > agreed.suffix.length;
    case 'host':
      return url.protocol === 'https:' && url.port === '' && url.hostname === agreed.host;
    case 'origin':
      return url.origin === agreed.origin;
    case 'scheme':
      return url.protocol === agreed.scheme;
  }
}
