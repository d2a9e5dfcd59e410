// @ts-check
import tseslint from 'typescript-eslint';

/** Modules a workflow must never load: they break determinism or the sandbox. */
const workflowRestrictedImports = {
  paths: [
    { name: 'nats', message: 'Workflows are deterministic: reach NATS from an activity.' },
    { name: 'pino', message: 'Workflows log through `log` from @temporalio/workflow.' },
    { name: 'openai', message: 'Call vendors from an activity.' },
    { name: '@anthropic-ai/sdk', message: 'Call vendors from an activity.' },
    { name: '@temporalio/worker', message: 'Workflow code runs in the sandbox, not the worker.' },
    { name: '@temporalio/client', message: 'Use child workflows or activities from workflow code.' },
  ],
  patterns: [
    { group: ['node:*', 'fs', 'path', 'crypto', 'http', 'https', 'net', 'os', 'child_process'], message: 'Workflows are deterministic: no Node built-ins.' },
    {
      group: ['**/activities', '**/activities/*', '**/activities/**'],
      allowTypeImports: true,
      message: 'Import activities by type only (`import type * as x from ...` + proxyActivities).',
    },
    {
      group: [
        '**/services',
        '**/services/**',
        '**/lib/nats',
        '**/lib/nats/**',
        '**/lib/vendors',
        '**/lib/vendors/**',
        '**/lib/config',
        '**/lib/config/**',
        '**/lib/control',
        '**/lib/control/**',
        '**/lib/client',
        '**/lib/client/**',
        '**/lib/log',
        '**/lib/upstreams/pool',
        // node:crypto; lib/cache/embedding stays allowed
        '**/lib/cache',
        '**/lib/cache/index',
        '**/lib/cache/exact-key',
        '**/lib/cache/semantic',
      ],
      allowTypeImports: true,
      message: 'Workflows must not load I/O modules.',
    },
  ],
};

export default tseslint.config(
  { ignores: ['node_modules/', 'dist/', '.tools/', '.data/', 'coverage/', 'bench/results/'] },
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': ['error', { prefer: 'type-imports', fixStyle: 'inline-type-imports', disallowTypeAnnotations: false }],
    },
  },
  {
    // contracts/ is imported by workflow code: the same rules hold there.
    files: ['workflows/**/*.ts', 'contracts/**/*.ts'],
    rules: {
      '@typescript-eslint/no-restricted-imports': ['error', workflowRestrictedImports],
      'no-restricted-globals': [
        'error',
        { name: 'setTimeout', message: 'Use sleep() from @temporalio/workflow.' },
        { name: 'setInterval', message: 'Use sleep() in a loop.' },
      ],
    },
  },
  {
    // The arrow points one way: workflows import contracts, lib and activities; nothing but the worker's bundler and tests imports workflows.
    files: ['lib/**/*.ts', 'activities/**/*.ts', 'services/**/*.ts', 'contracts/**/*.ts', 'schemas/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ['**/workflows', '**/workflows/*', '**/workflows/**'],
              message: 'Import names, failure types and workflow signatures from contracts/, not workflow code.',
            },
          ],
        },
      ],
    },
  },
  {
    files: ['**/*.js', '**/*.mjs'],
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
);
