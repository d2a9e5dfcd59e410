// `make test-chaos`: faults on the production topology (`make cluster-up`'s
// stack, started by each test file on its own ports). Not part of `make test`:
// a cluster start costs a minute on a 2-core machine.
const base = require('./jest.config.js');

/** @type {import('jest').Config} */
module.exports = {
  ...base,
  roots: ['<rootDir>/test/chaos'],
  testPathIgnorePatterns: ['/node_modules/'],
  globalSetup: undefined,
  globalTeardown: undefined,
  testTimeout: 300_000,
  maxWorkers: 1,
};
