/**
 * Who is calling when a load balancer stands in front of the hub: the client certificate a partner
 * presented (AID.02 6: two-way TLS), whether the hub terminated the TLS itself or the load balancer
 * did and forwarded it, and the partner's address (for the login throttle). Forwarded values are
 * believed only from a configured proxy address (`--trusted-proxies`): the partner's address is the
 * last one of `x-forwarded-for` that is no trusted proxy; the certificate comes from Envoy's
 * `x-forwarded-client-cert` (its first element: the partner's, with `Cert="<URL-encoded PEM>"`, or
 * only `Hash=<SHA-256 hex>`) or nginx's `ssl-client-cert` (`$ssl_client_escaped_cert`, URL-encoded
 * PEM). From any other address both headers are removed before anything reads the request. When the
 * hub knows the partners' CA (`--tls-client-ca`), a forwarded certificate must be issued by it and
 * be within its validity, as one presented to the hub's own TLS listener must.
 */
import { BlockList, isIP, isIPv4 } from 'node:net';
import { TLSSocket } from 'node:tls';
import { X509Certificate } from 'node:crypto';
import type { IncomingMessage } from 'node:http';

export const FORWARDED_CERT_HEADERS = ['x-forwarded-client-cert', 'ssl-client-cert'] as const;

export interface PresentedCertificate {
  /** SHA-256 fingerprint, upper-case hex with colons (as Node reports a peer certificate's) */
  readonly fingerprint256: string;
  /** the subject's attributes; an attribute given twice has every value */
  readonly subject: Readonly<Record<string, string | readonly string[]>>;
  readonly authorized: boolean;
  /** why not authorized, for the log */
  readonly authorizationError?: string;
}

const forwarded = new WeakMap<IncomingMessage, PresentedCertificate>();
const forwardedFor = new WeakMap<IncomingMessage, string>();

/** the partner's address: the connection's, or the one a trusted proxy forwarded */
export function clientAddress(req: IncomingMessage): string {
  return forwardedFor.get(req) ?? req.socket.remoteAddress ?? 'unknown';
}

/** the certificate of this request: its TLS connection's, or the one a trusted proxy forwarded */
export function presentedCertificate(req: IncomingMessage): PresentedCertificate | 'no_tls' | undefined {
  const socket = req.socket;
  if (socket instanceof TLSSocket) {
    const cert = socket.getPeerCertificate();
    if (!cert || Object.keys(cert).length === 0) return undefined;
    return {
      fingerprint256: cert.fingerprint256,
      subject: cert.subject as unknown as Record<string, string>,
      authorized: socket.authorized,
      authorizationError: socket.authorized ? undefined : String(socket.authorizationError),
    };
  }
  return forwarded.get(req) ?? 'no_tls';
}

export class TrustedProxies {
  private readonly trusted = new BlockList();

  /** `proxies`: addresses and CIDR ranges; `cas`: the partners' CA bundle, when the hub has it */
  constructor(
    proxies: readonly string[],
    private readonly cas: readonly X509Certificate[],
  ) {
    for (const proxy of proxies) {
      const [address, bits] = proxy.split('/');
      const type = isIPv4(address) ? 'ipv4' : 'ipv6';
      if (bits === undefined) this.trusted.addAddress(address, type);
      else this.trusted.addSubnet(address, Number(bits), type);
    }
  }

  /** every request on a plain listener passes here first */
  accept(req: IncomingMessage): void {
    const given = FORWARDED_CERT_HEADERS.some((name) => req.headers[name] !== undefined);
    if (!this.isTrusted(req.socket.remoteAddress)) {
      if (given) for (const name of FORWARDED_CERT_HEADERS) delete req.headers[name];
      return;
    }
    const address = this.partnerAddress(single(req.headers['x-forwarded-for']));
    if (address) forwardedFor.set(req, address);
    if (!given) return;
    const certificate = this.read(req);
    if (certificate) forwarded.set(req, certificate);
  }

