/**
 * Mutation testing (StrykerJS, jest runner) of the modules where a bug is a security or data-loss
 * bug; `npm run mutate`, not in CI (docs/mutation-testing.md has the scores and times). Each module
 * names the test files that exercise it: only those run, and within them only the tests that cover
 * a mutant (per-test coverage), so one module takes minutes instead of the whole suite per mutant.
 * `MUTATE=authenticate,tokenBinding npm run mutate` runs some of them; no MUTATE runs them all.
 */
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const jestConfig = require('./jest.config.js');

const MODULES = {
  authenticate: {
    mutate: ['src/pipeline/authenticate.ts'],
    // es2plusSgp22: the ES2+ callback is where a dialect's inbound route takes any one credential
    // stateOutage: a failed login the store could not count
    tests: [
      'test/integration/authentication.test.ts',
      'test/integration/loginThrottle.test.ts',
      'test/integration/behindProxy.test.ts',
      'test/integration/es2plusSgp22.test.ts',
      'test/integration/stateOutage.test.ts',
    ],
  },
  tokenBinding: {
    mutate: ['src/pipeline/tokenBinding.ts'],
    tests: ['test/integration/tokens.test.ts', 'test/integration/hostileInput.test.ts', 'test/integration/procedures.test.ts'],
  },
  idempotency: {
    // afterCall: what is kept after the call, only after a 2xx
    mutate: ['src/pipeline/idempotency.ts', 'src/pipeline/afterCall.ts'],
    tests: [
      'test/integration/activation.test.ts',
      'test/integration/activationReplay.test.ts',
      'test/integration/hostileInput.test.ts',
      'test/integration/bridge.test.ts',
    ],
  },
  canonicalIds: {
    mutate: ['src/pipeline/canonicalIds.ts'],
    // procedures: the body forwarded byte for byte unless an id in it was respelt;
    // unit/canonicalIds: each spelling of a UUID, and what only contains one (the bindings import's check);
    // measurementSwitches: the id headers' own refusal, which only a hub without request validation reaches
    tests: [
      'test/unit/canonicalIds.test.ts',
      'test/integration/hostileInput.test.ts',
      'test/integration/validation.test.ts',
      'test/integration/procedures.test.ts',
      'test/integration/measurementSwitches.test.ts',
    ],
  },
  stateChecks: {
    mutate: ['src/pipeline/rateLimitsAndChecks.ts'],
    // activationReplay: a claim released when the request is refused before the MSP is asked, and only then
    tests: [
      'test/integration/rateLimits.test.ts',
      'test/integration/tokens.test.ts',
      'test/integration/activation.test.ts',
      'test/integration/activationReplay.test.ts',
      'test/integration/hostileInput.test.ts',
      'test/integration/stateOutage.test.ts',
    ],
  },
  strictJson: {
    mutate: ['src/json/strictJson.ts'],
    tests: ['test/unit/strictJson.test.ts', 'test/fuzz/parsers.test.ts'],
  },
  stateRedis: {
    mutate: ['src/state/redis/{requestChecks,ledger,tokenBindings,rateLimits,records,outbox,store}.ts', 'src/state/{gcra,ledger,deadline}.ts'],
    // storeRetry: the store's boundary (deadline.ts, the calls made again and those never made again)
    // on a Redis of its own that is killed and paused; storeRetryWindow: the retry window's
    // arithmetic on a Redis that is slow but answers
    tests: ['test/state/*.test.ts', 'test/integration/storeRetry.test.ts', 'test/integration/storeRetryWindow.test.ts'],
  },
  stateMemory: {
    mutate: ['src/state/memory/*.ts'],
    // journeys.contract: the memory journeys (memory/journeys.ts), held to the Redis ones' behaviour
    tests: [
      'test/state/*.contract.test.ts',
      'test/journeys/journeys.contract.test.ts',
      'test/state/memoryStore.test.ts',
      'test/integration/stateBounds.test.ts',
    ],
  },
  activation: {
    mutate: ['src/activation/*.ts'],
    // lostAnswers: the bridge's deadline, which answers the CMP only when a store call was lost;
    // activationReplay: a delivery for a request whose 201 the CMP never got, held until the hold runs out
    tests: [
      'test/integration/activation.test.ts',
      'test/integration/bridge.test.ts',
      'test/integration/lostAnswers.test.ts',
      'test/integration/activationReplay.test.ts',
    ],
  },
  outbox: {
    mutate: ['src/outbox/*.ts', 'src/state/deliveries.ts'],
    tests: ['test/integration/outbox.test.ts'],
  },
  profileStates: {
    mutate: ['src/hostedMsp/profileStates.ts', 'src/dialects/es2plus/profileStates.ts'],
    tests: ['test/unit/profileStates.test.ts'],
  },
  devicemgmtTasks: {
    mutate: ['src/dialects/devicemgmt/tasks.ts'],
    // devicemgmtTasks drives the task runs directly on a platform whose transactions end at once; the
    // journeys through a hub (devicemgmt, devicemgmtReadings) take seconds a test, hours a run
    tests: ['test/integration/devicemgmtTasks.test.ts'],
  },
};

/** a comma-separated list of an environment variable, its blanks left out */
const listOf = (text) =>
  text
    .split(',')
    .map((item) => item.trim())
    .filter((item) => item !== '');
const chosen = listOf(process.env.MUTATE ?? Object.keys(MODULES).join(','));
for (const name of chosen) {
  if (!MODULES[name]) throw new Error(`MUTATE names ${name}; the modules are ${Object.keys(MODULES).join(', ')}`);
}
const unique = (lists) => [...new Set(lists.flat())];
/** `MUTATE_TESTS=a.test.ts,b.test.ts`: only some of the modules' test files, for a file every test
 * of the list reaches (deadline.ts: each store call goes through it, so each mutant would run the
 * contract suites too); fewer files can only kill fewer */
const tests = process.env.MUTATE_TESTS ? listOf(process.env.MUTATE_TESTS) : unique(chosen.map((name) => MODULES[name].tests));
/** one report per choice of modules, so that runs of different modules keep theirs; a run of only
 * some of their test files writes its own, beside the full run's */
const reportName = `${process.env.MUTATE ? chosen.join('+') : 'all'}${process.env.MUTATE_TESTS ? '.some-tests' : ''}`;

/** @type {import('@stryker-mutator/api/core').PartialStrykerOptions} */
export default {
  packageManager: 'npm',
  testRunner: 'jest',
  checkers: ['typescript'],
  tsconfigFile: 'tsconfig.json',
  mutate: unique(chosen.map((name) => MODULES[name].mutate)),
  coverageAnalysis: 'perTest',
  jest: {
    projectType: 'custom',
    config: { ...jestConfig, testMatch: tests.map((file) => `<rootDir>/${file}`) },
    enableFindRelatedTests: false,
  },
  // two cores shared with Redis and the partners' servers the tests start
  concurrency: Number(process.env.MUTATE_CONCURRENCY ?? 1),
  // a mutant that makes a test wait (for a delivery, a state) is a timeout after this, not after jest's 30 s
  timeoutMS: 10000,
  reporters: ['clear-text', 'progress', 'html', 'json'],
  htmlReporter: { fileName: `reports/mutation/${reportName}.html` },
  jsonReporter: { fileName: `reports/mutation/${reportName}.json` },
  thresholds: { high: 90, low: 85, break: null },
  // dist/ goes into the sandbox: the outbox's and devicemgmt's tests start the built hub as a
  // process (npm run mutate builds it first); that hub runs unmutated code
  ignorePatterns: ['reports', 'coverage'],
  tempDirName: '.stryker-tmp',
};
