/**
 * Golden ES2+ messages: literal request and answer bodies written from SGP.22's tables (5.3.1
 * DownloadOrder, 5.3.2 ConfirmOrder, 5.3.3 CancelOrder, 6.5 the JSON header), not from the hub's
 * own builders. The hub must read every answer and write every request in exactly this shape.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { answerKindOf } from '../../src/dialects/es2plus/errorMapping';
import { parseAnswer, requestBody } from '../../src/dialects/es2plus/es2Messages';
import { ICCID_PATTERN, normalizeIccid } from '../../src/esim/iccid';

test('DownloadOrder, as SGP.22 5.3.1 lists its input: header, eid, profileType', () => {
  const written = requestBody('aid-gateway.example', 'FCI-1', { eid: '89049032000001000000000831934057', profileType: 'PT_PERSONAL' });
  expect(written).toBe(
    '{"header":{"functionRequesterIdentifier":"aid-gateway.example","functionCallIdentifier":"FCI-1"},"eid":"89049032000001000000000831934057","profileType":"PT_PERSONAL"}',
  );
});

test('DownloadOrder answer with an F-padded 19-digit ICCID (SGP.22 5.2.1): read, kept as written, compared without F', () => {
  const answer = parseAnswer('{"header":{"functionExecutionStatus":{"status":"Executed-Success"}},"iccid":"8949000000000000001F"}');
  expect(answer.execution.status).toBe('Executed-Success');
  expect(answer.data.iccid).toBe('8949000000000000001F');
  expect(ICCID_PATTERN.test('8949000000000000001F')).toBe(true);
  expect(normalizeIccid('8949000000000000001F')).toBe('8949000000000000001');
});

test.each([['8949000000000000001'], ['89490000000000000012'], ['894900000000000000123'], ['8949000000000000001234'], ['8949000000000000001f']])(
  'ICCID %s is one (AID.02 5.4: 19-22 digits)',
  (iccid) => {
    expect(ICCID_PATTERN.test(iccid)).toBe(true);
  },
);

test.each([['894900000000000000'], ['89490000000000000012345'], ['894900000000000000F'], ['8949000000000000001FF'], ['89490000000000000A1']])(
  '%s is no ICCID',
  (iccid) => {
    expect(ICCID_PATTERN.test(iccid)).toBe(false);
  },
);

test('ConfirmOrder answer (SGP.22 5.3.2 output: eid, matchingId, smdpAddress)', () => {
  const answer = parseAnswer(
    '{"header":{"functionExecutionStatus":{"status":"Executed-Success"}},"eid":"89049032000001000000000831934057","matchingId":"ABCDE-FGHIJ-KLMNO-PQRST","smdpAddress":"smdp.example.com"}',
  );
  expect(answer.data).toEqual({ eid: '89049032000001000000000831934057', matchingId: 'ABCDE-FGHIJ-KLMNO-PQRST', smdpAddress: 'smdp.example.com' });
});

test('a Failed answer with statusCodeData (SGP.22 6.5.1.4): 8.2.5 / 3.7 is "no more profiles": AID.02 code 49', () => {
  const answer = parseAnswer(
    '{"header":{"functionExecutionStatus":{"status":"Failed","statusCodeData":{"subjectCode":"8.2.5","reasonCode":"3.7","message":"Unavailable"}}}}',
  );
  expect(answerKindOf(answer.execution)).toBe('noActivationCode');
});

test('Expired is mapped by its statusCodeData like Failed, and is 500 code 90 without one; docs/dialects/es2plus.md says so', () => {
  expect(answerKindOf(parseAnswer('{"header":{"functionExecutionStatus":{"status":"Expired"}}}').execution)).toBe('smdpFailed');
  expect(
    answerKindOf(
      parseAnswer('{"header":{"functionExecutionStatus":{"status":"Expired","statusCodeData":{"subjectCode":"8.2.5","reasonCode":"3.7","message":"m"}}}}')
        .execution,
    ),
  ).toBe('noActivationCode');
  const readme = readFileSync(path.join(__dirname, '../../docs/dialects/es2plus.md'), 'utf8').replace(/\s+/g, ' ');
  expect(readme).toContain('`Expired` is mapped by its `statusCodeData` like `Failed`');
});
