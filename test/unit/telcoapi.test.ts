/**
 * The TelcoAPI dialect's pure parts: the webhook signature, how platform events move a profile,
 * the ICCID's Luhn digit and the EID's check digits, and the error table in step with docs/dialects/telcoapi.md.
 * Fixtures come from the standards' own examples and from HMACs computed here with node:crypto.
 */
import { createHmac } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { catalogue } from '../../src/errors/catalogue';
import { eidWithCheckDigits, isValidEid } from '../../src/esim/eid';
import { answerFor, mapPlatformError, PLATFORM_ERROR_TABLE, PlatformError } from '../../src/dialects/telcoapi/errorMapping';
import { withLuhn } from '../../src/dialects/telcoapi/operator';
import { withoutCredentials, withoutIdentifiers } from '../../src/dialects/telcoapi/platformClient';
import { verifyBodySignature, verifySignature } from '../../src/dialects/telcoapi/signature';
import { afterPlatformEvent } from '../../src/dialects/telcoapi/platformEvents';

const SECRET = 'whsec-0123456789abcdef';
const BODY = Buffer.from(
  '{"eventType":"PROFILE_DOWNLOADED","timestamp":"2026-11-26T10:00:00Z","data":{"iccid":"8949010000000000008","eid":"89049032123451234512345678901235","status":"DOWNLOADED"}}',
);
const T = 1795000000;
const mac = (secret: string, t: number, body: Buffer = BODY) => createHmac('sha256', secret).update(`${t}.`).update(body).digest('hex');

describe('the webhook signature', () => {
  test('right: HMAC-SHA256 of "<t>." and the exact bytes, within the window', () => {
    expect(verifySignature(`t=${T},v1=${mac(SECRET, T)}`, BODY, [SECRET], 300, (T + 299) * 1000)).toEqual({ ok: true, signature: `${T}.${mac(SECRET, T)}` });
  });

  test('any of several v1 against any of two secrets (rotation on either side)', () => {
    const header = `t=${T}, v1=${'0'.repeat(64)}, v1=${mac('next-secret-0123456789', T)}`;
    expect(verifySignature(header, BODY, [SECRET, 'next-secret-0123456789'], 300, T * 1000).ok).toBe(true);
  });

  test.each([
    ['no header', undefined, 'missing'],
    ['no time', `v1=${mac(SECRET, T)}`, 'malformed'],
    ['no v1', `t=${T}`, 'malformed'],
    ['a v1 that is not 64 hex digits', `t=${T},v1=abc`, 'malformed'],
    ['another secret', `t=${T},v1=${mac('another-secret-0123456789', T)}`, 'mismatch'],
    ['another time than signed', `t=${T + 1},v1=${mac(SECRET, T)}`, 'mismatch'],
  ])('%s: refused', (_what, header, reason) => {
    expect(verifySignature(header, BODY, [SECRET], 300, T * 1000)).toEqual({ ok: false, reason });
  });

  test('one byte of the body changed: refused', () => {
    const changed = Buffer.from(BODY.toString().replace('DOWNLOADED"}', 'DELETED"}'));
    expect(verifySignature(`t=${T},v1=${mac(SECRET, T)}`, changed, [SECRET], 300, T * 1000)).toEqual({ ok: false, reason: 'mismatch' });
  });

  test.each([301, -301])('signed %i seconds from now: stale', (offset) => {
    expect(verifySignature(`t=${T},v1=${mac(SECRET, T)}`, BODY, [SECRET], 300, (T + offset) * 1000)).toEqual({ ok: false, reason: 'stale' });
  });
});

describe('the seed\'s signature: `"signature": string // HMAC signature of the payload`, a member of the payload', () => {
  const NOW = Date.parse('2026-11-26T10:00:00Z');
  const payload = { eventType: 'PROFILE_DOWNLOADED', timestamp: '2026-11-26T10:00:00Z', data: { iccid: '8949010000000000008', status: 'DOWNLOADED' } };
  const sign = (text: string, encoding: 'hex' | 'base64' | 'base64url' = 'hex', secret = SECRET) => createHmac('sha256', secret).update(text).digest(encoding);
  const check = (sent: string, now = NOW) => verifyBodySignature(Buffer.from(sent), JSON.parse(sent), [SECRET], 300, now);

  test.each(['hex', 'base64', 'base64url'] as const)('over the compact JSON of the other members in their order, %s', (encoding) => {
    expect(check(JSON.stringify({ ...payload, signature: sign(JSON.stringify(payload), encoding) })).ok).toBe(true);
  });

  test('over the bytes as sent without the member: appended last to pretty JSON, or put first', () => {
    const pretty = JSON.stringify(payload, null, 2);
    expect(check(`${pretty.slice(0, -2)},\n  "signature": "${sign(pretty)}"\n}`).ok).toBe(true);
    expect(check(`{\n  "signature": "${sign(pretty)}",\n  ${pretty.slice(4)}`).ok).toBe(true);
    // a member between others; a string holding the word "signature" is no member
    const text = '{"eventType":"PROFILE_DOWNLOADED","note":"\\"signature\\": x","timestamp":1795000000,"data":{"iccid":"8949010000000000008"}}';
    const inside = `${text.slice(0, 34)}"signature":"${sign(text)}",${text.slice(34)}`;
    expect(check(inside, 1795000000 * 1000).ok).toBe(true);
  });

  test.each([
    ['no signature member', JSON.stringify(payload), 'missing'],
    ['a signature that is neither hex nor base64 of 32 bytes', JSON.stringify({ ...payload, signature: 'abc' }), 'malformed'],
    ['no timestamp', JSON.stringify({ eventType: 'X', data: {}, signature: sign('{"eventType":"X","data":{}}') }), 'malformed'],
    ['another secret', JSON.stringify({ ...payload, signature: sign(JSON.stringify(payload), 'hex', 'another-secret-0123456789') }), 'mismatch'],
    ['a member changed after signing', JSON.stringify({ ...payload, eventType: 'PROFILE_DELETED', signature: sign(JSON.stringify(payload)) }), 'mismatch'],
  ])('%s: refused', (_what, sent, reason) => {
    expect(check(sent)).toEqual({ ok: false, reason });
  });

  test("the window is the payload's timestamp", () => {
    const sent = JSON.stringify({ ...payload, signature: sign(JSON.stringify(payload)) });
    expect(check(sent, NOW + 299000).ok).toBe(true);
    expect(check(sent, NOW + 301000)).toEqual({ ok: false, reason: 'stale' });
  });
});

