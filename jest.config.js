// @swc/jest strips types without checking them (tsc --noEmit does that in
// `make test`), so test files compile in milliseconds and any TypeScript
// version works.
/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  transform: {
    '^.+\\.ts$': ['@swc/jest', { jsc: { parser: { syntax: 'typescript' }, target: 'es2023' }, module: { type: 'commonjs' } }],
  },
  globalSetup: '<rootDir>/test/harness/global-setup.ts',
  globalTeardown: '<rootDir>/test/harness/global-teardown.ts',
  testTimeout: 60_000,
  // Integration tests share one Temporal server and one nats-server; two
  // workers keep a 2-core machine busy without starving the servers.
  maxWorkers: 2,
};
