/**
 * The signature of a platform's webhook. The seed carries "signature: HMAC signature of the
 * payload" as a member of the payload itself, which cannot be an HMAC over the bytes that hold it;
 * the hub takes it from a header instead, over the exact bytes received, with the time it was made
 * so that an old message cannot be sent again later:
 *
 *   x-telcoapi-signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>." + body)>
 *
 * Several `v1` are allowed (a platform signing with two secrets while it rotates), and the hub
 * checks each against each of its secrets (two while the operator rotates), in constant time.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';

export const SIGNATURE_HEADER = 'x-telcoapi-signature';

export type SignatureCheck =
  | { readonly ok: true; readonly signature: string }
  | { readonly ok: false; readonly reason: 'missing' | 'malformed' | 'stale' | 'mismatch' };

export function verifySignature(header: string | undefined, body: Uint8Array, secrets: readonly string[], toleranceSeconds: number, nowMs: number): SignatureCheck {
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
  let match: Buffer | undefined;
  // every pair is compared, so the time taken does not tell which secret or signature matched
  for (const secret of secrets) {
    const expected = hmac(body, secret, time);
    for (const candidate of given) if (timingSafeEqual(expected, candidate)) match = candidate;
  }
  return match ? { ok: true, signature: `${time}.${match.toString('hex')}` } : { ok: false, reason: 'mismatch' };
}

function hmac(body: Uint8Array, secret: string, time: string): Buffer {
  return createHmac('sha256', secret).update(`${time}.`).update(body).digest();
}
