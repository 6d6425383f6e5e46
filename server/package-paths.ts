import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * Where loop-station's own files are. An installed package runs compiled JavaScript from `dist/`
 * (this file is then `dist/server/package-paths.js`); a development checkout runs its sources
 * compiled into `.loop-station/cli/<hash>/` (bin/loop-station.mjs), or through tsx (this file is then
 * `server/package-paths.ts`). Assets that ship as they are (bin/, skills/, examples/, docs/) sit at
 * the package root in each case.
 */
const here = fileURLToPath(import.meta.url);

/** True when running compiled JavaScript (the package's dist/, a checkout's compiled tree), false through tsx. */
export const COMPILED = here.endsWith('.js');

/** The folder of the modules that run: `<package>/dist` or a checkout's compiled tree, else the checkout root. */
export const CODE_ROOT = resolve(dirname(here), '..');

/** The nearest folder above `dir` that holds bin/loop-station.mjs. */
function packageRootAbove(dir: string): string {
  for (let at = dirname(dir); ; at = dirname(at)) {
    if (existsSync(join(at, 'bin', 'loop-station.mjs'))) return at;
    if (dirname(at) === at) throw new Error(`no loop-station package (bin/loop-station.mjs) above ${dir}`);
  }
}

/** The package root: the folder of package.json, bin/, skills/, examples/. */
export const PACKAGE_ROOT = COMPILED ? packageRootAbove(CODE_ROOT) : CODE_ROOT;

/** A file shipped with the package, e.g. `packagePath('skills', 'loop-station')`. */
export const packagePath = (...parts: string[]): string => join(PACKAGE_ROOT, ...parts);

/** A module of the running code, e.g. `codePath('workflows', 'index')` gives its `.js` or `.ts` file. */
export const codePath = (...parts: string[]): string => `${join(CODE_ROOT, ...parts)}${COMPILED ? '.js' : '.ts'}`;

/** The `loop-station` executable script (it picks dist/ or the sources itself). */
export const BIN_PATH = packagePath('bin', 'loop-station.mjs');
