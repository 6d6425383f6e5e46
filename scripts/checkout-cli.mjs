// A development checkout's runtime, compiled once per content: bin/loop-station.mjs runs the CLI
// from here instead of through tsx, whose loader cost every start about 0.2 s (2026-12-07, this
// project's 2-core Intel Xeon: `--version` 0.27–0.35 s through tsx against 0.13 s compiled; `stop
// --now` to a running server 0.73–0.81 s against 0.49–0.51 s). Plain JavaScript, because it runs
// before any TypeScript loader; the transpile is esbuild's, file by file, as the test suite's CLI.
import { createHash } from 'node:crypto';
import {
  cpSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  utimesSync,
} from 'node:fs';
import { createRequire } from 'node:module';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('..', import.meta.url));

/** What runs: tsconfig.build.json's `include` (test/unit/checkout-cli.test.ts holds the two equal). */
export const RUNTIME = [
  'protocol',
  'workflows',
  'activities',
  'worker',
  'server',
  'cli',
  'ui',
  'scripts/build-workflow-bundle.ts',
];

/** Non-TypeScript folders that runtime modules read relative to themselves (the dashboard's static files). */
export const ASSET_DIRS = ['ui/static'];

/** Raised when transpile()'s options change, so no tree compiled before is used. */
const SETUP = 1;

/** A compiled tree not started for this long is removed when another is compiled. */
const UNUSED_MS = 2 * 24 * 3600_000;

/** A running process marks its tree as used this often, so that no tree is removed under it. */
const STILL_USED_EVERY_MS = 6 * 3600_000;

const isSource = (file) => file.endsWith('.ts') && !file.endsWith('.test.ts') && !file.endsWith('.d.ts');

const filesUnder = (dir) =>
  readdirSync(dir, { recursive: true })
    .map((name) => join(dir, name))
    .filter((path) => statSync(path).isFile());

/** The TypeScript files of the runtime, sorted. */
export function runtimeSources(root = ROOT) {
  const files = [];
  for (const entry of RUNTIME) {
    const path = join(root, entry);
    if (entry.endsWith('.ts')) files.push(path);
    else
      files.push(
        ...readdirSync(path, { recursive: true })
          .filter(isSource)
          .map((name) => join(path, name)),
      );
  }
  return files.sort();
}

const assetFiles = (root) =>
  ASSET_DIRS.filter((dir) => existsSync(join(root, dir)))
    .flatMap((dir) => filesUnder(join(root, dir)))
    .sort();

/** The content hash a compiled tree is named by: the sources, the assets, the compiler and its settings. */
export function sourcesKey(root = ROOT) {
  const require = createRequire(join(root, 'package.json'));
  const hash = createHash('sha256').update(`setup ${SETUP}\n`);
  hash.update(`esbuild ${JSON.parse(readFileSync(require.resolve('esbuild/package.json'), 'utf8')).version}\n`);
  hash.update(readFileSync(join(root, 'tsconfig.json')));
  for (const file of [...runtimeSources(root), ...assetFiles(root)])
    hash.update(`\0${relative(root, file)}\0`).update(readFileSync(file));
  return hash.digest('hex').slice(0, 16);
}

/**
 * The runtime transpiled file by file, without type checking, into `outDir` (one or more folders
 * below the package root: server/package-paths.ts looks upward for bin/loop-station.mjs), assets
 * included. esbuild does this in about 0.3 s, where `tsc` takes about ten.
 */
export function transpile(outDir, root = ROOT) {
  const { buildSync } = createRequire(join(root, 'package.json'))('esbuild');
  buildSync({
    entryPoints: runtimeSources(root),
    outdir: outDir,
    outbase: root,
    bundle: false,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    logLevel: 'silent',
  });
  copyAssets(outDir, root);
}

/** Copies ASSET_DIRS into `outDir`, where the compiled modules that read them look. */
export function copyAssets(outDir, root = ROOT) {
  for (const dir of ASSET_DIRS)
    if (existsSync(join(root, dir))) cpSync(join(root, dir), join(outDir, dir), { recursive: true });
}

/** Removes the compiled trees nobody has started for UNUSED_MS, and folders of compiles that died. */
function prune(cache, keep) {
  const now = Date.now();
  for (const name of readdirSync(cache)) {
    if (name === keep) continue;
    const path = join(cache, name);
    try {
      const idle = now - statSync(path).mtimeMs;
      if (idle > (name.includes('.tmp-') ? 600_000 : UNUSED_MS)) rmSync(path, { recursive: true, force: true });
    } catch {
      // Removed by another start meanwhile.
    }
  }
}

/**
 * The compiled CLI entry of this checkout: `.loop-station/cli/<sourcesKey>/cli/main.js`, compiled
 * first when the sources changed since. Concurrent starts each compile into a folder of their own
 * and rename it into place; the first rename wins. Throws what esbuild or the file system said.
 */
export function compileCheckout(root = ROOT) {
  const cache = join(root, '.loop-station', 'cli');
  const key = sourcesKey(root);
  const dir = join(cache, key);
  const entry = join(dir, 'cli', 'main.js');
  if (!existsSync(entry)) {
    mkdirSync(cache, { recursive: true });
    const temp = `${dir}.tmp-${process.pid}`;
    rmSync(temp, { recursive: true, force: true });
    try {
      transpile(temp, root);
      renameSync(temp, dir);
    } catch (error) {
      rmSync(temp, { recursive: true, force: true });
      // Another start renamed its tree into place first.
      if (!existsSync(entry)) throw error;
    }
    prune(cache, key);
  }
  const markUsed = () => {
    try {
      const now = new Date();
      utimesSync(dir, now, now);
    } catch {
      // Best effort: an unmarked tree is only removed once nobody started it for UNUSED_MS.
    }
  };
  markUsed();
  setInterval(markUsed, STILL_USED_EVERY_MS).unref();
  return entry;
}

/**
 * compileCheckout(), or undefined when the sources cannot be compiled there (a syntax error,
 * esbuild missing, a read-only checkout): bin/loop-station.mjs then runs them through tsx, which
 * reports such errors as before.
 */
export function compiledCheckout(root = ROOT) {
  try {
    return compileCheckout(root);
  } catch {
    return undefined;
  }
}
