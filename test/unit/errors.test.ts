/** The error catalogue: every error the hub produces is documented in docs/errors.md, with its status
 * and code, and nothing is documented there that the hub does not produce. */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { catalogue, HubError, toHubError, type ErrorKind } from '../../src/errors/catalogue';

const page = readFileSync(path.join(__dirname, '../../docs/errors.md'), 'utf8');

test.each(Object.entries(catalogue))('%s is in the error table of docs/errors.md with its status, code and message', (kind, entry) => {
  const status = entry.status === 'clientError' ? '400 or 422' : String(entry.status);
  expect(page).toContain(`| \`${kind}\` | ${status} | ${entry.code} | ${entry.message} |`);
});

test('every error docs/errors.md documents is one the hub produces', () => {
  const documented = [...page.matchAll(/^\| `([A-Za-z]+)` \|/gm)].map((m) => m[1]);
  expect(documented.length).toBeGreaterThan(0);
  expect(documented.filter((kind) => !(kind in catalogue))).toEqual([]);
  expect(new Set(documented).size).toBe(documented.length);
});

test('codes are AID.02 table 10 codes or from the proprietary range 200-300', () => {
  const table10 = new Set([
    '10',
    '11',
    '12',
    '19',
    '20',
    '21',
    '23',
    '24',
    '29',
    '30',
    '31',
    '39',
    '44',
    '47',
    '48',
    '49',
    '50',
    '51',
    '59',
    '60',
    '61',
    '62',
    '63',
    '64',
    '65',
    '90',
    '91',
    '92',
    '93',
    '94',
    '100',
    '101',
    '102',
    '103',
  ]);
  for (const entry of Object.values(catalogue)) {
    const code = Number(entry.code);
    expect(table10.has(entry.code) || (code >= 200 && code <= 300)).toBe(true);
  }
});

test('the wire body is {code, error}, the detail added to the message', () => {
  const err = new HubError('unknownTarget', { detail: 'no MSP mspZ is known to the hub' });
  expect(err.status).toBe(404);
  expect(err.toBody()).toEqual({ code: '93', error: 'The partner identified by target-id could not be found: no MSP mspZ is known to the hub' });
});

test.each([
  [400, 400],
  [422, 422],
  [undefined, 422],
])("a client error takes the operation's status (%s -> %s)", (given, expected) => {
  expect(new HubError('invalidSyntax', { clientErrorStatus: given }).status).toBe(expected);
});

test('a fixed status is not overridden by the operation', () => {
  expect(new HubError('unauthenticated', { clientErrorStatus: 400 }).status).toBe(401);
});

test('headers travel with the error', () => {
  expect(new HubError('methodNotAllowed', { headers: { allow: 'POST' } }).headers).toEqual({ allow: 'POST' });
});

test('anything else thrown becomes 500 code 90, keeping the cause for the log', () => {
  const cause = new TypeError('boom');
  const err = toHubError(cause);
  expect(err.kind).toBe<ErrorKind>('internal');
  expect(err.toBody()).toEqual({ code: '90', error: 'Internal Server Error' });
  expect(err.cause).toBe(cause);
  expect(toHubError(err)).toBe(err);
});
