/**
 * Mutation testing of the safety code (npm run mutate; docs/RELIABILITY.md, "Mutation testing").
 * A mutant that survives in a lease, a gate or a fence is a test we are missing.
 * @type {import('@stryker-mutator/api/core').PartialStrykerOptions}
 */
export default {
  packageManager: 'npm',
  testRunner: 'jest',
  jest: { configFile: 'jest.mutate.config.js', enableFindRelatedTests: true },
  coverageAnalysis: 'perTest',
  mutate: [
    'lambdas/core/lease.ts',
    'lambdas/core/round-trip.ts',
    'lambdas/core/site.ts',
    'lambdas/core/site-step.ts',
    'lambdas/heartbeat-module/peer-reads.ts',
    'lambdas/core/wire.ts',
    'lambdas/core/volume.ts',
    'lambdas/heartbeat-module/role-change.ts',
    'lambdas/heartbeat-module/maintenance.ts',
    'lambdas/heartbeat-module/module.ts',
    'lambdas/heartbeat-module/failover-start.ts',
    'lambdas/failover-steps/fence.ts',
    'lambdas/failover-steps/gates.ts',
    'lambdas/failover-steps/steps.ts',
    'lambdas/failover-steps/since-decision.ts',
  ],
  // The wording of messages, notices and log lines is not safety: a string or template mutant
  // changes what a person reads, never who acts. Every other mutator runs.
  mutator: { excludedMutations: ['StringLiteral'] },
  ignoreStatic: true,
  incremental: true,
  incrementalFile: 'reports/mutation/stryker-incremental.json',
  reporters: ['clear-text', 'progress', 'json', 'html'],
  jsonReporter: { fileName: 'reports/mutation/mutation.json' },
  htmlReporter: { fileName: 'reports/mutation/mutation.html' },
  thresholds: { high: 95, low: 90, break: null },
  concurrency: 2,
  timeoutMS: 60_000,
  tempDirName: '.stryker-tmp',
  cleanTempDir: 'always',
};
