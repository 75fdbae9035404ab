/** Secret digests and constant-time matching; certificate fingerprints in Node's form. */
import { configuredDigest, digest, matchesAny, normalizeFingerprint } from '../../../src/config/credentials';
import { substituteEnv } from '../../../src/config/env';

describe('configured secrets', () => {
  test('a clear secret is hashed', () => {
    expect(configuredDigest('abc')).toEqual(digest('abc'));
  });
  test('sha256:<hex> is the digest itself, in either case', () => {
    const hex = digest('abc').toString('hex');
    expect(configuredDigest(`sha256:${hex}`)).toEqual(digest('abc'));
    expect(configuredDigest(`sha256:${hex.toUpperCase()}`)).toEqual(digest('abc'));
  });
  test('a sha256: prefix with a wrong length is a clear secret', () => {
    expect(configuredDigest('sha256:abc')).toEqual(digest('sha256:abc'));
  });
});

describe('matchesAny', () => {
  const candidates = [digest('one'), digest('two')];
  test.each([
    ['one', true],
    ['two', true],
    ['three', false],
    ['', false],
    ['one ', false],
    ['ONE', false],
  ])('%j -> %s', (presented, expected) => {
    expect(matchesAny(presented, candidates)).toBe(expected);
  });
  test('no candidates never match', () => {
    expect(matchesAny('one', [])).toBe(false);
  });
});

test.each([
  ['ab:cd:ef', 'AB:CD:EF'],
  ['abcdef', 'AB:CD:EF'],
  ['AB:CD:EF', 'AB:CD:EF'],
])('fingerprint %s -> %s', (input, expected) => {
  expect(normalizeFingerprint(input)).toBe(expected);
});

describe('environment substitution', () => {
  test.each([
    ['${A}', { A: 'x' }, 'x'],
    ['${A:-d}', {}, 'd'],
    ['${A:-}', {}, ''],
    ['pre-${A}-${B:-b}', { A: 'a' }, 'pre-a-b'],
    ['$A {A} $${A}', { A: 'a' }, '$A {A} $a'],
  ])('%s', (value, env, expected) => {
    const problems: string[] = [];
    expect(substituteEnv(value, env, problems)).toBe(expected);
    expect(problems).toEqual([]);
  });

  test('a value containing ${...} is not substituted again', () => {
    expect(substituteEnv('${A}', { A: '${B}', B: 'no' }, [])).toBe('${B}');
  });

  test('nested values, with the path of each unset variable', () => {
    const problems: string[] = [];
    const out = substituteEnv({ a: [{ b: '${X}' }], n: 5, t: true, z: null }, {}, problems);
    expect(out).toEqual({ a: [{ b: '' }], n: 5, t: true, z: null });
    expect(problems).toEqual(['a[0].b: environment variable X is not set']);
  });
});
