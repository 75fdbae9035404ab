/**
 * Secrets are kept only as SHA-256 digests once loaded, and compared in constant time. A secret in
 * the config may be written in clear (usually through `${ENV}`) or already hashed as
 * `sha256:<64 hex digits>`, so that a repository can hold the config without the secret.
 */
import { hash, timingSafeEqual } from 'node:crypto';
import type { InboundCredentials, OutboundAuth } from './types';

/** how a partner file writes the credentials a caller proves itself with */
export interface RawInbound {
  apiKeys?: string[];
  basic?: { username: string; password: string }[];
  certificates?: { fingerprint256?: string; subject?: Record<string, string> }[];
}

/** how a partner file writes the credential the hub presents */
export type RawAuth = { apiKey?: string; basic?: { username: string; password: string }; bearer?: string };

export function hasCredential(raw: RawInbound): boolean {
  return raw.apiKeys !== undefined || raw.basic !== undefined || raw.certificates !== undefined;
}

/** the credentials as the hub checks them: secrets only as digests */
export function inboundCredentials(raw: RawInbound): InboundCredentials {
  return Object.freeze({
    apiKeyDigests: (raw.apiKeys ?? []).map(configuredDigest),
    basic: (raw.basic ?? []).map((b) => ({ username: b.username, passwordDigest: configuredDigest(b.password) })),
    certificates: (raw.certificates ?? []).map((c) => ({
      fingerprint256: c.fingerprint256 === undefined ? undefined : normalizeFingerprint(c.fingerprint256),
      subject: c.subject,
    })),
  });
}

export function outboundAuth(auth: RawAuth | undefined): OutboundAuth {
  if (auth?.apiKey !== undefined) return { kind: 'apiKey', apiKey: auth.apiKey };
  if (auth?.basic !== undefined) return { kind: 'basic', ...auth.basic };
  if (auth?.bearer !== undefined) return { kind: 'bearer', token: auth.bearer };
  return { kind: 'none' };
}

const HASHED = /^sha256:([0-9a-fA-F]{64})$/;

export function digest(secret: string): Buffer {
  return hash('sha256', secret, 'buffer');
}

/** the digest a configured secret stands for */
export function configuredDigest(secret: string): Buffer {
  const hashed = HASHED.exec(secret);
  return hashed ? Buffer.from(hashed[1], 'hex') : digest(secret);
}

/** true when the presented secret's digest equals one of the configured digests; every candidate
 * is compared, so the time taken does not tell which one matched */
export function matchesAny(presented: string, candidates: readonly Buffer[]): boolean {
  const presentedDigest = digest(presented);
  let matched = false;
  for (const candidate of candidates) {
    if (timingSafeEqual(presentedDigest, candidate)) matched = true;
  }
  return matched;
}

/** `ab:cd...` or `abcd...` -> `AB:CD:...`, the form Node reports for a peer certificate */
export function normalizeFingerprint(fingerprint: string): string {
  const hex = fingerprint.replace(/:/g, '').toUpperCase();
  return hex.match(/.{2}/g)?.join(':') ?? hex;
}

/** the HTTP basic `authorization` value for a credential */
export function basicAuthorization(username: string, password: string): string {
  return `Basic ${Buffer.from(`${username}:${password}`).toString('base64')}`;
}

/** the credential in an HTTP basic `authorization` value, or undefined when it is none */
export function parseBasicAuthorization(authorization: string | undefined): { username: string; password: string } | undefined {
  const match = /^Basic\s+([A-Za-z0-9+/=]+)$/i.exec(authorization ?? '');
  if (!match) return undefined;
  const decoded = Buffer.from(match[1], 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  return colon < 0 ? undefined : { username: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
}
