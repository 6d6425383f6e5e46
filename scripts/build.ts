/**
 * `npm run build` (and `prepack`): the package's runtime code compiled to dist/, then the workflow
 * bundle built from that compiled code, so an installed worker starts without bundling.
 */
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const require = createRequire(import.meta.url);
/** Non-TypeScript folders that runtime modules read relative to themselves (the dashboard's static files). */
const ASSET_DIRS = ['ui/static'];
const step = (args: string[]) => execFileSync(process.execPath, args, { cwd: root, stdio: 'inherit' });

rmSync(new URL('../dist', import.meta.url), { recursive: true, force: true });
step([require.resolve('typescript/bin/tsc'), '-p', 'tsconfig.build.json']);
// Files modules read beside themselves (new URL('./static/', import.meta.url)) go where the compiled module is.
for (const dir of ASSET_DIRS)
  if (existsSync(new URL(`../${dir}`, import.meta.url)))
    cpSync(new URL(`../${dir}`, import.meta.url), new URL(`../dist/${dir}`, import.meta.url), { recursive: true });
step(['dist/scripts/build-workflow-bundle.js', '--prebuilt']);
