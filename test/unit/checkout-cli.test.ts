import { join } from 'node:path';
import ts from 'typescript';
import { describe, expect, test } from 'vitest';
import { ROOT, runtimeSources, sourcesKey } from '../../scripts/checkout-cli.mjs';

/** The TypeScript files tsconfig.build.json compiles (what `npm run build` ships), as TypeScript reads its config. */
function tsconfigBuildSources(): string[] {
  const parsed = ts.getParsedCommandLineOfConfigFile(
    join(ROOT, 'tsconfig.build.json'),
    {},
    {
      ...ts.sys,
      onUnRecoverableConfigFileDiagnostic: (d) => {
        throw new Error(`tsconfig.build.json: ${ts.flattenDiagnosticMessageText(d.messageText, '\n')}`);
      },
    },
  );
  if (!parsed) throw new Error('tsconfig.build.json: could not be read');
  return parsed.fileNames;
}

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
