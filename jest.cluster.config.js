// `make test-cluster`: the chaos suite on the production topology. It starts
// its own cluster stack (services/cluster-stack), so it has no global setup.
const base = require('./jest.config.js');

/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: base.testEnvironment,
  transform: base.transform,
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.chaos.ts'],
  testTimeout: 600_000,
  maxWorkers: 1,
};
