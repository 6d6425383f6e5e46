/**
 * What the package's runtime is compiled from: tsconfig.build.json's files, laid out under an output
 * folder below the package root, as dist/ is (server/package-paths.ts looks upward for the package
 * root). A checkout's own compile (scripts/checkout-cli.mjs) takes the same files.
 */
import { join } from 'node:path';
import ts from 'typescript';
import { copyAssets, ROOT } from './checkout-cli.mjs';

export { copyAssets, ROOT };

/** The TypeScript files tsconfig.build.json compiles, as TypeScript reads its config. */
export function tsconfigBuildSources(): string[] {
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
