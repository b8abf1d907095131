/**
 * Jest as StrykerJS runs it (npm run mutate): the tests of the deployed handlers and the core,
 * one DynamoDB Local per worker, fast-check ending at the first counterexample.
 * @type {import('jest').Config}
 */
const base = require('./jest.config');

module.exports = {
  ...base,
  roots: ['<rootDir>/test/lambdas'],
  setupFiles: [...base.setupFiles, '<rootDir>/test/mutate/setup.ts'],
  globalSetup: '<rootDir>/test/mutate/global-setup.ts',
  globalTeardown: undefined,
  // StrykerJS runs its own test runners side by side (stryker.config.mjs, concurrency): one worker each, as before.
  maxWorkers: 1,
};
