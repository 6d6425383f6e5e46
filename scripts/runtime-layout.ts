/**
 * What the package's runtime is compiled from: tsconfig.build.json's files, laid out under an output
 * folder one level below the package root, as dist/ is (server/package-paths.ts takes the compiled
 * code's parent folder for the package root).
 */
import { cpSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import ts from 'typescript';

export const ROOT = fileURLToPath(new URL('..', import.meta.url));

/** Non-TypeScript folders that runtime modules read relative to themselves (the dashboard's static files). */
const ASSET_DIRS = ['ui/static'];

/** Copies ASSET_DIRS into `outDir`, where the compiled modules that read them look. */
export function copyAssets(outDir: string): void {
  for (const dir of ASSET_DIRS)
    if (existsSync(join(ROOT, dir))) cpSync(join(ROOT, dir), join(outDir, dir), { recursive: true });
}

/** The TypeScript files tsconfig.build.json compiles. */
export function runtimeSources(): string[] {
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

/**
 * The runtime compiled file by file without type checking, assets included, into `outDir`: what
 * the test suite runs the CLI from. esbuild, because it does this in well under a second where
 * `tsc` (even with --noCheck) takes about ten; `npm run build` keeps tsc for what ships.
 */
export async function transpileRuntime(outDir: string): Promise<void> {
  await build({
    entryPoints: runtimeSources(),
    outdir: outDir,
    outbase: ROOT,
    bundle: false,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    logLevel: 'error',
  });
  copyAssets(outDir);
}
