import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * Where loop-station's own files are. An installed package runs compiled JavaScript from `dist/`
 * (this file is then `dist/server/package-paths.js`); a development checkout runs the TypeScript
 * sources (this file is `server/package-paths.ts`). Assets that ship as they are (bin/, skills/,
 * examples/, docs/) sit at the package root in both.
 */
const here = fileURLToPath(import.meta.url);

/** True when running the compiled package, false when running the sources of a checkout. */
export const COMPILED = here.endsWith('.js');

/** The folder of the modules that run: `<package>/dist` when compiled, the checkout root otherwise. */
export const CODE_ROOT = resolve(dirname(here), '..');

/** The package root: the folder of package.json, bin/, skills/, examples/. */
export const PACKAGE_ROOT = COMPILED ? resolve(CODE_ROOT, '..') : CODE_ROOT;

/** A file shipped with the package, e.g. `packagePath('skills', 'loop-station')`. */
export const packagePath = (...parts: string[]): string => join(PACKAGE_ROOT, ...parts);

/** A module of the running code, e.g. `codePath('workflows', 'index')` gives its `.js` or `.ts` file. */
export const codePath = (...parts: string[]): string => `${join(CODE_ROOT, ...parts)}${COMPILED ? '.js' : '.ts'}`;

/** The `loop-station` executable script (it picks dist/ or the sources itself). */
export const BIN_PATH = packagePath('bin', 'loop-station.mjs');
