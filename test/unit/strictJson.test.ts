/**
 * The strict JSON reader: what RFC 8259 leaves to the reader is refused, everything else reads as
 * JSON.parse reads it.
 */
import { MAX_JSON_DEPTH, parseStrictJson, StrictJsonError } from '../../src/json/strictJson';

const read = (text: string | Buffer) => parseStrictJson(typeof text === 'string' ? Buffer.from(text, 'utf8') : text);
const refusal = (text: string | Buffer): string => {
  try {
    read(text);
  } catch (err) {
    if (err instanceof StrictJsonError) return `${err.name}: ${err.message}`;
    throw err;
  }
  throw new Error('accepted');
};

describe('accepted as JSON.parse reads it', () => {
  test.each([
    ['an AID.02 body', '{"iccid":"8949000000000000001","eid":"89049032000001000000000831934057","status":"installed"}'],
    ['escapes in names and values', '{"a\\"b":"\\u00e9\\n\\\\","c":["\\ud83d\\ude00"]}'],
    ['numbers of every form', '[0,-1,1.5,-2.5e10,1E-7,9007199254740991,1e308]'],
    ['the same name in two objects', '{"a":{"x":1},"b":{"x":2}}'],
    ['names that only look special', '{"__proto":1,"proto__":2,"Constructor":3}'],
    ['unicode text as UTF-8 bytes', '{"name":"Müller 日本"}'],
    ['nesting at the limit', `${'['.repeat(MAX_JSON_DEPTH)}${']'.repeat(MAX_JSON_DEPTH)}`],
    ['brackets inside strings', '{"text":"{{{[[[\\"]]]}}}"}'],
    // a value is never taken for a member name, whatever it spells
    ['values that spell their own or a forbidden name', '{"a":"a","b":"__proto__","c":["constructor","c"],"d":{"d":"d"}}'],
    ['a fraction with an exponent past 308 that a double holds (1e308)', '[0.1e309]'],
    // a closed container is closed: its names and its depth are gone with it
    ['a name of a nested object used again in its parent', '{"o":{"a":1},"a":2}'],
    ['many containers side by side, each shallow', `[${Array.from({ length: 2 * MAX_JSON_DEPTH }, (_, i) => (i % 2 ? '{}' : '[1]')).join(',')}]`],
    ['a surrogate pair at the top of both ranges (U+10FFFF)', '{"a":"\\udbff\\udfff"}'],
    // the last character below the surrogates and the first above them are characters (8.2)
    ['escapes just outside the surrogate ranges (U+D7FF, U+E000)', '{"a":"\\ud7ff\\ue000","b":"\\ue000"}'],
  ])('%s', (_, text) => {
    expect(read(text)).toEqual(JSON.parse(text));
  });
});

