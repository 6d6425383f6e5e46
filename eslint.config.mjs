// Lint: type-aware rules that catch lost promises, plus per-zone import bans (docs/architecture.md#import-rules).
import tseslint from 'typescript-eslint';
import { createTypeScriptImportResolver } from 'eslint-import-resolver-typescript';
import importX from 'eslint-plugin-import-x';

const nodeBuiltins = [
  'node:*',
  'fs',
  'fs/promises',
  'path',
  'child_process',
  'os',
  'crypto',
  'http',
  'https',
  'net',
  'process',
  'stream',
  'timers',
  'worker_threads',
];

export default tseslint.config(
  {
    ignores: [
      'node_modules/**',
      'dist/**',
      'coverage/**',
      'bench/tmp/**',
      'test/artifacts/**',
      'examples/**/data/**',
      '**/*.mjs',
      '**/*.cjs',
      '**/*.js',
    ],
  },
  {
    files: ['**/*.ts'],
    extends: [tseslint.configs.recommended],
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    plugins: { 'import-x': importX },
    // Resolves `./x.js` specifiers to the `.ts` sources (NodeNext), so cycles are seen across files.
    settings: {
      'import-x/extensions': ['.ts', '.mts', '.js', '.mjs'],
      'import-x/parsers': { '@typescript-eslint/parser': ['.ts', '.mts'] },
      'import-x/resolver-next': [createTypeScriptImportResolver({ project: `${import.meta.dirname}/tsconfig.json` })],
    },
    rules: {
      // A run-time import cycle anywhere fails lint; `import type` is erased at build and not counted.
      'import-x/no-cycle': ['error', { ignoreExternal: true }],
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/await-thenable': 'error',
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', destructuredArrayIgnorePattern: '^_' },
      ],
      '@typescript-eslint/consistent-type-imports': ['error', { fixStyle: 'inline-type-imports' }],
      'no-console': 'off',
    },
  },
  {
    files: ['protocol/**/*.ts'],
    ignores: ['protocol/**/*.test.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            ...nodeBuiltins,
            '@temporalio/*',
            'execa',
            '../activities/*',
            '../workflows/*',
            '../cli/*',
            '../worker/*',
            '../server/*',
          ],
        },
      ],
      'no-restricted-globals': ['error', 'process', 'console'],
      'no-restricted-properties': [
        'error',
        { object: 'Date', property: 'now', message: 'protocol/ is pure: take the time as an argument' },
        { object: 'Math', property: 'random', message: 'protocol/ is pure' },
      ],
    },
  },
  {
    files: ['workflows/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            ...nodeBuiltins,
            'execa',
            'markdown-it',
            '@temporalio/client',
            '@temporalio/worker',
            '@temporalio/activity',
            '../cli/*',
            '../worker/*',
            '../server/*',
          ],
        },
      ],
      'no-restricted-properties': [
        'error',
        { object: 'Date', property: 'now', message: 'use workflow time via new Date() only where replay-safe' },
        { object: 'Math', property: 'random', message: 'use uuid4() from @temporalio/workflow' },
      ],
      'no-restricted-globals': ['error', 'process', 'console'],
      // Thin workflows: state and steps in a class beside the workflow function, each step a screen or two.
      'max-lines-per-function': ['error', { max: 120, skipBlankLines: true, skipComments: true }],
    },
  },
  {
    // The dashboard is a Temporal client like cli/: it may read protocol/, workflows/messages.ts,
    // server/ and cli/ helpers, never worker or activity code.
    files: ['ui/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            '../worker/*',
            '../../worker/*',
            '../activities/*',
            '../../activities/*',
            '@temporalio/worker',
            '@temporalio/activity',
            '@temporalio/workflow',
          ],
        },
      ],
    },
  },
  {
    files: ['cli/**/*.ts'],
    rules: {
      'max-len': ['error', { code: 120, ignoreUrls: true }],
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            '../worker/*',
            '../../worker/*',
            '../activities/*',
            '../../activities/*',
            '@temporalio/worker',
            '@temporalio/activity',
          ],
        },
      ],
    },
  },
);
