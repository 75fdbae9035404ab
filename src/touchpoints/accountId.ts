/**
 * The account id a CMP touchpoint hands the MSP's portal (AID.02 5.2): URL-safe by construction,
 * and usually a JWT (three base64url parts, HMAC-SHA256 with a secret the CMP and the MSP share).
 * The hub cannot check the signature (the secret is theirs), but refuses what no portal should get:
 * anything but letters, digits and, for a JWT, its three parts; a JWT whose `exp` has passed.
 */

const PLAIN = /^[A-Za-z0-9]{1,2048}$/;
const JWT = /^([A-Za-z0-9_-]{2,2048})\.([A-Za-z0-9_-]{2,4096})\.([A-Za-z0-9_-]{0,2048})$/;

/** undefined when the id may travel, else why not */
export function checkAccountId(id: string, nowSeconds: number): string | undefined {
  if (PLAIN.test(id)) return undefined;
  const jwt = JWT.exec(id);
  if (!jwt) return 'the id must be letters and digits, or a JWT (three base64url parts)';
  let header: unknown;
  let payload: unknown;
  try {
    header = JSON.parse(Buffer.from(jwt[1], 'base64url').toString('utf8'));
    payload = JSON.parse(Buffer.from(jwt[2], 'base64url').toString('utf8'));
  } catch {
    return 'the id looks like a JWT, but its header or payload is no JSON';
  }
  if (typeof header !== 'object' || header === null || typeof payload !== 'object' || payload === null)
    return "the id's JWT header and payload must be JSON objects";
  const exp = (payload as { exp?: unknown }).exp;
  // AID.02 5.2's example writes exp as a string of digits; both are read
  const expires = typeof exp === 'number' ? exp : typeof exp === 'string' && /^[0-9]{1,12}$/.test(exp) ? Number(exp) : undefined;
  if (expires !== undefined && expires < nowSeconds) return 'the id (a JWT) has expired';
  return undefined;
}