describe('refused: what two readers could read differently (RFC 8259)', () => {
  test.each([
    ['a member twice: "The names within an object SHOULD be unique" (4)', '{"status":"deleted","iccid":"1","status":"installed"}', 'appears twice'],
    ['a member twice, spelt with an escape', '{"status":"deleted","st\\u0061tus":"installed"}', 'appears twice'],
    ['a member twice in a nested object', '{"profiles":[{"iccid":"1","iccid":"2"}]}', 'appears twice'],
    // the reader keeps a short object's names in a list and a longer one's in a set: both ways
    ['a member twice, the second past the 16th member', `{${Array.from({ length: 20 }, (_, i) => `"m${i}":${i}`).join(',')},"m3":0}`, 'appears twice'],
    ['a member twice, both past the 16th member', `{${Array.from({ length: 40 }, (_, i) => `"m${i}":${i}`).join(',')},"m39":0}`, 'appears twice'],
    ['an escaped lone high surrogate (8.2)', '{"a":"\\ud800"}', 'lone surrogate'],
    ['an escaped lone low surrogate (8.2)', '{"a":"\\udc00x"}', 'lone surrogate'],
    ['a high surrogate followed by text (8.2)', '{"a":"\\ud83dx"}', 'lone surrogate'],
    ['a high surrogate, text, then a low one (8.2)', '{"a":"\\ud83dx\\ude00"}', 'lone surrogate'],
    ['a high surrogate, another escape, then a low one (8.2)', '{"a":"\\ud83d\\n\\ude00"}', 'lone surrogate'],
    ['a member twice, after a value with an escape', '{"a":"\\n","a":1}', 'appears twice'],
    ['a number beyond a double (6)', '{"n":1e309}', 'too large'],
    ['a negative number beyond a double (6)', '[-1e400]', 'too large'],
    ['a number beyond a double, with a signed exponent (6)', '[1e+400]', 'too large'],
    ['a number beyond a double, with a capital E (6)', '[1E400]', 'too large'],
    ['an escaped lone high surrogate, the last of its range (8.2)', '{"a":"\\udbff"}', 'lone surrogate'],
    ['an escaped lone low surrogate, the last of its range (8.2)', '{"a":"\\udfff"}', 'lone surrogate'],
    ['an integer beyond 2^53 (6)', '{"n":9007199254740993}', 'beyond 2^53'],
  ])('%s', (_, text, reason) => {
    expect(refusal(text)).toContain(reason);
  });

  test('bytes that are not UTF-8: "JSON text ... MUST be encoded using UTF-8" (8.1)', () => {
    expect(refusal(Buffer.from([0x7b, 0x22, 0x61, 0x22, 0x3a, 0x22, 0xc3, 0x28, 0x22, 0x7d]))).toContain('UTF-8');
    expect(refusal(Buffer.from([0x7b, 0x22, 0x61, 0x22, 0x3a, 0x22, 0xed, 0xa0, 0x80, 0x22, 0x7d]))).toContain('UTF-8');
  });
});

describe('refused: what no AID.02 message needs and JavaScript readers treat specially', () => {
  test.each([['__proto__'], ['constructor'], ['prototype']])('the member name %s', (name) => {
    expect(refusal(`{"${name}":{"polluted":true}}`)).toContain('not allowed');
  });

  test('one level past the limit is refused', () => {
    expect(refusal(`${'['.repeat(MAX_JSON_DEPTH + 1)}${']'.repeat(MAX_JSON_DEPTH + 1)}`)).toContain(`deeper than ${MAX_JSON_DEPTH}`);
  });

  test('30,000 levels of nesting are refused before any reader recurses into them', () => {
    expect(refusal(`${'['.repeat(30000)}${']'.repeat(30000)}`)).toContain(`deeper than ${MAX_JSON_DEPTH}`);
    expect(refusal(`${'{"a":'.repeat(30000)}1${'}'.repeat(30000)}`)).toContain(`deeper than ${MAX_JSON_DEPTH}`);
  });
});

describe('what a refusal says', () => {
  test('the member it names, where the name is safe to quote', () => {
    expect(refusal('{"status":1,"status":2}')).toBe('StrictJsonError: the member "status" appears twice in one object');
    expect(refusal('{"__proto__":{}}')).toBe('StrictJsonError: the member name "__proto__" is not allowed');
    expect(refusal('{"a b":1,"a b":2}')).toBe('StrictJsonError: the member appears twice in one object');
    expect(refusal(`{"${'n'.repeat(65)}":1,"${'n'.repeat(65)}":2}`)).toBe('StrictJsonError: the member appears twice in one object');
  });
});

describe('not JSON at all stays a syntax error', () => {
  test.each([['{"a":'], ['{"a":1,}'], ['\ufeff{"a":1}'], ["{'a':1}"], ['NaN'], ['[-Infinity]'], ['"unterminated'], ['{"a":1,"aa']])('%s', (text) => {
    expect(() => read(text)).toThrow(SyntaxError);
  });

  // the refusal tells the caller what is wrong with the body (readBody: "the body is not valid
  // JSON"), not a duplicate or a forbidden name the scanner took from text that is no member name
  test.each([
    // a colon where a name belongs: the string after it is a value, no member name
    ['a colon before any name', '{:"__proto__":1}'],
    // a name read, the next string is no name though no colon came between
    ['two names without a colon between them', '{"a" "a":1}'],
    // the lone quote at the end is the start of a name never finished, not the empty name again
    ['an unterminated name after the empty name', '{"":1,"'],
  ])('%s', (_, text) => {
    expect(() => read(text)).toThrow(SyntaxError);
  });
});
