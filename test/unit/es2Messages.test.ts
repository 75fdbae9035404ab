/** ES2+ request headers, answer parsing and the error mapping table. */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { ES2_ERROR_TABLE, answerKindOf, mapEs2Failure } from '../../src/dialects/es2plus/errorMapping';
import { refusal } from '../../src/hostedMsp/operations';
import { normalizeIccid } from '../../src/esim/iccid';
import { Es2ProtocolError, executed, parseAnswer, parseExecutionStatus, requestBody } from '../../src/dialects/es2plus/es2Messages';
import { catalogue } from '../../src/errors/catalogue';

test('a request carries the header with requester and call identifier, then the input data', () => {
  expect(JSON.parse(requestBody('hub.example', 'call-1', { eid: '1', profileType: 'PT' }))).toEqual({
    header: { functionRequesterIdentifier: 'hub.example', functionCallIdentifier: 'call-1' },
    eid: '1',
    profileType: 'PT',
  });
});

test.each([
  [
    'success with data',
    { header: { functionExecutionStatus: { status: 'Executed-Success' } }, iccid: '01234567890123456789' },
    'Executed-Success',
    { iccid: '01234567890123456789' },
  ],
  [
    'a warning',
    { header: { functionExecutionStatus: { status: 'Executed-WithWarning', statusCodeData: { subjectCode: '8.2.1', reasonCode: '3.3', message: 'm' } } } },
    'Executed-WithWarning',
    {},
  ],
  [
    'a failure',
    { header: { functionExecutionStatus: { status: 'Failed', statusCodeData: { subjectCode: '8.2.5', reasonCode: '3.7', message: 'No more Profile' } } } },
    'Failed',
    {},
  ],
  ['an expiry', { header: { functionExecutionStatus: { status: 'Expired' } } }, 'Expired', {}],
])('reads %s', (_what, json, status, data) => {
  const answer = parseAnswer(JSON.stringify(json));
  expect(answer.execution.status).toBe(status);
  expect(answer.data).toEqual(data);
});

test('the status code data comes through whole', () => {
  const status = parseExecutionStatus({
    status: 'Failed',
    statusCodeData: { subjectCode: '8.1.1', reasonCode: '3.10', subjectIdentifier: 'x', message: 'Invalid Association' },
  });
  expect(status).toEqual({
    status: 'Failed',
    statusCodeData: { subjectCode: '8.1.1', reasonCode: '3.10', subjectIdentifier: 'x', message: 'Invalid Association' },
  });
});

test.each([
  ['no JSON', 'nope'],
  ['an array', '[]'],
  ['no header', '{"iccid":"1"}'],
  ['no execution status', '{"header":{}}'],
  ['an unknown status', '{"header":{"functionExecutionStatus":{"status":"Done"}}}'],
  ['status code data without a reason', '{"header":{"functionExecutionStatus":{"status":"Failed","statusCodeData":{"subjectCode":"8.2.5"}}}}'],
])('refuses %s as no ES2+ answer', (_what, text) => {
  expect(() => parseAnswer(text)).toThrow(Es2ProtocolError);
});

test('Executed-Success and Executed-WithWarning are executed; Failed and Expired are not', () => {
  expect(executed({ status: 'Executed-Success' })).toBe(true);
  expect(executed({ status: 'Executed-WithWarning' })).toBe(true);
  expect(executed({ status: 'Failed' })).toBe(false);
  expect(executed({ status: 'Expired' })).toBe(false);
});

test.each([
  ['89049032123451234512F', '89049032123451234512'],
  ['8904903212345123451f', '8904903212345123451'],
  ['89049032123451234512', '89049032123451234512'],
])('ICCID %s is kept as %s', (given, kept) => {
  expect(normalizeIccid(given)).toBe(kept);
});

const failed = (subjectCode: string, reasonCode: string) => ({ status: 'Failed' as const, statusCodeData: { subjectCode, reasonCode } });

test.each([
  ['8.2.5', '3.7', 422, '49'],
  ['8.2.5', '3.9', 422, '50'],
  ['8.2.5', '3.8', 422, '51'],
  ['8.1.1', '2.1', 423, '207'],
  ['8.1.1', '3.8', 423, '207'],
  ['8.1.1', '3.10', 422, '49'],
  ['8.2.1', '3.3', 422, '49'],
  ['8.2.1', '3.9', 422, '49'],
  ['8.2.1', '3.5', 422, '49'],
  ['8.2.6', '3.3', 422, '49'],
  ['8.2.1', '1.2', 500, '90'],
  ['1.6', '2.2', 500, '90'],
  ['9.9', '9.9', 500, '90'],
])('ES2+ %s / %s answers the CMP %d with code %s', (subject, reason, status, code) => {
  const answer = refusal(answerKindOf(failed(subject, reason)));
  expect(answer.status).toBe(status);
  expect(answer.toBody().code).toBe(code);
});

test("an expiry or a failure without status code data is the MSP's internal error", () => {
  expect(answerKindOf({ status: 'Expired' })).toBe('smdpFailed');
  expect(answerKindOf({ status: 'Failed' })).toBe('smdpFailed');
  expect(mapEs2Failure({ status: 'Failed' })).toBeUndefined();
});

test('the table names each subject and reason once, and docs/dialects/es2plus.md prints every row', () => {
  const keys = ES2_ERROR_TABLE.map((row) => `${row.subjectCode}/${row.reasonCode}`);
  expect(new Set(keys).size).toBe(keys.length);
  const readme = readFileSync(path.join(__dirname, '../../docs/dialects/es2plus.md'), 'utf8');
  for (const row of ES2_ERROR_TABLE) {
    const entry = catalogue[row.answer];
    const status = entry.status === 'clientError' ? 422 : entry.status;
    expect(readme).toContain(`| ${row.subjectCode} | ${row.reasonCode} | ${row.meaning} | ${status} | ${entry.code} |`);
  }
});