  /** the last address of the chain that is no proxy of ours: anything before it the partner wrote */
  private partnerAddress(chain: string | undefined): string | undefined {
    const hops = (chain ?? '')
      .split(',')
      .map((h) => h.trim())
      .filter((h) => h !== '');
    for (let i = hops.length - 1; i >= 0; i--) if (!this.isTrusted(hops[i])) return hops[i];
    return undefined;
  }

  private isTrusted(address: string | undefined): boolean {
    if (address === undefined || isIP(address) === 0) return false;
    const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address)?.[1];
    if (mapped) return this.trusted.check(mapped, 'ipv4');
    return this.trusted.check(address, isIPv4(address) ? 'ipv4' : 'ipv6');
  }

  private read(req: IncomingMessage): PresentedCertificate | undefined {
    const xfcc = single(req.headers['x-forwarded-client-cert']);
    if (xfcc !== undefined) {
      const element = fieldsOf(splitOutsideQuotes(xfcc, ',')[0] ?? '');
      if (element.cert) return this.checked(element.cert);
      if (element.hash && /^[0-9a-f]{64}$/i.test(element.hash)) {
        // only the digest: a partner bound by fingerprint can be matched, one bound by subject cannot
        return { fingerprint256: colonHex(element.hash), subject: {}, authorized: true };
      }
      return undefined;
    }
    const nginx = single(req.headers['ssl-client-cert']);
    return nginx === undefined ? undefined : this.checked(nginx);
  }

  private checked(encodedPem: string): PresentedCertificate | undefined {
    let cert: X509Certificate;
    try {
      cert = new X509Certificate(decodeURIComponent(encodedPem));
    } catch {
      return undefined;
    }
    const presented = { fingerprint256: cert.fingerprint256, subject: subjectOf(cert.subject) };
    const now = Date.now();
    if (now < Date.parse(cert.validFrom) || now > Date.parse(cert.validTo))
      return { ...presented, authorized: false, authorizationError: 'CERT_NOT_VALID_NOW (forwarded)' };
    if (this.cas.length > 0 && !this.cas.some((ca) => cert.checkIssued(ca) && cert.verify(ca.publicKey))) {
      return { ...presented, authorized: false, authorizationError: 'not issued by the client CA (forwarded)' };
    }
    return { ...presented, authorized: true };
  }
}

/** every certificate of a PEM bundle */
export function certificatesOf(pem: Buffer | string): X509Certificate[] {
  const blocks = String(pem).match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
  return blocks.map((block) => new X509Certificate(block));
}

function single(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

/** `Key=value;Key="quoted;value"` of one XFCC element, keys lower-cased */
function fieldsOf(element: string): Record<string, string> {
  const fields: Record<string, string> = {};
  for (const pair of splitOutsideQuotes(element, ';')) {
    const at = pair.indexOf('=');
    if (at < 0) continue;
    const value = pair.slice(at + 1).trim();
    fields[pair.slice(0, at).trim().toLowerCase()] = value.startsWith('"') && value.endsWith('"') ? value.slice(1, -1).replace(/\\"/g, '"') : value;
  }
  return fields;
}

function splitOutsideQuotes(text: string, separator: string): string[] {
  const parts: string[] = [];
  let current = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === '\\' && quoted && i + 1 < text.length) {
      current += c + text[++i];
      continue;
    }
    if (c === '"') quoted = !quoted;
    if (c === separator && !quoted) {
      parts.push(current);
      current = '';
    } else current += c;
  }
  parts.push(current);
  return parts;
}

/** X509Certificate's subject (`C=DE\nCN=x`) as a peer certificate's object */
function subjectOf(subject: string): Record<string, string | string[]> {
  const attributes: Record<string, string | string[]> = {};
  for (const line of subject.split('\n')) {
    const at = line.indexOf('=');
    if (at < 0) continue;
    const [name, value] = [line.slice(0, at), line.slice(at + 1)];
    const before = attributes[name];
    attributes[name] = before === undefined ? value : [...(Array.isArray(before) ? before : [before]), value];
  }
  return attributes;
}

function colonHex(hex: string): string {
  return hex.toUpperCase().match(/../g)!.join(':');
}
