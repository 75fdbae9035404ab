/**
 * One spelling for every id (pipeline/canonicalIds.ts): RFC 4122 3, hex digits are "case
 * insensitive on input", and AID.02 5.3's uuid format takes the `urn:uuid:` form too; the hub keys,
 * stores and forwards the lower-case form only. `isUuid` is also the bindings import's check of a
 * token (AID.02 5.3: msp_token is a uuid).
 */
import { canonicalUuid, isUuid } from '../../src/pipeline/canonicalIds';

const id = '0f8e4c52-3b1a-4d2e-9c7f-6a5b4c3d2e1f';

describe('canonicalUuid', () => {
  test('the canonical spelling is kept as it is', () => {
    expect(canonicalUuid(id)).toBe(id);
  });

  // capitals in one group only, the other groups digits: each group is read as hex on its own
  test.each([
    ['ABCDEFAB-0000-0000-0000-000000000000'],
    ['00000000-ABCD-0000-0000-000000000000'],
    ['00000000-0000-ABCD-0000-000000000000'],
    ['00000000-0000-0000-ABCD-000000000000'],
    ['00000000-0000-0000-0000-ABCDEFABCDEF'],
  ])('capitals in one group: %s is brought to lower case', (spelt) => {
    expect(canonicalUuid(spelt)).toBe(spelt.toLowerCase());
  });

  test('the urn:uuid: form loses its prefix, in lower case as in any case', () => {
    expect(canonicalUuid(`urn:uuid:${id}`)).toBe(id);
    expect(canonicalUuid(`URN:UUID:${id.toUpperCase()}`)).toBe(id);
  });

  test('a value that only contains a UUID is no UUID, and is left as it is', () => {
    expect(canonicalUuid(`x${id.toUpperCase()}`)).toBe(`x${id.toUpperCase()}`);
    expect(canonicalUuid(`${id.toUpperCase()}x`)).toBe(`${id.toUpperCase()}x`);
  });
});

describe('isUuid', () => {
  test('any spelling of a UUID is one', () => {
    for (const spelt of [id, id.toUpperCase(), `urn:uuid:${id}`, `URN:UUID:${id.toUpperCase()}`]) expect(isUuid(spelt)).toBe(true);
  });

  test('a UUID with anything before or after it is none', () => {
    for (const spelt of [`x${id}`, `${id}x`, `urn:uuid:${id}x`, `${id}\n`, `uuid:${id}`]) expect(isUuid(spelt)).toBe(false);
  });
});
