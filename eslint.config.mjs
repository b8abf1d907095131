// @ts-check
import eslint from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['node_modules/', 'cdk.out/', 'coverage/', 'reports/', '.stryker-tmp/', '**/*.d.ts'] },
  eslint.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: {
        projectService: { allowDefaultProject: ['*.js', '*.mjs', 'bin/*.js'] },
        tsconfigRootDir: import.meta.dirname,
      },
    },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': ['error', { fixStyle: 'inline-type-imports' }],
      'no-console': 'error',
      eqeqeq: 'error',
    },
  },
  {
    // CloudFormation templates and jest's asymmetric matchers are untyped by nature; fakes answer async without awaiting.
    files: ['test/**/*.ts'],
    rules: {
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/require-await': 'off',
    },
  },
  {
    // The local runtime's emulators answer the SDK's async interfaces, often without awaiting anything.
    files: ['local/**/*.ts'],
    rules: { '@typescript-eslint/require-await': 'off' },
  },
  {
    // The virtual world reads no real time (docs/ARCHITECTURE.md, "The local two-site runtime"): the handlers take
    // their clocks as arguments and their deadlines from lambdas/shared/deadlines.ts, which the local runtime
    // switches to virtual time. Only the Lambda shells (index.ts) and the deadlines module read real time.
    files: ['lambdas/**/*.ts', 'local/**/*.ts'],
    // local/dynamo.ts starts a Java process, in real time, before the virtual world begins.
    ignores: ['lambdas/*/index.ts', 'lambdas/shared/shell.ts', 'lambdas/shared/deadlines.ts', 'local/dynamo.ts'],
    rules: {
      'no-restricted-properties': [
        'error',
        {
          object: 'Date',
          property: 'now',
          message: 'take the time as an argument (the local runtime runs on virtual time)',
        },
        { object: 'performance', property: 'now', message: 'take the monotonic clock as an argument' },
        { object: 'AbortSignal', property: 'timeout', message: 'use deadlineSignal (lambdas/shared/deadlines.ts)' },
      ],
      'no-restricted-globals': [
        'error',
        { name: 'setTimeout', message: 'use deadlineTimer (lambdas/shared/deadlines.ts) or an injected sleep' },
        { name: 'setInterval', message: 'the virtual world has no real timers' },
      ],
    },
  },
  {
    files: ['**/*.js', '**/*.mjs'],
    extends: [tseslint.configs.disableTypeChecked],
    languageOptions: {
      globals: { require: 'readonly', module: 'writable', process: 'readonly', __dirname: 'readonly' },
    },
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
);
