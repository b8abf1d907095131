/**
 * Jest as StrykerJS runs it (npm run mutate): the tests of the deployed handlers and the core,
 * one DynamoDB Local per worker, fast-check ending at the first counterexample.
 * @type {import('jest').Config}
 */
const base = require('./jest.config');

module.exports = {
  ...base,
  // The sources are roots too: jest's --findRelatedTests (enableFindRelatedTests) follows imports only through files in
  // its haste map, so with the tests alone as root a mutant in lambdas/core/site.ts would be run against the tests that
  // import site.ts directly, and never against module.test.ts, which reaches it through module.ts.
  roots: ['<rootDir>/test/lambdas', '<rootDir>/lambdas', '<rootDir>/local'],
  testMatch: ['<rootDir>/test/lambdas/**/*.test.ts'],
  setupFiles: [...base.setupFiles, '<rootDir>/test/mutate/setup.ts'],
  globalSetup: '<rootDir>/test/mutate/global-setup.ts',
  globalTeardown: undefined,
  // StrykerJS runs its own test runners side by side (stryker.config.mjs, concurrency): one worker each, as before.
  maxWorkers: 1,
};
