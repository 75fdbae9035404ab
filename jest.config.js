/** Tests run TypeScript through ts-jest; type checking happens once in `tsc` (npm test), so each
 * test file is transpiled in isolation here. */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  transform: { "^.+\\.ts$": ["ts-jest", { diagnostics: false }] },
  testTimeout: 30000,
  maxWorkers: 2,
};
