/** SGP.22 4.1 activation codes, as the ES2+ seed's "Activation Code Structure" table defines them. */
import { ActivationCodeError, buildActivationCode, MAX_ACTIVATION_CODE_LENGTH, parseActivationCode, qrCodePayload } from '../../src/esim/activationCode';

const MID = '0A1B2-C3D4E-5F6G7-H8I9J';

test.each([
  [{ smdpAddress: 'smdp.address.com', matchingId: MID }, `1$smdp.address.com$${MID}`],
  [{ smdpAddress: 'SMDP.GSMA.COM', matchingId: '04386-AGYFT-A74Y8-3F815' }, '1$SMDP.GSMA.COM$04386-AGYFT-A74Y8-3F815'],
  [{ smdpAddress: 'smdp.address.com', matchingId: MID, confirmationCodeRequired: true }, `1$smdp.address.com$${MID}$$1`],
  [{ smdpAddress: 'smdp.address.com', matchingId: MID, confirmationCodeRequired: false }, `1$smdp.address.com$${MID}`],
  [{ smdpAddress: 'smdp.address.com', matchingId: MID, smdpOid: '1.3.6.1.4.1.31746' }, `1$smdp.address.com$${MID}$1.3.6.1.4.1.31746`],
  [{ smdpAddress: 'smdp.address.com', matchingId: MID, smdpOid: '2.999.10', confirmationCodeRequired: true }, `1$smdp.address.com$${MID}$2.999.10$1`],
  [{ smdpAddress: 'a.b', matchingId: 'X' }, '1$a.b$X'],
  [{ smdpAddress: 'rsp-eu.example-operator.net', matchingId: 'ABC-123' }, '1$rsp-eu.example-operator.net$ABC-123'],
])('builds %j as %s', (parts, expected) => {
  expect(buildActivationCode(parts)).toBe(expected);
});

test.each([
  ['a $ in the address', { smdpAddress: 'smdp$evil.com', matchingId: MID }, /SM-DP\+ address/],
  ['a $ in the MatchingID', { smdpAddress: 'smdp.address.com', matchingId: 'AB$CD' }, /MatchingID/],
  ['an empty MatchingID', { smdpAddress: 'smdp.address.com', matchingId: '' }, /MatchingID/],
  ['an empty address', { smdpAddress: '', matchingId: MID }, /SM-DP\+ address/],
  ['an address with a port', { smdpAddress: 'smdp.address.com:443', matchingId: MID }, /SM-DP\+ address/],
  ['an address with an underscore', { smdpAddress: 'smdp_1.example.com', matchingId: MID }, /SM-DP\+ address/],
  ['a MatchingID outside the QR alphanumeric set', { smdpAddress: 'smdp.address.com', matchingId: 'abc_def' }, /MatchingID/],
  ['a MatchingID with a non-ASCII letter', { smdpAddress: 'smdp.address.com', matchingId: 'ÄBC' }, /MatchingID/],
  ['an OID with a $', { smdpAddress: 'smdp.address.com', matchingId: MID, smdpOid: '1.3$6' }, /OID/],
  ['an OID that is not dotted', { smdpAddress: 'smdp.address.com', matchingId: MID, smdpOid: 'oid' }, /OID/],
  ['an OID with a leading zero arc', { smdpAddress: 'smdp.address.com', matchingId: MID, smdpOid: '1.03' }, /OID/],
])('refuses %s', (_what, parts, message) => {
  expect(() => buildActivationCode(parts)).toThrow(ActivationCodeError);
  expect(() => buildActivationCode(parts)).toThrow(message);
});

test('the 255-character limit: exactly 255 is allowed, 256 is refused', () => {
  const prefix = '1$smdp.address.com$';
  const fits = 'M'.repeat(MAX_ACTIVATION_CODE_LENGTH - prefix.length);
  expect(buildActivationCode({ smdpAddress: 'smdp.address.com', matchingId: fits })).toHaveLength(255);
  expect(() => buildActivationCode({ smdpAddress: 'smdp.address.com', matchingId: `${fits}M` })).toThrow(/256 characters/);
  // the optional fields count too
  const withFlag = 'M'.repeat(MAX_ACTIVATION_CODE_LENGTH - prefix.length - 3);
  expect(buildActivationCode({ smdpAddress: 'smdp.address.com', matchingId: withFlag, confirmationCodeRequired: true })).toHaveLength(255);
  expect(() => buildActivationCode({ smdpAddress: 'smdp.address.com', matchingId: `${withFlag}M`, confirmationCodeRequired: true })).toThrow(/at most 255/);
});

test('a QR code carries the code prefixed with LPA:', () => {
  const code = buildActivationCode({ smdpAddress: 'smdp.address.com', matchingId: MID, confirmationCodeRequired: true });
  expect(qrCodePayload(code)).toBe(`LPA:1$smdp.address.com$${MID}$$1`);
});

test.each([
  [`1$smdp.address.com$${MID}`, { smdpAddress: 'smdp.address.com', matchingId: MID, smdpOid: undefined, confirmationCodeRequired: false }],
  [`LPA:1$smdp.address.com$${MID}$$1`, { smdpAddress: 'smdp.address.com', matchingId: MID, smdpOid: undefined, confirmationCodeRequired: true }],
  [`1$smdp.address.com$${MID}$1.2.3$1$future$fields`, { smdpAddress: 'smdp.address.com', matchingId: MID, smdpOid: '1.2.3', confirmationCodeRequired: true }],
])('reads %s back', (text, parts) => {
  expect(parseActivationCode(text)).toEqual(parts);
});

test.each([['2$smdp.address.com$X'], ['1$$X'], ['1$smdp.address.com'], [`1$a.b$${'M'.repeat(300)}`]])('refuses to read %s', (text) => {
  expect(() => parseActivationCode(text)).toThrow(ActivationCodeError);
});

test('every code built reads back as its parts', () => {
  for (const smdpOid of [undefined, '1.2.840.10045']) {
    for (const confirmationCodeRequired of [false, true]) {
      const parts = { smdpAddress: 'smdp.example.com', matchingId: MID, smdpOid, confirmationCodeRequired };
      expect(parseActivationCode(buildActivationCode(parts))).toEqual(parts);
    }
  }
});
