/**
 * The two Annex B documents in spec/: valid OpenAPI 3.0, the nine operations at the spec's paths and
 * methods, and the repairs the header comment lists actually made.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import OpenAPISchemaValidator from 'openapi-schema-validator';
import { load as parse } from 'js-yaml';
import { Apis, SPEC_FILES } from '../../../src/openapi/apis';
import { OPERATIONS } from '../../../src/openapi/operations';

const SPEC_DIR = path.join(__dirname, '../../../spec');
const read = (file: string) => readFileSync(path.join(SPEC_DIR, file), 'utf8');
// the parsed documents, read field by field below
const docs = { cmpApi: parse(read(SPEC_FILES.cmpApi)) as any, mspApi: parse(read(SPEC_FILES.mspApi)) as any };

test.each(Object.entries(SPEC_FILES))('%s (%s) is a valid OpenAPI 3.0 document', (key) => {
  const result = new OpenAPISchemaValidator({ version: 3 }).validate(docs[key as keyof typeof docs]);
  expect(result.errors).toEqual([]);
});

test.each(Object.values(SPEC_FILES))('%s starts with the list of repairs', (file) => {
  const header = read(file)
    .split('\n')
    .filter((l) => l.startsWith('#'));
  expect(header.join('\n')).toMatch(/Repairs made, and why:/);
  expect(header.filter((l) => /^#\s+\d+\./.test(l)).length).toBeGreaterThanOrEqual(5);
});

test('the nine operations, at the paths and with the methods of AID.02 chapter 7', () => {
  const found: Record<string, string> = {};
  for (const doc of Object.values(docs)) {
    for (const [p, methods] of Object.entries<Record<string, { operationId: string }>>(doc.paths)) {
      for (const [method, op] of Object.entries(methods)) found[op.operationId] = `${method.toUpperCase()} ${p}`;
    }
  }
  expect(found).toEqual({
    submitActivationCode: 'POST /cesim/msp/v1/activation-codes/{msp_token}',
    updateSubscriptionInfo: 'PATCH /cesim/msp/v1/subscriptions/{msp_token}',
    sendMspToken: 'POST /cesim/msp/v1/users/{account_id}',
    notifyMspTokenInvalid: 'POST /cesim/msp/v1/users/{msp_token}/invalidate',
    sendProfileInformation: 'POST /cesim/msp/v1/users/{msp_token}/profiles',
    requestActivationCode: 'POST /v1/activation-code-requests/{msp_token}',
    sendCsimStatus: 'POST /v1/statuses/{msp_token}',
    requestInvalidateFederatedID: 'DELETE /v1/users/{msp_token}',
    requestProfileStatus: 'GET /v1/profiles/status/{msp_token}',
  });
  expect(Object.keys(found).sort()).toEqual(Object.keys(OPERATIONS).sort());
});

test('"Mandatory, set to null if ..." fields are required and nullable', () => {
  const schemas = { ...docs.cmpApi.components.schemas, ...docs.mspApi.components.schemas };
  const requiredNullable: Record<string, string[]> = {
    SendMspTokenBody: ['msp_token', 'phoneNumber', 'subscriptionType', 'error', 'iv'],
    SendActivationCodeBody: ['activationCode', 'profileType', 'activationCodeRequestID', 'error', 'iccid', 'swappedIccid'],
    ActivationCodeResponse: ['swappedIccid'],
  };
  for (const [name, fields] of Object.entries(requiredNullable)) {
    for (const field of fields) {
      expect(schemas[name].required).toContain(field);
      expect(schemas[name].properties[field].nullable).toBe(true);
    }
  }
  expect(schemas.SendProfileInformationBody.properties.profiles.items.properties.reason.nullable).toBe(true);
});

test("prose over Annex: replaceIccid is optional with any content (4.3.1 2c), Notify MSP Token Invalid's body optional (7.4)", () => {
  const replace = docs.mspApi.components.schemas.RequestActivationCodeBody;
  expect(replace.required).not.toContain('replaceIccid');
  expect(replace.properties.replaceIccid.type).toBeUndefined();
  expect(docs.cmpApi.paths['/cesim/msp/v1/users/{msp_token}/invalidate'].post.requestBody.required).toBe(false);
});

test('no field still carries the l-for-I misreading of the extraction (the repair list may name it)', () => {
  for (const file of Object.values(SPEC_FILES)) {
    const body = read(file)
      .split('\n')
      .filter((l) => !l.startsWith('#'));
    expect(body.join('\n')).not.toMatch(/lccid/);
    expect(body.join('\n')).toMatch(/Iccid/);
  }
});

test('Request Activation Code documents 423 "Invalid eid" (AID.02 7.7)', () => {
  expect(docs.mspApi.paths['/v1/activation-code-requests/{msp_token}'].post.responses['423'].description).toBe('Invalid eid.');
});

test('openapi-backend compiles both documents and knows 400 only for Notify MSP Token Invalid', async () => {
  const apis = await Apis.load(SPEC_DIR);
  expect(apis.all).toHaveLength(9);
  const with400 = apis.all.filter((op) => op.clientErrorStatus === 400).map((op) => op.id);
  expect(with400).toEqual(['notifyMspTokenInvalid']);
});
