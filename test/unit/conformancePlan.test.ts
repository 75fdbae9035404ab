/** The conformance checks as data (conformance/*.yaml, conformance/plan.ts). */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { checksFor, loadChecks } from '../../src/conformance/plan';
import { OPERATION_IDS, callerRoleOf } from '../../src/openapi/operations';

const DIR = path.join(__dirname, '../../conformance');

test('every check names the AID.02 section it checks, ids are unique, every operation a partner serves is checked', () => {
  const checks = loadChecks(DIR);
  for (const check of checks) expect(check.section).toMatch(/^AID\.02 \d/);
  expect(new Set(checks.map((c) => c.id)).size).toBe(checks.length);
  const operations = new Set(checks.map((c) => c.operation));
  expect(OPERATION_IDS.filter((op) => !operations.has(op))).toEqual([]);
});

test('an MSP is checked on what an MSP serves (the CMP calls it), a CMP on what a CMP serves; TLS for both; destructive last', () => {
  const checks = loadChecks(DIR);
  const msp = checksFor('msp', checks);
  expect(msp.every((c) => c.operation === undefined || callerRoleOf(c.operation) === 'cmp')).toBe(true);
  expect(checksFor('cmp', checks).every((c) => c.operation === undefined || callerRoleOf(c.operation) === 'msp')).toBe(true);
  expect(msp.filter((c) => c.tls).map((c) => c.id)).toEqual(['tls-client-certificate', 'tls-version']);
  const firstDestructive = msp.findIndex((c) => c.destructive);
  expect(msp.slice(firstDestructive).every((c) => c.destructive)).toBe(true);
});

test('a check file that breaks the schema, or names no operation, is refused with its file and check', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'aidgw-plan-'));
  writeFileSync(path.join(dir, 'bad.yaml'), 'procedure: X\nchecks:\n  - id: x-1\n    title: t\n    section: somewhere\n');
  expect(() => loadChecks(dir)).toThrow(/bad\.yaml: .*section must match pattern/);
  writeFileSync(
    path.join(dir, 'bad.yaml'),
    'procedure: X\nchecks:\n  - id: x-1\n    title: t\n    section: AID.02 7\n    send: {}\n    expect: { status: [200] }\n',
  );
  expect(() => loadChecks(dir)).toThrow('bad.yaml: x-1: names no operation');
});
