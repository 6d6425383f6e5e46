import { describe, expect, test } from 'vitest';
import { runtimeSources, sourcesKey } from '../../scripts/checkout-cli.mjs';
import { tsconfigBuildSources } from '../../scripts/runtime-layout.js';

describe("a checkout's compiled CLI (scripts/checkout-cli.mjs)", () => {
  test('compiles the files the package compiles: tsconfig.build.json, as TypeScript reads it', () => {
    const shipped = tsconfigBuildSources().filter((file) => !file.endsWith('.d.ts'));
    expect(runtimeSources()).toEqual([...shipped].sort());
  });

  test('names a tree by content: the same sources give the same key', () => {
    expect(sourcesKey()).toMatch(/^[0-9a-f]{16}$/);
    expect(sourcesKey()).toBe(sourcesKey());
  });
});
