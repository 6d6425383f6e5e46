// Lint: type-aware rules that catch lost promises, plus per-zone import bans (STYLE.md §3).
import { createTypeScriptImportResolver } from 'eslint-import-resolver-typescript';
import { importX } from 'eslint-plugin-import-x';
import tseslint from 'typescript-eslint';

const nodeBuiltins = ['node:*', 'fs', 'fs/promises', 'path', 'child_process', 'os', 'crypto', 'http', 'https', 'net', 'process', 'stream', 'timers', 'worker_threads'];

export default tseslint.config(
  { ignores: ['node_modules/**', 'dist/**', 'coverage/**', 'bench/tmp/**', 'test/artifacts/**', 'examples/**/data/**', '**/*.mjs', '**/*.cjs', '**/*.js'] },
  {
    files: ['**/*.ts'],
    extends: [tseslint.configs.recommended],
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/await-thenable': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', destructuredArrayIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': ['error', { fixStyle: 'inline-type-imports' }],
      'no-console': 'off',
    },
  },
  {
    // No import cycles: a cycle hides which module owns a concept and makes load order matter.
    files: ['**/*.ts'],
    plugins: { 'import-x': importX },
    settings: {
      'import-x/extensions': ['.ts', '.js', '.mjs'],
      'import-x/parsers': { '@typescript-eslint/parser': ['.ts'] },
      'import-x/resolver-next': [createTypeScriptImportResolver({ project: './tsconfig.json' })],
    },
    rules: { 'import-x/no-cycle': ['error', { ignoreExternal: true }] },
  },
  {
    files: ['protocol/**/*.ts'],
    ignores: ['protocol/**/*.test.ts'],
    rules: {
      'no-restricted-imports': ['error', { patterns: [...nodeBuiltins, '@temporalio/*', 'execa', '../activities/*', '../workflows/*', '../cli/*', '../worker/*', '../server/*'] }],
      'no-restricted-globals': ['error', 'process', 'console'],
      'no-restricted-properties': ['error', { object: 'Date', property: 'now', message: 'protocol/ is pure: take the time as an argument' }, { object: 'Math', property: 'random', message: 'protocol/ is pure' }],
    },
  },
  {
    files: ['workflows/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', { patterns: [...nodeBuiltins, 'execa', '@temporalio/client', '@temporalio/worker', '@temporalio/activity', '../cli/*', '../worker/*', '../server/*'] }],
      'no-restricted-properties': ['error', { object: 'Date', property: 'now', message: 'use workflow time via new Date() only where replay-safe' }, { object: 'Math', property: 'random', message: 'use uuid4() from @temporalio/workflow' }],
      'no-restricted-globals': ['error', 'process', 'console'],
    },
  },
  {
    files: ['cli/**/*.ts'],
    rules: {
      'max-len': ['error', { code: 120, ignoreUrls: true }],
      'no-restricted-imports': ['error', { patterns: ['../worker/*', '../../worker/*', '../activities/*', '../../activities/*', '@temporalio/worker', '@temporalio/activity'] }],
    },
  },
);
