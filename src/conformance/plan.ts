/**
 * The conformance checks as data: one YAML file per AID.02 procedure in `conformance/`, each check
 * naming the section it checks, what to send and what AID.02 allows in answer. Loaded and checked
 * against a schema once; a partner's role picks the checks of the operations that role serves.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import Ajv from 'ajv';
import { load } from 'js-yaml';
import { callerRoleOf, isOperationId, otherRole, type OperationId } from '../openapi/operations';
import type { Role } from '../config/types';

export type TlsCheck = 'clientCertificateRequired' | 'minimumVersion';

export interface Send {
  /** the JSON body; `{uuid}` a fresh UUID, `{token}` the test user's msp_token, `{iccid}` a kept ICCID,
   * `{eid}` the test car's EID (--eid) */
  readonly body?: unknown;
  readonly query?: Readonly<Record<string, string>>;
  readonly omitHeaders?: readonly string[];
  readonly credential?: 'none';
  /** the same request (same ids and body) this many times */
  readonly repeat?: number;
}

export interface Expect {
  readonly status: readonly number[];
  /** the error codes (5.5) a refusal may carry */
  readonly codes?: readonly string[];
  readonly withinMs?: number;
  /** a 201 must be followed by Send Activation Code for the request (7.7.2) */
  readonly delivery?: boolean;
  /** every repetition is answered the same: no second code */
  readonly sameAnswer?: boolean;
}

export interface Check {
  readonly id: string;
  readonly title: string;
  readonly section: string;
  readonly procedure: string;
  readonly file: string;
  /** undefined for a TLS check (either role) */
  readonly operation?: OperationId;
  readonly destructive: boolean;
  /** runs only once this check has passed */
  readonly after?: string;
  readonly needs?: 'iccid';
  readonly keep?: 'iccid';
  readonly tls?: TlsCheck;
  readonly send?: Send;
  readonly expect?: Expect;
}

const CHECK_SCHEMA = {
  type: 'object',
  required: ['id', 'title', 'section'],
  additionalProperties: false,
  properties: {
    id: { type: 'string', pattern: '^[a-z0-9-]+$' },
    title: { type: 'string' },
    section: { type: 'string', pattern: '^AID\\.02 ' },
    operation: { type: 'string' },
    destructive: { type: 'boolean' },
    after: { type: 'string' },
    needs: { enum: ['iccid'] },
    keep: { enum: ['iccid'] },
    tls: { enum: ['clientCertificateRequired', 'minimumVersion'] },
    send: {
      type: 'object',
      additionalProperties: false,
      properties: {
        body: {},
        query: { type: 'object', additionalProperties: { type: 'string' } },
        omitHeaders: { type: 'array', items: { type: 'string' } },
        credential: { enum: ['none'] },
        repeat: { type: 'integer', minimum: 2, maximum: 5 },
      },
    },
    expect: {
      type: 'object',
      required: ['status'],
      additionalProperties: false,
      properties: {
        status: { type: 'array', minItems: 1, items: { type: 'integer', minimum: 100, maximum: 599 } },
        codes: { type: 'array', items: { type: 'string' } },
        withinMs: { type: 'integer', minimum: 1 },
        delivery: { type: 'boolean' },
        sameAnswer: { type: 'boolean' },
      },
    },
  },
} as const;

const FILE_SCHEMA = {
  type: 'object',
  required: ['procedure', 'checks'],
  additionalProperties: false,
  properties: { procedure: { type: 'string' }, operation: { type: 'string' }, checks: { type: 'array', minItems: 1, items: CHECK_SCHEMA } },
} as const;

interface RawFile {
  procedure: string;
  operation?: string;
  checks: (Omit<Check, 'procedure' | 'file' | 'operation' | 'destructive'> & { operation?: string; destructive?: boolean })[];
}

/** every check of the folder, in file order then check order; throws on a file that breaks the schema */
export function loadChecks(dir: string): Check[] {
  const validate = new Ajv({ allErrors: true }).compile(FILE_SCHEMA);
  const checks: Check[] = [];
  for (const file of readdirSync(dir)
    .filter((f) => f.endsWith('.yaml'))
    .sort()) {
    const raw = load(readFileSync(path.join(dir, file), 'utf8')) as RawFile;
    if (!validate(raw)) throw new Error(`${file}: ${(validate.errors ?? []).map((e) => `${e.instancePath || '/'} ${e.message}`).join('; ')}`);
    for (const check of raw.checks) {
      const operation = check.operation ?? raw.operation;
      if (operation !== undefined && !isOperationId(operation)) throw new Error(`${file}: ${check.id}: no AID.02 operation ${operation}`);
      if (operation === undefined && check.tls === undefined) throw new Error(`${file}: ${check.id}: names no operation`);
      if (check.tls === undefined && (check.send === undefined || check.expect === undefined)) throw new Error(`${file}: ${check.id}: needs send and expect`);
      checks.push({ ...check, operation, destructive: check.destructive ?? false, procedure: raw.procedure, file });
    }
  }
  const ids = new Set<string>();
  for (const check of checks) {
    if (ids.has(check.id)) throw new Error(`${check.file}: check id ${check.id} is used twice`);
    ids.add(check.id);
    if (check.after !== undefined && !checks.some((c) => c.id === check.after))
      throw new Error(`${check.file}: ${check.id}: after names no check (${check.after})`);
  }
  return checks;
}

/** the checks for a partner of `role`: the operations it serves, and the TLS checks; the
 * destructive ones last, so that the test user is withdrawn only once everything else has run */
export function checksFor(role: Role, checks: readonly Check[]): Check[] {
  const mine = checks.filter((c) => c.operation === undefined || otherRole(callerRoleOf(c.operation)) === role);
  return [...mine.filter((c) => !c.destructive), ...mine.filter((c) => c.destructive)];
}
