/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  transform: {
    '^.+\\.tsx?$': ['@swc/jest'],
  },
  setupFiles: ['<rootDir>/test/setup.ts'],
  // DynamoDB Local starts once per run (Java 17); tests that need it make their own tables.
  globalSetup: '<rootDir>/test/global-setup.ts',
  globalTeardown: '<rootDir>/test/global-teardown.ts',
  setupFilesAfterEnv: ['aws-cdk-lib/testhelpers/jest-autoclean'],
  // Synthesizing two sites with bundled handlers takes seconds, not milliseconds.
  testTimeout: 120_000,
  // Jest's default on two cores is one worker, and many suites wait on DynamoDB Local (another process) most of the
  // time: three workers keep both cores busy (2026-12-07: 774 s for the whole run, 925 s with two workers). Nothing
  // here asserts timing; determinism.test.ts is built for busy cores.
  maxWorkers: 3,
};
