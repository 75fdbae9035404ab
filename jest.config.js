/** Tests run TypeScript through ts-jest; type checking happens once in `tsc` (npm test), so each
 * test file is transpiled in isolation here. */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  transform: {
    "^.+\\.ts$": ["ts-jest", { diagnostics: false }],
    // the OTLP exporter's transport imports http/https dynamically, which jest's sandbox refuses
    "@opentelemetry/otlp-exporter-base/.+\\.js$": "<rootDir>/test/support/nodeImports.js",
  },
  transformIgnorePatterns: ["/node_modules/(?!@opentelemetry/otlp-exporter-base/)"],
  testTimeout: 30000,
  // most of the suite waits (on timers, partner servers, redis-server and hub processes), not
  // computes: four workers on two cores took the whole suite from 448 s to 252 s, all passing
  maxWorkers: 4,
};
