/**
 * Fuzzing the pure parsers: whatever they are given, they answer or throw their own error, never
 * anything else; and the strict JSON reader reads every JSON text JSON.parse reads, the same way.
 * Seeded (FUZZ_SEED), bounded in `npm test` (FUZZ_RUNS raises it in `npm run fuzz`).
 */
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import fc from 'fast-check';
import { ConfigError, loadConfig } from '../../src/config/load';
import { DIALECTS } from '../../src/dialects';
import { ActivationCodeError, buildActivationCode, parseActivationCode } from '../../src/esim/activationCode';
import { Es2ProtocolError, parseAnswer } from '../../src/dialects/es2plus/es2Messages';
import { parseStrictJson, StrictJsonError } from '../../src/json/strictJson';

const options = { seed: Number(process.env.FUZZ_SEED ?? 20261126), numRuns: Number(process.env.FUZZ_RUNS ?? 300) };

jest.setTimeout(Math.max(30000, options.numRuns * 20));

/** runs `fn`; an error that is not one of `expected` fails the property */
function onlyThrows(fn: () => unknown, ...expected: (new (...args: never[]) => Error)[]): void {
  try {
    fn();
  } catch (err) {
    if (!expected.some((kind) => err instanceof kind)) throw err;
  }
}

test('the strict reader reads what JSON.parse reads, the same way, but for what it refuses on purpose', () => {
  fc.assert(
    fc.property(fc.json({ maxDepth: 5 }), (text) => {
      let value: unknown;
      try {
        value = parseStrictJson(Buffer.from(text, 'utf8'));
      } catch (err) {
        // the refusals fc.json can provoke: integers beyond 2^53, the member names JavaScript
        // readers treat specially
        expect(err).toBeInstanceOf(StrictJsonError);
        expect((err as Error).message).toMatch(/2\^53|member name/);
        return;
      }
      expect(value).toEqual(JSON.parse(text));
    }),
    options,
  );
});

test('the strict reader answers any bytes with a value, a StrictJsonError or a SyntaxError', () => {
  fc.assert(
    fc.property(
      fc.oneof(
        fc.uint8Array({ maxLength: 200 }),
        fc.string({ maxLength: 200 }).map((s) => Buffer.from(s, 'utf8')),
      ),
      (bytes) => {
        onlyThrows(() => parseStrictJson(bytes), StrictJsonError, SyntaxError);
      },
    ),
    options,
  );
});

test('activation codes: any text parses or is an ActivationCodeError; what is built parses back to its parts', () => {
  fc.assert(
    fc.property(fc.string({ maxLength: 300 }), (text) => onlyThrows(() => parseActivationCode(text), ActivationCodeError)),
    options,
  );
  const part = fc.stringMatching(/^[0-9A-Z-]{1,40}$/);
  fc.assert(
    fc.property(fc.record({ smdpAddress: fc.domain(), matchingId: part, confirmationCodeRequired: fc.boolean() }), (parts) => {
      let code: string;
      try {
        code = buildActivationCode(parts);
      } catch (err) {
        if (err instanceof ActivationCodeError) return;
        throw err;
      }
      expect(parseActivationCode(code)).toEqual({ ...parts, smdpOid: undefined });
    }),
    options,
  );
});

test('ES2+ answers: any body is an answer or an Es2ProtocolError', () => {
  const header = fc.record({
    functionExecutionStatus: fc.oneof(
      fc.jsonValue(),
      fc.record({ status: fc.constantFrom('Executed-Success', 'Failed', 'x'), statusCodeData: fc.jsonValue() }),
    ),
  });
  fc.assert(
    fc.property(
      fc.oneof(
        fc.string({ maxLength: 200 }),
        fc.jsonValue().map((v) => JSON.stringify(v) ?? ''),
        fc.record({ header, iccid: fc.jsonValue() }).map((v) => JSON.stringify(v)),
      ),
      (body) => {
        onlyThrows(() => parseAnswer(body), Es2ProtocolError);
      },
    ),
    options,
  );
});

test('config: any partner file is loaded or refused with a ConfigError naming the file', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'aidgw-fuzz-config-'));
  mkdirSync(path.join(dir, 'partners'));
  writeFileSync(path.join(dir, 'routes.yaml'), 'routes:\n  - from: "*"\n    to: "*"\n');
  const partner = fc.oneof(
    fc.string({ maxLength: 200 }),
    fc.jsonValue({ maxDepth: 3 }).map((v) => JSON.stringify(v) ?? ''),
    fc
      .record({
        id: fc.string({ maxLength: 10 }),
        role: fc.constantFrom('msp', 'cmp', 'x'),
        inbound: fc.jsonValue(),
        upstream: fc.oneof(fc.jsonValue(), fc.record({ url: fc.webUrl() })),
      })
      .map((v) => JSON.stringify(v)),
  );
  try {
    fc.assert(
      fc.property(partner, (text) => {
        writeFileSync(path.join(dir, 'partners', 'fuzzed.yaml'), text);
        try {
          loadConfig(dir, DIALECTS, {});
        } catch (err) {
          if (!(err instanceof ConfigError)) throw err;
          expect(err.problems.join('\n')).toContain('fuzzed.yaml');
        }
      }),
      options,
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