describe("how a platform event moves the hub's record", () => {
  test.each([
    ['released', 'downloaded', 'downloaded'],
    ['released', 'installed', 'installed'],
    ['downloaded', 'installed', 'installed'],
    ['installed', 'enabled', 'enabled'],
    ['enabled', 'disabled', 'disabled'],
    ['disabled', 'enabled', 'enabled'],
    // never back from what the vehicle reported to what the download reported
    ['enabled', 'downloaded', 'enabled'],
    ['enabled', 'installed', 'enabled'],
    ['installed', 'downloaded', 'installed'],
    // deleted always; a profile gone stays gone otherwise
    ['enabled', 'deleted', 'deleted'],
    ['swapped', 'deleted', 'deleted'],
    ['swapped', 'enabled', 'swapped'],
    ['cancelled', 'installed', 'cancelled'],
  ] as const)('%s + %s -> %s', (state, reported, after) => {
    expect(afterPlatformEvent(state, reported)).toBe(after);
  });
});

test("the Luhn check digit an ICCID ends with (ISO/IEC 7812-1's own example: 7992739871 -> 3)", () => {
  expect(withLuhn('7992739871')).toBe('79927398713');
  expect(withLuhn('894901000000000000')).toBe('8949010000000000008');
});

test('EID check digits (SGP.29, ISO/IEC 7064 mod 97-10): the GSMA example EID is valid, a changed digit is not', () => {
  expect(isValidEid('89049032123451234512345678901235')).toBe(true);
  expect(isValidEid('89049032123451234512345678901236')).toBe(false);
  expect(isValidEid('8904903212345123451234567890123')).toBe(false);
  expect(eidWithCheckDigits('890490321234512345123456789012')).toBe('89049032123451234512345678901235');
});

test('a platform message loses its ICCIDs and EIDs before it is logged', () => {
  expect(withoutIdentifiers('profile 8949010000000000008F on 89049032123451234512345678901235 refused (code 42)')).toBe(
    'profile [number] on [number] refused (code 42)',
  );
});

test('a platform message loses anything credential-like before it is logged, the configured secrets wherever they are', () => {
  const secrets = ['platform-token-of-the-hub', 'short'];
  expect(withoutCredentials('A valid bearer token is required: Bearer platform-token-of-the-hub is not valid', secrets)).toBe(
    'A valid bearer token is required: Bearer [secret] is not valid',
  );
  expect(withoutCredentials('token=abc123; api_key: "k-1" password=hunter2', [])).toBe('token=[secret]; api_key: "[secret]" password=[secret]');
  expect(withoutCredentials('quoted platform-token-of-the-hub and short, eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.abc', secrets)).toBe(
    'quoted [secret] and [secret], [secret]',
  );
  expect(withoutCredentials('Invalid profile data: field iccid has Invalid format', secrets)).toBe('Invalid profile data: field iccid has Invalid format');
});

describe('the error table', () => {
  test("every code of the seed's table once, and docs/dialects/telcoapi.md prints every row", () => {
    const seedCodes = [
      'INVALID_ACTIVATION_CODE',
      'PROFILE_DOWNLOAD_FAILED',
      'DEVICE_NOT_COMPATIBLE',
      'PROFILE_NOT_FOUND',
      'OPERATION_NOT_PERMITTED',
      'NETWORK_ERROR',
      'RATE_LIMIT_EXCEEDED',
      'INVALID_EID',
      'PROFILE_LIMIT_REACHED',
      'AUTHENTICATION_FAILED',
    ];
    expect(PLATFORM_ERROR_TABLE.map((r) => r.code).sort()).toEqual([...seedCodes].sort());
    const readme = readFileSync(path.join(__dirname, '../../docs/dialects/telcoapi.md'), 'utf8');
    for (const row of PLATFORM_ERROR_TABLE) {
      const entry = catalogue[row.answer];
      const status = entry.status === 'clientError' ? 422 : entry.status;
      expect(readme).toContain(`| ${row.code} | ${row.meaning} | ${status} | ${entry.code} |`);
    }
  });

  test("a code no row names is the MSP's internal error; a rate limit says when to come back", () => {
    expect(mapPlatformError('SOMETHING_NEW')).toBeUndefined();
    expect(answerFor(new PlatformError(400, 'SOMETHING_NEW', '')).toBody()).toEqual({
      code: '90',
      error: "The MSP's eSIM platform could not carry out the request",
    });
    const busy = answerFor(new PlatformError(429, 'RATE_LIMIT_EXCEEDED', '', 42));
    expect([busy.status, busy.headers['retry-after']]).toEqual([503, '42']);
  });
});
