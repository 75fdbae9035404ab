/** Route lookup: the most specific route wins; duplicates are config errors. */
import { compileRoutes, type RouteDefinition } from '../../../src/config/routeTable';
import type { RouteSettings } from '../../../src/config/types';

const POLICY = {
  retries: { attempts: 0, baseDelayMs: 1, maxDelayMs: 1 },
  bridge: false,
  bridgeTimeoutMs: 1,
  storeAndForward: false,
  correlation: 'off' as const,
};
const settings = (timeoutMs: number) => (): RouteSettings => ({ timeoutMs, tokenBinding: 'learn', responseValidation: 'warn', ...POLICY });
const def = (from: string, to: string, timeoutMs: number, operations?: string[]): RouteDefinition => ({
  from,
  to,
  operations,
  settings: settings(timeoutMs),
  where: `${from}->${to}`,
});

test.each([
  ['exact pair beats everything', 'cmpA', 'mspA', 1],
  ['named caller to any target', 'cmpA', 'mspB', 2],
  ['any caller to a named target', 'cmpB', 'mspA', 3],
  ['any to any', 'cmpB', 'mspB', 4],
])('%s', (_what, from, to, expected) => {
  const problems: string[] = [];
  const table = compileRoutes([def('*', '*', 4), def('*', 'mspA', 3), def('cmpA', '*', 2), def('cmpA', 'mspA', 1)], problems);
  expect(problems).toEqual([]);
  expect(table.find(from, to, 'requestActivationCode')?.timeoutMs).toBe(expected);
});

test('a route for some operations leaves the others to less specific routes, or to nothing', () => {
  const table = compileRoutes([def('cmpA', 'mspA', 1, ['sendCsimStatus']), def('cmpA', '*', 2, ['requestProfileStatus'])], []);
  expect(table.find('cmpA', 'mspA', 'sendCsimStatus')?.timeoutMs).toBe(1);
  expect(table.find('cmpA', 'mspA', 'requestProfileStatus')?.timeoutMs).toBe(2);
  expect(table.find('cmpA', 'mspA', 'requestActivationCode')).toBeUndefined();
});

test('no route, no way through', () => {
  expect(compileRoutes([], []).find('cmpA', 'mspA', 'sendCsimStatus')).toBeUndefined();
});

test('the same pair and operation twice is reported once per clash, naming both routes', () => {
  const problems: string[] = [];
  compileRoutes([def('cmpA', 'mspA', 1), def('cmpA', 'mspA', 2, ['sendCsimStatus', 'requestProfileStatus'])], problems);
  expect(problems).toEqual([
    'cmpA->mspA: cmpA -> mspA (sendCsimStatus) is already defined by cmpA->mspA',
    'cmpA->mspA: cmpA -> mspA (requestProfileStatus) is already defined by cmpA->mspA',
  ]);
});

test('each operation gets its own settings object from the definition', () => {
  const table = compileRoutes(
    [
      {
        from: '*',
        to: '*',
        where: 'r',
        settings: (op) => ({ timeoutMs: op === 'requestActivationCode' ? 3000 : 10000, tokenBinding: 'off', responseValidation: 'off', ...POLICY }),
      },
    ],
    [],
  );
  expect(table.find('x', 'y', 'requestActivationCode')?.timeoutMs).toBe(3000);
  expect(table.find('x', 'y', 'sendCsimStatus')?.timeoutMs).toBe(10000);
  expect(Object.isFrozen(table.find('x', 'y', 'sendCsimStatus'))).toBe(true);
});
