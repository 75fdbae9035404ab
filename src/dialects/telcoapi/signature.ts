/**
 * The signature of a platform's webhook, in either of two places.
 *
 * The seed's payload carries `"signature": "<HMAC signature of the payload>"` as a member of the
 * payload itself. What "the payload" is there is not said; the hub takes HMAC-SHA256 with the
 * webhook secret, as hex or base64, over either reading of the payload without its signature:
 * the compact JSON of the other members in the order received, or the bytes received with the
 * member (and the comma that joined it to its neighbour) cut out. The time window is the payload's
 * `timestamp` (ISO 8601, or unix seconds or milliseconds).
 *
 * The hub's own header form, over the exact bytes received, with the time it was made:
 *
 *   x-telcoapi-signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>." + body)>
 *
 * Several `v1` are allowed (a platform signing with two secrets while it rotates). Every signature
 * is checked against each of the operator's secrets (two while the operator rotates) and each
 * reading, in constant time, every pair compared.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';

export const SIGNATURE_HEADER = 'x-telcoapi-signature';
/** seed: Webhook Notifications' example payload */
export const SIGNATURE_MEMBER = 'signature';

export type SignatureForm = 'header' | 'body';

export type SignatureCheck =
  { readonly ok: true; readonly signature: string } | { readonly ok: false; readonly reason: 'missing' | 'malformed' | 'stale' | 'mismatch' };

export function verifySignature(
  header: string | undefined,
  body: Uint8Array,
  secrets: readonly string[],
  toleranceSeconds: number,
  nowMs: number,
): SignatureCheck {
  if (!header) return { ok: false, reason: 'missing' };
  let time: string | undefined;
  const given: Buffer[] = [];
  for (const part of header.split(',')) {
    const [name, value] = part.trim().split('=', 2);
    if (name === 't' && /^[0-9]{1,12}$/.test(value ?? '')) time = value;
    else if (name === 'v1' && /^[0-9a-f]{64}$/i.test(value ?? '')) given.push(Buffer.from(value, 'hex'));
  }
  if (time === undefined || given.length === 0 || given.length > 4) return { ok: false, reason: 'malformed' };
  if (Math.abs(nowMs / 1000 - Number(time)) > toleranceSeconds) return { ok: false, reason: 'stale' };
  const signed = Buffer.from(`${time}.`);
  const match = firstMatch(
    given,
    secrets.map((secret) => hmac(secret, signed, body)),
  );
  return match ? { ok: true, signature: `${time}.${match.toString('hex')}` } : { ok: false, reason: 'mismatch' };
}

/** the seed's form: `payload` is the parsed `raw`, a JSON object */
export function verifyBodySignature(
  raw: Buffer,
  payload: Record<string, unknown>,
  secrets: readonly string[],
  toleranceSeconds: number,
  nowMs: number,
): SignatureCheck {
  const value = payload[SIGNATURE_MEMBER];
  if (value === undefined) return { ok: false, reason: 'missing' };
  const given = typeof value === 'string' ? decodeMac(value) : undefined;
  const madeAt = timeOf(payload.timestamp);
  if (!given || madeAt === undefined) return { ok: false, reason: 'malformed' };
  if (Math.abs(nowMs - madeAt) > toleranceSeconds * 1000) return { ok: false, reason: 'stale' };
  const rest = Object.fromEntries(Object.entries(payload).filter(([name]) => name !== SIGNATURE_MEMBER));
  const readings = [Buffer.from(JSON.stringify(rest)), ...withoutMember(raw)];
  const match = firstMatch(
    [given],
    secrets.flatMap((secret) => readings.map((bytes) => hmac(secret, bytes))),
  );
  return match ? { ok: true, signature: `body.${match.toString('hex')}` } : { ok: false, reason: 'mismatch' };
}

/** a signature as hex (64 digits) or base64 (standard or URL-safe) of 32 bytes */
function decodeMac(text: string): Buffer | undefined {
  if (/^[0-9a-f]{64}$/i.test(text)) return Buffer.from(text, 'hex');
  if (!/^[A-Za-z0-9+/_-]{43}=?$/.test(text)) return undefined;
  const bytes = Buffer.from(text, 'base64');
  return bytes.length === 32 ? bytes : undefined;
}

/** milliseconds since the epoch of an ISO 8601 time, or of unix seconds or milliseconds */
function timeOf(value: unknown): number | undefined {
  const text = typeof value === 'number' ? String(value) : typeof value === 'string' ? value : undefined;
  if (text === undefined) return undefined;
  if (/^[0-9]{1,13}$/.test(text)) return text.length > 11 ? Number(text) : Number(text) * 1000;
  const ms = Date.parse(text);
  return Number.isNaN(ms) ? undefined : ms;
}

/**
 * The received bytes with the top-level `signature` member cut out, with the comma before it (it
 * was appended) and, separately, with the comma and blanks after it (it was put first): the bytes
 * as the platform had them before it added its signature, however it formats its JSON.
 */
function withoutMember(raw: Buffer): Buffer[] {
  // latin1 keeps every byte as one character: JSON's structure is ASCII, UTF-8's other bytes are not
  const text = raw.toString('latin1');
  const span = memberSpan(text);
  if (!span) return [];
  const [start, end] = span;
  const cuts: string[] = [];
  let before = start - 1;
  while (before >= 0 && isBlank(text[before])) before--;
  if (text[before] === ',') cuts.push(text.slice(0, before) + text.slice(end));
  let after = end;
  while (after < text.length && isBlank(text[after])) after++;
  if (text[after] === ',') {
    after++;
    while (after < text.length && isBlank(text[after])) after++;
    cuts.push(text.slice(0, start) + text.slice(after));
  }
  if (cuts.length === 0) cuts.push(text.slice(0, start) + text.slice(end));
  return cuts.map((cut) => Buffer.from(cut, 'latin1'));
}

/** where the top-level member named `signature` starts (its name's quote) and ends (after its string value) */
function memberSpan(text: string): [number, number] | undefined {
  let depth = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === '{' || c === '[') depth++;
    else if (c === '}' || c === ']') depth--;
    else if (c === '"') {
      const nameEnd = stringEnd(text, i);
      if (depth === 1 && text.slice(i, nameEnd) === `"${SIGNATURE_MEMBER}"`) {
        let colon = nameEnd;
        while (isBlank(text[colon])) colon++;
        if (text[colon] === ':') {
          let value = colon + 1;
          while (isBlank(text[value])) value++;
          if (text[value] === '"') return [i, stringEnd(text, value)];
        }
      }
      i = nameEnd - 1;
    }
  }
  return undefined;
}

/** the index after the closing quote of the JSON string that opens at `start` */
function stringEnd(text: string, start: number): number {
  let i = start + 1;
  while (i < text.length && text[i] !== '"') i += text[i] === '\\' ? 2 : 1;
  return i + 1;
}

function isBlank(c: string | undefined): boolean {
  return c === ' ' || c === '\n' || c === '\r' || c === '\t';
}

function hmac(secret: string, ...parts: Uint8Array[]): Buffer {
  const mac = createHmac('sha256', secret);
  for (const part of parts) mac.update(part);
  return mac.digest();
}

/** the given signature that equals an expected one; every pair is compared, so the time taken
 * does not tell which secret, reading or signature matched */
function firstMatch(given: readonly Buffer[], expected: readonly Buffer[]): Buffer | undefined {
  let match: Buffer | undefined;
  for (const mac of expected) for (const candidate of given) if (timingSafeEqual(mac, candidate) && !match) match = candidate;
  return match;
}
